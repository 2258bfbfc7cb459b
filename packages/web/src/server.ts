import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HindsightError, errorMessage, type Bundle, type Warning } from '@hindsight/core';
import { Worker } from 'node:worker_threads';
import { BundleView } from './data.js';
import { callsOf } from './calls-route.js';
import type { Overview } from './model.js';
import type { BundleRecords, MinedLogs, Report } from '@hindsight/investigate';

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** A bundle folder or .tar.gz. */
  bundle: string;
  /**
   * `bundle` opened by the caller, who closes it after the server: the views and the investigation
   * read its folder, so an archive is unpacked once. Opened here when absent.
   */
  opened?: Bundle;
  /** The port on 127.0.0.1; 0 (the default) lets the system pick a free one. */
  port?: number;
  /**
   * Runs the investigation of the bundle; its result is served as the report. By default
   * `investigate` of @hindsight/investigate, in a worker thread, whose records and mined logs the
   * views show (the bundle is read and its logs mined once); a function given here leaves the
   * views to read the bundle themselves. `false` serves the bundle's data without a report.
   * When it fails, the views of the bundle's data still work and the failure is a warning.
   */
  investigate?: ((bundle: string) => Promise<Report>) | false;
  /** The built app; by default the one shipped in this package (dist/app). */
  appDir?: string;
  /** When the incident was known to be under way (unix ms), for the default investigation. */
  incidentAt?: number;
  /** The user's own redaction patterns (`--redact-pattern`), applied with the catalogue to everything served. */
  redactPatterns?: readonly RegExp[];
}

/** A running web view of one bundle. */
export interface WebServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  readonly port: number;
  /** Settles when the bundle has been read (or failed to be): the state the app first shows. */
  readonly ready: Promise<Overview>;
  close(): Promise<void>;
}

/** Where the Vite build of the app lands (packages/web/dist/app), next to this compiled file. */
export const defaultAppDir: string = path.join(path.dirname(fileURLToPath(import.meta.url)), 'app');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

// The app needs nothing from elsewhere; uPlot sets inline styles from script, which CSP allows.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'";

type State =
  | { state: 'loading' }
  | { state: 'error'; error: { code: string; message: string; where?: string } }
  | { state: 'ready'; data: BundleView; report: Report | null; warnings: Warning[] };

/** What an investigation gives the server: the report, and what it read when it can pass that on. */
interface Investigation {
  report: Report;
  logs?: MinedLogs;
  records?: BundleRecords;
}

/**
 * Serves the web view of a bundle on loopback: a JSON API over the bundle and its investigation,
 * and the built app. The server listens at once and reads the bundle in the background, so the
 * page can say "reading" for a large bundle and show a clear error page for a bad one.
 */
