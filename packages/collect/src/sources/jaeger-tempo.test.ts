import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateBundle } from '@hindsight/core';
import { collect } from '../collect.js';
import { jaegerSource } from './jaeger.js';
import { tempoSource } from './tempo.js';
import { httpServer, tempDir, type TestHttpServer } from '../test-support.js';
import {
  FAST_RETRY,
  FROM,
  TO,
  TRACES,
  bundleTraceId,
  fakeJaeger,
  fakeTempo,
  fakes,
  hex,
  notesOf,
  spansOf,
} from './trace-store-fakes.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let jaeger: TestHttpServer;
let tempo: TestHttpServer;
let deadUrl: string;

beforeAll(async () => {
  tmp = await tempDir('hs-collect-traces-');
  jaeger = await fakeJaeger();
  tempo = await fakeTempo();
  const dead = await httpServer(() => undefined);
  deadUrl = dead.url;
  await dead.close();
});
afterAll(async () => {
  await jaeger?.close();
  await tempo?.close();
  await tmp?.cleanup();
});

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

  it('reads Tempo traces by id as OTLP, a trace gone since the search skipped, the rest kept', async () => {
    const out = `${tmp.dir}/tempo`;
    const r = await collect({
      output: out,
      window: { from: new Date(FROM), to: new Date(TO) },
      tempo: tempo.url,
      maxTraces: 40,
      sources: [tempoSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({
      name: 'tempo',
      status: 'partial',
      items: 40,
      error: expect.stringMatching(/^1 trace skipped: 8: HTTP 404/),
    });
    expect(r.warnings).toEqual([
      expect.objectContaining({
        code: 'HINDSIGHT_SOURCE_FAILED',
        message: expect.stringMatching(/^1 trace skipped: 8: HTTP 404/),
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
