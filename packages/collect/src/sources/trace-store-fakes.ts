// Fake Jaeger and Tempo servers for the trace sources' tests (this package's tests only, not index.ts).
// Both servers answer in the documented formats; no recording of a real server could be made here.
// Jaeger: the query service's JSON API (https://www.jaegertracing.io/docs/latest/apis/, records as in
// jaeger's model/json/model.go: microseconds, hex ids, `references`, per-trace `processes`).
// Tempo: https://grafana.com/docs/tempo/latest/api_docs/ (search in unix seconds answering trace ids;
// a trace by id answering `{batches}` of OTLP resource spans with base64 ids, as grafana/tempo#5437
// shows Tempo writes them, and enums by name).
import { openBundle, type Span } from '@hindsight/core';
import { httpServer, sendJson, type TestHttpServer } from '../test-support.js';

export const FROM = Date.parse('2026-11-25T10:00:00Z');
export const TO = FROM + 10 * 60_000;
export const TRACES = 150;
export const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
/** The retry policy's four tries, with waits of milliseconds: a store that is down fails at once. */
export const FAST_RETRY = { attempts: 4, baseMs: 5, maxDelayMs: 50, budgetMs: 2000 };

/** Trace i: every 4 s; even ones a frontend request calling the shop, odd ones the shop alone. */
export interface Fake {
  i: number;
  startMs: number;
  services: string[];
}
export const fakes: Fake[] = Array.from({ length: TRACES }, (_, i) => ({
  i,
  startMs: FROM + 1000 + i * 4000,
  services: i % 2 === 0 ? ['frontend', 'shop'] : ['shop'],
}));
// Jaeger prints a 128-bit id without the high half's leading zeros: here a high half of 1.
export const jaegerTraceId = (i: number): string => `1${hex(i, 16)}`;
export const bundleTraceId = (i: number): string => `${'0'.repeat(15)}1${hex(i, 16)}`;

export function jaegerTrace(f: Fake) {
  const us = f.startMs * 1000;
  const tag = (key: string, value: unknown) => ({
    key,
    type: typeof value === 'boolean' ? 'bool' : 'string',
    value,
  });
  const shopSpan = {
    traceID: jaegerTraceId(f.i),
    spanID: hex(f.i * 10 + 3, 16),
    operationName: 'POST /pay',
    references:
      f.services.length === 2
        ? [{ refType: 'CHILD_OF', traceID: jaegerTraceId(f.i), spanID: hex(f.i * 10 + 2, 16) }]
        : [],
    startTime: us + 1200,
    duration: 2500,
    tags: [tag('span.kind', 'server'), ...(f.i % 10 === 0 ? [tag('error', true)] : [])],
    logs: [],
    processID: 'p2',
    warnings: null,
  };
  const frontend =
    f.services.length === 2
      ? [
          {
            traceID: jaegerTraceId(f.i),
            spanID: hex(f.i * 10 + 1, 16),
            operationName: 'GET /checkout',
            references: [],
            startTime: us,
            duration: 5000,
            tags: [tag('span.kind', 'server')],
            logs: [],
            processID: 'p1',
            warnings: null,
          },
          {
            traceID: jaegerTraceId(f.i),
            spanID: hex(f.i * 10 + 2, 16),
            operationName: 'POST /pay',
            references: [{ refType: 'CHILD_OF', traceID: jaegerTraceId(f.i), spanID: hex(f.i * 10 + 1, 16) }],
            startTime: us + 1000,
            duration: 3000,
            tags: [tag('span.kind', 'client'), tag('otel.status_code', 'OK')],
            logs: [],
            processID: 'p1',
            warnings: null,
          },
        ]
      : [];
  return {
    traceID: jaegerTraceId(f.i),
    spans: [...frontend, shopSpan],
    processes: {
      p1: { serviceName: 'frontend', tags: [tag('k8s.pod.name', 'frontend-6f7c9d8b4-q2w3e')] },
      p2: { serviceName: 'shop', tags: [tag('k8s.pod.name', 'shop-5c6b7d8f9-abcde')] },
    },
    warnings: null,
  };
}

