import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type Span } from '@hindsight/core';
import { collect } from '../collect.js';
import { jaegerSource } from './jaeger.js';
import { tempoSource } from './tempo.js';
import { httpServer, sendJson, tempDir, type TestHttpServer } from '../test-support.js';

// Both servers answer in the documented formats; no recording of a real server could be made here.
// Jaeger: the query service's JSON API (https://www.jaegertracing.io/docs/latest/apis/, records as in
// jaeger's model/json/model.go: microseconds, hex ids, `references`, per-trace `processes`).
// Tempo: https://grafana.com/docs/tempo/latest/api_docs/ (search in unix seconds answering trace ids;
// a trace by id answering `{batches}` of OTLP resource spans with base64 ids, as grafana/tempo#5437
// shows Tempo writes them, and enums by name).
const FROM = Date.parse('2026-11-25T10:00:00Z');
const TO = FROM + 10 * 60_000;
const TRACES = 150;
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
/** The retry policy's four tries, with waits of milliseconds: a store that is down fails at once. */
const FAST_RETRY = { attempts: 4, baseMs: 5, maxDelayMs: 50, budgetMs: 2000 };

/** Trace i: every 4 s; even ones a frontend request calling the shop, odd ones the shop alone. */
interface Fake {
  i: number;
  startMs: number;
  services: string[];
}
const fakes: Fake[] = Array.from({ length: TRACES }, (_, i) => ({
  i,
  startMs: FROM + 1000 + i * 4000,
  services: i % 2 === 0 ? ['frontend', 'shop'] : ['shop'],
}));
// Jaeger prints a 128-bit id without the high half's leading zeros: here a high half of 1.
const jaegerTraceId = (i: number): string => `1${hex(i, 16)}`;
const bundleTraceId = (i: number): string => `${'0'.repeat(15)}1${hex(i, 16)}`;

