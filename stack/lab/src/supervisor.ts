// The lab's supervisor: a background process per lab that runs the pods, the Service proxies and
// the Kubernetes API, and takes orders (apply a revision, status, shut down) on the same port.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { appendFileSync } from 'node:fs';
import { errorMessage } from '@hindsight/core';
import { createKubeApi, type KubeObject } from './kube-api.js';
import { writeKubeconfig } from './kubeconfig.js';
import { readLabConfig } from './lab-config.js';
import { labPaths, shopEntry, type LabPaths } from './paths.js';
import { ReleaseStore } from './release-store.js';
import { LabRuntime } from './runtime/index.js';
import { startTraceReceiver, type TraceReceiver } from './traces/receiver.js';

/** The prefix of the supervisor's control endpoints, beside the Kubernetes API. */
export const CONTROL_PREFIX = '/hindsight-lab/v1';

/**
 * The headers a control request carries: the token the supervisor of the lab in `paths` wrote
 * (readable by the lab's owner alone). Undefined when there is none (no supervisor yet).
 */
export function controlHeaders(paths: Pick<LabPaths, 'controlToken'>): Record<string, string> | undefined {
  try {
    return { authorization: `Bearer ${readFileSync(paths.controlToken, 'utf8').trim()}` };
  } catch {
    return undefined;
  }
}

/** Writes a fresh random control token, readable and writable by the lab's owner alone. */
function newControlToken(file: string): string {
  const token = randomBytes(32).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  // The mode of writeFileSync applies only to a file it creates: one left by an earlier run is fixed.
  chmodSync(file, 0o600);
  return token;
}

/**
 * Why a control request is refused, or undefined when it may proceed. The Host must name loopback
 * at the supervisor's port (a web page's script, sent here by a DNS name rebound to 127.0.0.1,
 * carries its own host name), and the request must carry the token: any local user can reach a
 * loopback port, only the lab's owner can read the token.
 */