export async function startServer(options: ServeOptions): Promise<WebServer> {
  const appDir = options.appDir ?? defaultAppDir;
  let state: State = { state: 'loading' };
  let worker: Worker | undefined;
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      // decodeURIComponent throws URIError on a malformed escape (`/%`, `%E0%A4%A`): the
      // request is bad, not the server.
      else if (err instanceof URIError)
        sendJson(res, 400, {
          error: { code: 'HINDSIGHT_USAGE', message: 'the path holds a malformed percent-escape' },
        });
      else sendJson(res, 500, { error: { code: 'HINDSIGHT_INTERNAL', message: errorMessage(err) } });
    });
  });
  // Only this machine can reach the view: it shows logs and config that may be sensitive.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/`;

  // Closing while the investigation runs stops it; the views must not then mine the logs themselves.
  const closing = new AbortController();
  const ready = (async (): Promise<Overview> => {
    const given = options.investigate;
    // The default runs in a worker, and the records it read and the logs it mined come back with
    // its report, so the views read nothing again (unless it fails). A function given instead
    // yields a report alone: the views read the bundle meanwhile.
    const investigation: Promise<Investigation | null> =
      given === false
        ? Promise.resolve(null)
        : given
          ? given(options.bundle).then((report) => ({ report }))
          : investigateInWorker(
              options.bundle,
              options.opened?.root,
              options.incidentAt,
              options.redactPatterns,
              (w) => (worker = w),
            );
    investigation.catch(() => undefined);
    const shared = <T>(pick: (i: Investigation) => T | undefined): Promise<T | undefined> | undefined =>
      given === undefined
        ? investigation.then(
            (i) => (i ? pick(i) : undefined),
            () => undefined,
          )
        : undefined;
    try {
      const data = await BundleView.load(
        options.opened ?? options.bundle,
        shared((i) => i.logs),
        closing.signal,
        options.redactPatterns,
        shared((i) => i.records),
      );
      let report: Report | null = null;
      const warnings: Warning[] = [];
      if (given !== false) {
        try {
          report = (await investigation)?.report ?? null;
        } catch (err) {
          warnings.push({
            stage: 'analyze',
            name: 'investigate',
            code: err instanceof HindsightError ? err.code : 'HINDSIGHT_ANALYZER_FAILED',
            message: `the investigation failed; the bundle's data is shown without it: ${errorMessage(err)}`,
          });
        }
      }
      // The investigation read the same records and reports the same bad ones: list each once.
      const reportWarnings = report?.warnings ?? [];
      const seen = new Set<string>();
      const all = [...data.readWarnings(reportWarnings), ...warnings, ...reportWarnings].filter((w) => {
        const k = `${w.code}|${w.where ?? w.name}|${w.message}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      state = { state: 'ready', data, report, warnings: all };
    } catch (err) {
      state = {
        state: 'error',
        error:
          err instanceof HindsightError
            ? {
                code: err.code,
                // The message ends with `(where)`; the page shows where on its own line.
                message: err.where === undefined ? err.message : err.message.replace(` (${err.where})`, ''),
                ...(err.where !== undefined ? { where: err.where } : {}),
              }
            : { code: 'HINDSIGHT_INTERNAL', message: errorMessage(err) },
      };
    }
    return overview();
  })();

  function overview(): Overview {
    if (state.state === 'loading') return { state: 'loading', bundle: options.bundle };
    if (state.state === 'error') return { state: 'error', bundle: options.bundle, error: state.error };
    const d = state.data;
    return {
      state: 'ready',
      bundle: options.bundle,
      manifest: d.manifest,
      components: d.components(),
      pods: d.pods.map((p) => ({
        name: p.name,
        namespace: p.namespace,
        ...(p.component !== undefined ? { component: p.component } : {}),
        ...(p.phase !== undefined ? { phase: p.phase } : {}),
      })),
      warnings: state.warnings,
      counts: {
        series: d.series.length,
        changes: d.changes.length,
        events: d.events.length,
        templates: d.templateList().length,
        logLines: d.logLines,
      },
      report: state.report,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A page on another site could make the browser send requests to this port under its own
    // host name (DNS rebinding); only requests addressed to loopback are answered.
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
      sendJson(res, 403, {
        error: { code: 'HINDSIGHT_USAGE', message: `requests for host ${host} are refused` },
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: { code: 'HINDSIGHT_USAGE', message: 'only GET is served' } });
      return;
    }
    const u = new URL(req.url ?? '/', url);
    if (u.pathname.startsWith('/api/')) {
      await api(u, res);
      return;
    }
    await serveStatic(u.pathname, res);
  }

  async function api(u: URL, res: ServerResponse): Promise<void> {
    const p = u.pathname;
    const q = u.searchParams;
    if (p === '/api/overview') {
      sendJson(res, 200, overview());
      return;
    }
    if (state.state !== 'ready') {
      const s = overview();
      sendJson(res, state.state === 'loading' ? 503 : 500, s.state === 'error' ? { error: s.error } : s);
      return;
    }
    const d = state.data;
    const component = q.get('component') ?? undefined;
    const pod = q.get('pod') ?? undefined;
    if (p === '/api/report') {
      sendJson(res, 200, { report: state.report, warnings: state.warnings });
      return;
    }
    if (p === '/api/timeline') {
      const items = d
        .timeline()
        .filter((i) => component === undefined || i.component === undefined || i.component === component)
        .filter((i) => pod === undefined || i.pod === undefined || i.pod === pod);
      sendJson(res, 200, { window: d.bundle.windowMs, items });
      return;
    }
    if (p === '/api/series') {
      const key = q.get('key');
      const name = q.get('name');
      if (key !== null) {
        const s = d.seriesByKey(key);
        if (!s) return notFound(res, `no series ${key}`);
        sendJson(res, 200, { series: [s] });
        return;
      }
      if (name !== null) {
        let labels: Record<string, string> = {};
        for (const [k, v] of q) if (k.startsWith('label.')) labels = { ...labels, [k.slice(6)]: v };
        const found = d.findSeries(name, labels);
        if (found.length === 0)
          return notFound(res, `no series ${name} with labels ${JSON.stringify(labels)}`);
        sendJson(res, 200, { series: found });
        return;
      }
      const list = d.seriesInfo
        .filter((s) => component === undefined || s.component === component)
        .filter((s) => pod === undefined || s.pod === undefined || s.pod === pod);
      sendJson(res, 200, { series: list });
      return;
    }
    if (p === '/api/templates') {
      sendJson(res, 200, {
        bucketMs: d.bucketMs,
        templates: d.templateList({
          ...(component !== undefined ? { component } : {}),
          ...(pod !== undefined ? { pod } : {}),
        }),
      });
      return;
    }
    const tm = /^\/api\/templates\/([^/]+)\/(rates|lines)$/.exec(p);
    if (tm) {
      const id = decodeURIComponent(tm[1] as string);
      if (tm[2] === 'rates') {
        const r = d.templateRates(id);
        if (!r) return notFound(res, `no template ${id}`);
        sendJson(res, 200, r);
        return;
      }
      const limit = Math.min(2000, Math.max(1, Number(q.get('limit') ?? 200) || 200));
      const from = q.get('from');
      const to = q.get('to');
      const r = await d.templateLines(id, {
        limit,
        ...(pod !== undefined ? { pod } : {}),
        ...(from !== null && Number.isFinite(Number(from)) ? { fromMs: Number(from) } : {}),
        ...(to !== null && Number.isFinite(Number(to)) ? { toMs: Number(to) } : {}),
      });
      if (!r) return notFound(res, `no template ${id}`);
      sendJson(res, 200, r);
      return;
    }
    if (p === '/api/changes') {
      sendJson(res, 200, { changes: d.changes });
      return;
    }
    if (p === '/api/calls') return sendJson(res, 200, await callsOf(d.bundle, d.bucketMs));
    const cm = /^\/api\/changes\/([^/]+)$/.exec(p);
    if (cm) {
      const id = decodeURIComponent(cm[1] as string);
      const c = d.changes.find((x) => x.id === id);
      if (!c) return notFound(res, `no change ${id}`);
      sendJson(res, 200, { change: c });
      return;
    }
    notFound(res, `no endpoint ${p}`);
  }

  async function serveStatic(pathname: string, res: ServerResponse): Promise<void> {
    const rel = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
    const file = path.resolve(appDir, `.${rel}`);
    if (!file.startsWith(appDir + path.sep)) return notFound(res, 'not found');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      if (rel === '/index.html') {
        // Not built: say so rather than answer a blank 404.
        sendHtml(
          res,
          500,
          `<h1>hindsight: the web app is not built</h1><p>Build it with <code>npm run build:web</code> in the hindsight repository, then run <code>hindsight serve</code> again.</p><p>The JSON API works: <a href="/api/overview">/api/overview</a>.</p>`,
        );
        return;
      }
      return notFound(res, 'not found');
    }
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      // Hashed asset names never change content; index.html must be fetched fresh.
      'cache-control': rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(body);
  }

  return {
    url,
    port,
    ready,
    async close() {
      closing.abort(new Error('the server was closed while reading the bundle'));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await worker?.terminate();
      await ready.catch(() => undefined);
      if (state.state === 'ready') await state.data.close();
    },
  };
}

/**
 * Runs `investigate` in a worker thread, so the server answers meanwhile; the records it read and
 * the logs it mined come back with the report.
 */
function investigateInWorker(
  bundle: string,
  unpacked: string | undefined,
  incidentAt: number | undefined,
  redactPatterns: readonly RegExp[] | undefined,
  started: (w: Worker) => void,
): Promise<Investigation> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./investigate-worker.js', import.meta.url), {
      workerData: {
        bundle,
        ...(unpacked !== undefined ? { unpacked } : {}),
        ...(incidentAt !== undefined ? { incidentAt } : {}),
        ...(redactPatterns ? { redactPatterns } : {}),
      },
    });
    started(worker);
    worker.once(
      'message',
      (
        m:
          | { ok: true; report: Report; logs?: MinedLogs; records?: BundleRecords }
          | { ok: false; error: { code: string; message: string } },
      ) => {
        if (m.ok)
          resolve({
            report: m.report,
            ...(m.logs ? { logs: m.logs } : {}),
            ...(m.records ? { records: m.records } : {}),
          });
        else reject(new Error(`${m.error.message} [${m.error.code}]`));
        void worker.terminate();
      },
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the investigation stopped (exit code ${code})`)));
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

function sendHtml(res: ServerResponse, status: number, body: string): void {
  const text = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hindsight</title></head><body style="font-family:system-ui;max-width:40rem;margin:3rem auto">${body}</body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP });
  res.end(text);
}

function notFound(res: ServerResponse, message: string): void {
  sendJson(res, 404, { error: { code: 'HINDSIGHT_USAGE', message } });
}