function jaegerTrace(f: Fake) {
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

function tempoTrace(f: Fake) {
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

let tmp: Awaited<ReturnType<typeof tempDir>>;
let jaeger: TestHttpServer;
let tempo: TestHttpServer;
let deadUrl: string;

beforeAll(async () => {
  tmp = await tempDir('hs-collect-traces-');
  jaeger = await httpServer((url, _req, res) => {
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
  tempo = await httpServer((url, _req, res) => {
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
  const dead = await httpServer(() => undefined);
  deadUrl = dead.url;
  await dead.close();
});
afterAll(async () => {
  await jaeger?.close();
  await tempo?.close();
  await tmp?.cleanup();
});

async function spansOf(dir: string): Promise<Span[]> {
  const b = await openBundle(dir);
  const out: Span[] = [];
  for await (const s of b.spans()) out.push(s);
  await b.close();
  return out;
}

async function notesOf(dir: string): Promise<string[]> {
  const b = await openBundle(dir);
  const notes = b.manifest.notes ?? [];
  await b.close();
  return notes;
}

describe('jaeger and tempo sources against HTTP servers answering their documented APIs', () => {
  it("reads every Jaeger trace of the window once, each service's, as bundle spans", async () => {
    const out = `${tmp.dir}/jaeger-all`;
    const r = await collect({
      output: out,
      window: { from: new Date(FROM), to: new Date(TO) },
      jaeger: `${jaeger.url}/`,
      sources: [jaegerSource],
    });
    const spans = await spansOf(out);
    const expected = fakes.reduce((n, f) => n + (f.services.length === 2 ? 3 : 1), 0);
    expect(r.manifest.sources[0]).toEqual({ name: 'jaeger', status: 'ok', items: expected });
    expect(spans).toHaveLength(expected);
    expect(new Set(spans.map((s) => `${s.trace}/${s.span}`)).size).toBe(expected);
    expect(spans.find((s) => s.span === hex(3, 16))).toEqual({
      trace: bundleTraceId(0),
      span: hex(3, 16),
      parent: hex(2, 16),
      component: 'shop',
      pod: 'shop-5c6b7d8f9-abcde',
      operation: 'POST /pay',
      start: '2026-11-25T10:00:01.001200000Z',
      durationMs: 2.5,
      kind: 'server',
      status: 'error',
    });
    expect(spans.find((s) => s.span === hex(2, 16))).toMatchObject({
      component: 'frontend',
      kind: 'client',
      status: 'ok',
    });
    // A trace's spans are written together.
    const traceOrder = spans.map((s) => s.trace).filter((t, i, a) => i === 0 || a[i - 1] !== t);
    expect(new Set(traceOrder).size).toBe(traceOrder.length);
    const searches = jaeger.requests.filter((u) => u.pathname === '/api/traces');
    expect(searches.every((u) => Number(u.searchParams.get('start')) >= FROM * 1000)).toBe(true);
    expect(searches.every((u) => Number(u.searchParams.get('end')) <= TO * 1000)).toBe(true);
    expect(await notesOf(out)).toContain(
      `jaeger: ${TRACES} traces (${expected} spans) read, at most 1000 (--max-traces), from 2 services`,
    );
    expect(await validateBundle(out)).toEqual([]);
  });

  it('keeps to --max-traces, spread over the window, and says in the bundle that the traces are a sample', async () => {
    const out = `${tmp.dir}/jaeger-max`;
    const before = jaeger.requests.length;
    const r = await collect({
      output: out,
      window: { from: new Date(FROM), to: new Date(TO) },
      jaeger: jaeger.url,
      traceService: ['shop'],
      maxTraces: 100,
      sources: [jaegerSource],
    });
    expect(r.manifest.sources[0]?.status).toBe('ok');
    const traces = new Map<string, number>();
    for (const s of await spansOf(out))
      traces.set(s.trace, Math.min(traces.get(s.trace) ?? Infinity, Date.parse(s.start)));
    expect(traces.size).toBe(100);
    // Every 2-minute fifth of the window holds its share, not only its last minutes.
    const fifths = [0, 1, 2, 3, 4].map(
      (k) => [...traces.values()].filter((t) => Math.floor((t - FROM) / 120_000) === k).length,
    );
    expect(fifths).toEqual([20, 20, 20, 20, 20]);
    const asked = jaeger.requests.slice(before);
    expect(asked.map((u) => u.pathname)).not.toContain('/api/services');
    expect(asked).toHaveLength(5);
    expect(await notesOf(out)).toContain(
      'jaeger: 100 traces (200 spans) read, at most 100 (--max-traces), from 1 services; 5 of 5 searches returned as many traces as they asked for, so the traces are a sample',
    );
  });

  it('reads Tempo traces by id as OTLP, a trace gone since the search a warning, the rest kept', async () => {
    const out = `${tmp.dir}/tempo`;
    const r = await collect({
      output: out,
      window: { from: new Date(FROM), to: new Date(TO) },
      tempo: tempo.url,
      maxTraces: 40,
      sources: [tempoSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'tempo', status: 'partial', items: 40 });
    expect(r.warnings).toEqual([
      expect.objectContaining({
        code: 'HINDSIGHT_SOURCE_FAILED',
        message: expect.stringMatching(/^trace 8 could not be read: HTTP 404/),
      }),
    ]);
    const spans = await spansOf(out);
    expect(spans).toHaveLength(40);
    expect(spans.find((s) => s.span === hex(3, 16))).toEqual({
      trace: hex(1, 32),
      span: hex(3, 16),
      component: 'shop',
      operation: 'POST /pay',
      start: '2026-11-25T10:00:01.000000000Z',
      durationMs: 2.5,
      kind: 'server',
      status: 'error',
    });
    const search = tempo.requests.find((u) => u.pathname === '/api/search');
    expect(search?.searchParams.get('start')).toBe(String(FROM / 1000));
    expect(search?.searchParams.has('tags')).toBe(false);
    expect(await validateBundle(out)).toEqual([]);
  });

  it('names the URL of a trace store that is down, and the other sources still run', async () => {
    const out = `${tmp.dir}/down`;
    const r = await collect({
      output: out,
      window: { from: new Date(FROM), to: new Date(TO) },
      jaeger: deadUrl,
      tempo: tempo.url,
      traceService: ['shop api'],
      maxTraces: 10,
      sources: [jaegerSource, tempoSource],
      retry: FAST_RETRY,
    });
    expect(r.manifest.sources.map((s) => [s.name, s.status])).toEqual([
      ['jaeger', 'failed'],
      ['tempo', 'partial'],
    ]);
    expect(r.warnings.find((w) => w.name === 'jaeger')?.message).toMatch(
      new RegExp(
        `^Jaeger at ${deadUrl} did not answer: ECONNREFUSED at ${deadUrl}/api/traces \\(4 tries over \\d+\\.\\d s\\)$`,
      ),
    );
    expect(
      tempo.requests
        .filter((u) => u.pathname === '/api/search')
        .at(-1)
        ?.searchParams.get('tags'),
    ).toBe('service.name="shop api"');
    expect(await validateBundle(out)).toEqual([]);
  });
});

/**
 * A server in front of `upstream` that answers `fail(url, n)`'s status (n counts the requests)
 * instead of passing the request on, as a store that restarts or sheds load does.
 */
async function flaky(
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

describe('jaeger and tempo sources retrying a store that fails for a moment', () => {
  it('reads Jaeger when its first two answers are 503, and says it retried', async () => {
    const server = await flaky(jaeger.url, (_url, n) => (n <= 2 ? 503 : undefined));
    try {
      const out = `${tmp.dir}/jaeger-flaky`;
      const r = await collect({
        output: out,
        window: { from: new Date(FROM), to: new Date(TO) },
        jaeger: server.url,
        maxTraces: 20,
        sources: [jaegerSource],
      });
      expect(r.manifest.sources[0]).toMatchObject({ name: 'jaeger', status: 'ok' });
      expect(r.warnings).toEqual([]);
      expect(await notesOf(out)).toContain(
        `jaeger: 2 retries after transient failures (HTTP 503 x2) at ${server.url}`,
      );
      expect(server.requests.slice(0, 3).map((u) => u.pathname)).toEqual([
        '/api/services',
        '/api/services',
        '/api/services',
      ]);
      expect((await spansOf(out)).length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('retries a Tempo search and a trace fetch that fail once, and keeps every trace', async () => {
    let fetched = 0;
    const server = await flaky(tempo.url, (url, n) => {
      if (n === 1) return 503;
      if (url.pathname.startsWith('/api/traces/') && ++fetched === 1) return 502;
      return undefined;
    });
    try {
      const out = `${tmp.dir}/tempo-flaky`;
      const r = await collect({
        output: out,
        window: { from: new Date(FROM), to: new Date(TO) },
        tempo: server.url,
        maxTraces: 40,
        sources: [tempoSource],
        retry: FAST_RETRY,
      });
      // Trace 8 is gone from the store (404): not retried, a warning as without the failures.
      expect(r.manifest.sources[0]).toMatchObject({ name: 'tempo', status: 'partial', items: 40 });
      expect(r.warnings.map((w) => w.message)).toEqual([
        expect.stringMatching(/^trace 8 could not be read: HTTP 404/),
      ]);
      expect(await notesOf(out)).toContain(
        `tempo: 2 retries after transient failures (HTTP 503 x1, HTTP 502 x1) at ${server.url}`,
      );
      expect(server.requests.filter((u) => u.pathname === '/api/traces/8')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('stops reading a Tempo that goes down midway once a request has spent its tries, naming it', async () => {
    let fetched = 0;
    const server = await flaky(tempo.url, (url) =>
      url.pathname.startsWith('/api/traces/') && ++fetched > 10 ? 503 : undefined,
    );
    try {
      const r = await collect({
        output: `${tmp.dir}/tempo-down`,
        window: { from: new Date(FROM), to: new Date(TO) },
        tempo: server.url,
        maxTraces: 100,
        fetchConcurrency: 1,
        sources: [tempoSource],
        retry: FAST_RETRY,
      });
      expect(r.manifest.sources[0]).toMatchObject({ name: 'tempo', status: 'partial' });
      expect(r.warnings.map((w) => w.message)).toEqual([
        expect.stringMatching(/^trace 8 could not be read: HTTP 404/),
        expect.stringMatching(
          new RegExp(
            `^stopped reading Tempo at ${server.url}, the rest of the window unread: HTTP 503 from ${server.url}/api/traces/[0-9a-f]+: .* \\(4 tries over \\d+\\.\\d s\\)$`,
          ),
        ),
      ]);
      // Ten fetches answered, one spent its four tries; nothing asked after it.
      expect(server.requests.filter((u) => u.pathname.startsWith('/api/traces/'))).toHaveLength(14);
    } finally {
      await server.close();
    }
  });
});