function refusal(
  req: IncomingMessage,
  port: number,
  token: string,
): { code: number; error: string } | undefined {
  const host = req.headers.host ?? '';
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
    return { code: 403, error: `control requests for host ${JSON.stringify(host)} are refused` };
  const given = Buffer.from(/^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
  const want = Buffer.from(token);
  if (given.length !== want.length || !timingSafeEqual(given, want))
    return {
      code: 401,
      error: 'a control request needs the token of the lab (control-token in its state folder)',
    };
  return undefined;
}

/** Runs a lab's supervisor for state folder `dir` until it is told to shut down. */
export async function runSupervisor(dir: string): Promise<void> {
  const paths = labPaths(dir);
  const config = await readLabConfig(paths.config);
  if (!config) throw new Error(`no lab.json in ${paths.root}`);
  const log = (msg: string) => {
    try {
      appendFileSync(paths.supervisorLog, `${new Date().toISOString()} ${msg}\n`);
    } catch {
      /* state folder removed */
    }
  };
  const token = newControlToken(paths.controlToken);
  const store = new ReleaseStore(paths.releases, config.namespace);
  let apiPort = 0;
  let applying: number | undefined;
  let lastError: string | undefined;
  let statusTimer: NodeJS.Timeout | undefined;
  const status = () => {
    const snap = runtime.snapshot();
    const nginx =
      snap.services.find((s) => s.name === `${config.release}-nginx`) ??
      snap.services.find((s) => s.name.endsWith('-nginx'));
    return {
      release: config.release,
      namespace: config.namespace,
      supervisorPid: process.pid,
      apiPort,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      kubeconfig: paths.kubeconfig,
      nginxUrl: nginx ? `http://127.0.0.1:${nginx.localPort}` : undefined,
      tracesUrl: traces?.url,
      applying,
      lastError,
      updatedAt: new Date().toISOString(),
      ...snap,
    };
  };
  const writeStatus = () => {
    statusTimer = undefined;
    try {
      const tmp = `${paths.status}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(status(), null, 2)}\n`);
      renameSync(tmp, paths.status);
    } catch {
      /* state folder removed */
    }
  };
  const runtime = new LabRuntime({
    paths,
    namespace: config.namespace,
    timeScale: config.timeScale,
    monitoring: config.monitoring === true,
    shopEntry,
    log,
    onChange: () => {
      statusTimer ??= setTimeout(writeStatus, 100);
    },
  });

  // The shop's spans: received before the first pod starts, so none of its requests go untraced.
  let traces: TraceReceiver | undefined;
  if (config.tracesPort !== undefined) {
    try {
      traces = await startTraceReceiver({ dir: paths.traces, port: config.tracesPort, log });
      log(`trace receiver on ${traces.url} (OTLP/HTTP JSON in, Tempo's query API out)`);
    } catch (err) {
      // Spans are not worth a lab that does not start: the shop's exports fail, and say so.
      log(`trace receiver not started on 127.0.0.1:${config.tracesPort}: ${errorMessage(err)}`);
    }
  }

  let queue = Promise.resolve();
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    log('shutting down');
    await runtime.shutdown().catch((err: unknown) => log(`shutdown: ${errorMessage(err)}`));
    // After the pods: a stopping shop flushes its last spans.
    await traces?.close();
    writeStatus();
    server.close();
    server.closeAllConnections();
    log('stopped');
    // Everything this process started is stopped; nothing else keeps it.
    setTimeout(() => process.exit(0), 50).unref();
  };

  const json = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const control = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (!url.pathname.startsWith(CONTROL_PREFIX)) return false;
    const refused = refusal(req, apiPort, token);
    if (refused) {
      json(res, refused.code, { error: refused.error });
      return true;
    }
    const action = url.pathname.slice(CONTROL_PREFIX.length);
    if (action === '/status' && req.method === 'GET') {
      json(res, 200, status());
    } else if (action === '/apply' && req.method === 'POST') {
      const revision = Number(url.searchParams.get('revision'));
      // A client that stops waiting (Ctrl-C on `lab up`) closes the connection: the rollout stops
      // where it is, instead of running on for minutes nobody waits for.
      const gone = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) gone.abort(new Error('the client stopped waiting'));
      });
      const job = queue.then(async () => {
        const rel = await store.get(config.release, revision);
        if (!rel) throw new Error(`no revision ${revision} of release ${config.release}`);
        applying = revision;
        log(`applying revision ${revision}`);
        try {
          await runtime.apply(rel.manifest, revision, gone.signal);
          lastError = undefined;
        } finally {
          applying = undefined;
          writeStatus();
        }
      });
      queue = job.catch(() => undefined);
      try {
        await job;
        log(`revision ${revision} applied`);
        json(res, 200, { ok: true, revision });
      } catch (err) {
        lastError = errorMessage(err);
        log(`revision ${revision} failed: ${lastError}`);
        json(res, 200, { ok: false, revision, error: lastError });
      }
    } else if (action === '/shutdown' && req.method === 'POST') {
      await queue.catch(() => undefined);
      json(res, 200, { ok: true });
      void shutdown();
    } else {
      json(res, 404, { error: `unknown control endpoint ${req.method} ${url.pathname}` });
    }
    return true;
  };

  const server = createKubeApi(
    runtime.view(async () => (await store.secrets()) as unknown as KubeObject[]),
    control,
  );
  // An apply waits for pods to be ready, which can take minutes: no request timeout.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  apiPort = typeof addr === 'object' && addr ? addr.port : 0;
  await writeKubeconfig(paths.kubeconfig, `http://127.0.0.1:${apiPort}`, config.namespace);
  writeStatus();
  log(`supervisor ${process.pid} serving the Kubernetes API on 127.0.0.1:${apiPort}`);
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.on('uncaughtException', (err) => {
    log(`uncaught: ${err.stack ?? err.message}`);
    void shutdown();
  });
}
