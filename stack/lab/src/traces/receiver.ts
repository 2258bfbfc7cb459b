// The lab's trace backend on loopback: an OTLP/HTTP receiver the shop exports to, and the part of
// Tempo's HTTP query API that `hindsight collect --tempo` reads, over the spans it keeps.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { errorMessage } from '@hindsight/core';
import { TraceStore, resourceSpansOf } from './store.js';

/** A running receiver. */
export interface TraceReceiver {
  /** Its base URL: OTLP at `/v1/traces`, Tempo's API at `/api/search` and `/api/traces/ID`. */
  url: string;
  store: TraceStore;
  close(): Promise<void>;
}

// An export request is a batch of at most 512 spans by default (the SDK's maxExportBatchSize):
// a few hundred kilobytes. Anything far larger is not a tracer's.
const MAX_BODY_BYTES = 32 * 1024 * 1024;
// Tempo's default search limit.
const DEFAULT_LIMIT = 20;

const gunzipAsync = promisify(gunzip);

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `an export request above ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'gzip') return gunzipAsync(body, { maxOutputLength: MAX_BODY_BYTES });
  if (encoding !== 'identity') throw new HttpError(415, `content-encoding ${encoding} is not read (gzip is)`);
  return body;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Reads one logfmt `key=value` or `key="value"` pair per tag (`service.name=shop`). */
function parseTags(text: string | null): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const m of text.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = m[2] as string;
    out.push(`${m[1] as string}=${raw.startsWith('"') ? (JSON.parse(raw) as string) : raw}`);
  }
  return out;
}

function seconds(v: string | null, fallback: number): number {
  const n = v === null || v === '' ? Number.NaN : Number(v);
  return Number.isFinite(n) ? n * 1000 : fallback;
}

async function receive(req: IncomingMessage, res: ServerResponse, store: TraceStore): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new HttpError(
      415,
      `this receiver reads OTLP/HTTP JSON, not ${type || 'a body without a content-type'} (exporter protocol http/json)`,
    );
  let doc: unknown;
  try {
    doc = JSON.parse((await readBody(req)).toString('utf8'));
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, `the body is not JSON: ${errorMessage(err)}`);
  }
  const rs = resourceSpansOf(doc);
  if (!rs) throw new HttpError(400, 'the body is no OTLP export request (no resourceSpans array)');
  if (rs.length > 0) await store.add(rs);
  // ExportTraceServiceResponse: every span accepted.
  send(res, 200, {});
}

async function route(req: IncomingMessage, res: ServerResponse, store: TraceStore): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/v1/traces') {
    if (req.method !== 'POST') throw new HttpError(405, 'POST spans to /v1/traces');
    return receive(req, res, store);
  }
  if (req.method !== 'GET') throw new HttpError(405, `${req.method ?? ''} ${url.pathname} is not served`);
  if (url.pathname === '/ready' || url.pathname === '/api/echo') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(url.pathname === '/ready' ? 'ready' : 'echo');
    return;
  }
  if (url.pathname === '/api/search') {
    const q = url.searchParams;
    const limit = Number(q.get('limit') ?? DEFAULT_LIMIT);
    const traces = store.search({
      tags: parseTags(q.get('tags')),
      from: seconds(q.get('start'), 0),
      to: seconds(q.get('end'), Number.POSITIVE_INFINITY),
      limit: Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_LIMIT,
    });
    return send(res, 200, { traces, metrics: { inspectedTraces: store.counts().traces } });
  }
  const m = /^\/api\/traces\/([^/]+)$/.exec(url.pathname);
  if (m) {
    const batches = await store.trace(decodeURIComponent(m[1] as string));
    if (!batches) throw new HttpError(404, `trace not found`);
    return send(res, 200, { batches });
  }
  throw new HttpError(
    404,
    `${url.pathname} is not served (OTLP: POST /v1/traces; Tempo: /api/search, /api/traces/ID)`,
  );
}

/**
 * Starts the lab's trace receiver on 127.0.0.1:`port` (0: any free port), keeping spans in
 * `dir`/spans.jsonl. OTLP/HTTP with JSON bodies (the shop's exporter, `@opentelemetry/exporter-trace-otlp-http`,
 * sends JSON), gzip or not; a protobuf body is refused with 415 naming the protocol to set. Queries
 * answer as Tempo does: `/api/search?tags=service.name=X&start=S&end=E&limit=N` (unix seconds) lists
 * trace ids, `/api/traces/ID` answers a trace as OTLP/JSON `{batches}`.
 */
export async function startTraceReceiver(o: {
  dir: string;
  port?: number;
  log?: (message: string) => void;
}): Promise<TraceReceiver> {
  const store = new TraceStore(o.dir);
  await store.open();
  let failures = 0;
  const server: Server = createServer((req, res) => {
    route(req, res, store).catch((err: unknown) => {
      const code = err instanceof HttpError ? err.code : 500;
      // Said once in the supervisor's log, then counted: an exporter retries every few seconds.
      if (code >= 500 || failures++ === 0)
        o.log?.(
          `trace receiver: ${req.method ?? ''} ${req.url ?? ''} answered ${code}: ${errorMessage(err)}`,
        );
      if (!res.headersSent) send(res, code, { error: errorMessage(err) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