export function tempoTrace(f: Fake) {
  const b64 = (h: string): string => Buffer.from(h, 'hex').toString('base64');
  const ns = (ms: number, extraUs = 0): string => String(BigInt(ms) * 1_000_000n + BigInt(extraUs) * 1000n);
  const id = b64(hex(f.i + 1, 32));
  return {
    batches: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] },
        scopeSpans: [
          {
            scope: { name: '@opentelemetry/instrumentation-fastify' },
            spans: [
              {
                traceId: id,
                spanId: b64(hex(f.i * 10 + 3, 16)),
                parentSpanId: '',
                name: 'POST /pay',
                kind: 'SPAN_KIND_SERVER',
                startTimeUnixNano: ns(f.startMs),
                endTimeUnixNano: ns(f.startMs, 2500),
                status: f.i % 10 === 0 ? { code: 'STATUS_CODE_ERROR' } : {},
              },
            ],
          },
        ],
      },
    ],
  };
}

/** Jaeger's query service over the fake traces: `/api/services` and `/api/traces` searches. */
export function fakeJaeger(): Promise<TestHttpServer> {
  return httpServer((url, _req, res) => {
    if (url.pathname === '/api/services')
      return sendJson(res, 200, { data: ['frontend', 'shop'], total: 2, limit: 0, offset: 0, errors: null });
    if (url.pathname === '/api/traces') {
      const service = url.searchParams.get('service') ?? '';
      if (!service)
        return sendJson(res, 400, {
          data: null,
          errors: [{ code: 400, msg: 'parameter service is required' }],
        });
      const start = Number(url.searchParams.get('start')) / 1000;
      const end = Number(url.searchParams.get('end')) / 1000;
      const limit = Number(url.searchParams.get('limit'));
      // Newest first, as Jaeger's stores answer.
      const found = fakes
        .filter((f) => f.services.includes(service) && f.startMs >= start && f.startMs <= end)
        .reverse()
        .slice(0, limit);
      return sendJson(res, 200, {
        data: found.map(jaegerTrace),
        total: found.length,
        limit: 0,
        offset: 0,
        errors: null,
      });
    }
    sendJson(res, 404, { data: null, errors: [{ code: 404, msg: 'page not found' }] });
  });
}

/** Tempo over the fake traces: searches answering ids, traces by id as OTLP/JSON (trace 8 gone: 404). */
export function fakeTempo(): Promise<TestHttpServer> {
  return httpServer((url, _req, res) => {
    if (url.pathname === '/api/search') {
      const start = Number(url.searchParams.get('start')) * 1000;
      const end = Number(url.searchParams.get('end')) * 1000;
      const limit = Number(url.searchParams.get('limit'));
      const found = fakes.filter((f) => f.startMs >= start && f.startMs < end).slice(0, limit);
      return sendJson(res, 200, {
        traces: found.map((f) => ({
          // Tempo's search drops the id's leading zeros.
          traceID: (f.i + 1).toString(16),
          rootServiceName: 'shop',
          rootTraceName: 'POST /pay',
          startTimeUnixNano: String(BigInt(f.startMs) * 1_000_000n),
          durationMs: 2,
        })),
        metrics: { inspectedTraces: found.length, inspectedBytes: '1000' },
      });
    }
    const m = /^\/api\/traces\/([0-9a-f]+)$/.exec(url.pathname);
    const f = m ? fakes[parseInt(m[1] as string, 16) - 1] : undefined;
    // One trace has gone from the store between the search and the fetch.
    if (!f || f.i === 7) return sendJson(res, 404, { error: 'trace not found' });
    return sendJson(res, 200, tempoTrace(f));
  });
}

/** The spans of a bundle. */
export async function spansOf(dir: string): Promise<Span[]> {
  const b = await openBundle(dir);
  const out: Span[] = [];
  for await (const s of b.spans()) out.push(s);
  await b.close();
  return out;
}

/** The notes of a bundle's manifest. */
export async function notesOf(dir: string): Promise<string[]> {
  const b = await openBundle(dir);
  const notes = b.manifest.notes ?? [];
  await b.close();
  return notes;
}

/**
 * A server in front of `upstream` that answers `fail(url, n)`'s status (n counts the requests)
 * instead of passing the request on, as a store that restarts or sheds load does.
 */
export async function flaky(
  upstream: string,
  fail: (url: URL, n: number) => number | undefined,
): Promise<TestHttpServer> {
  let n = 0;
  return httpServer(async (url, _req, res) => {
    const status = fail(url, ++n);
    if (status !== undefined) return sendJson(res, status, { error: 'unavailable' });
    const up = await fetch(`${upstream}${url.pathname}${url.search}`);
    res.writeHead(up.status, { 'content-type': 'application/json' });
    res.end(await up.text());
  });
}
