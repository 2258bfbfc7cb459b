import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect, sources } from '@hindsight/collect';
import { openBundle, type Span } from '@hindsight/core';
import { startTraceReceiver, type TraceReceiver } from './receiver.js';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();

/** An export request as the shop's exporter (`@opentelemetry/exporter-trace-otlp-http`) posts it. */
function exportRequest(service: string, pod: string, traces: Array<{ id: string; at: number }>) {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: service } },
            { key: 'k8s.pod.name', value: { stringValue: pod } },
          ],
          droppedAttributesCount: 0,
        },
        scopeSpans: [
          {
            scope: { name: '@opentelemetry/instrumentation-http', version: '0.208.0' },
            spans: traces.flatMap(({ id, at }) => [
              {
                traceId: id,
                spanId: `${id.slice(0, 14)}01`,
                name: 'GET /products',
                kind: 2,
                startTimeUnixNano: ns(at),
                endTimeUnixNano: ns(at + 12),
                attributes: [],
                status: { code: 0 },
              },
              {
                traceId: id,
                spanId: `${id.slice(0, 14)}02`,
                parentSpanId: `${id.slice(0, 14)}01`,
                name: 'pg.query:SELECT shop',
                kind: 3,
                startTimeUnixNano: ns(at + 2),
                endTimeUnixNano: ns(at + 9),
                attributes: [],
                status: { code: 0 },
              },
            ]),
          },
        ],
      },
    ],
  };
}

const traceId = (i: number) => `${'a'.repeat(30)}${i.toString(16).padStart(2, '0')}`;

describe('the lab trace receiver', () => {
  let dir: string;
  let rx: TraceReceiver;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-traces-'));
    rx = await startTraceReceiver({ dir: join(dir, 'traces') });
  });
  afterEach(async () => {
    await rx.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${rx.url}/v1/traces`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });

  it('keeps OTLP/HTTP JSON exports, plain or gzipped, as the Collector file exporter writes them', async () => {
    expect((await post(exportRequest('shop', 'shop-shop-a-1', [{ id: traceId(1), at: T0 }]))).status).toBe(
      200,
    );
    const gz = gzipSync(
      JSON.stringify(exportRequest('shop', 'shop-shop-a-2', [{ id: traceId(2), at: T0 + 1000 }])),
    );
    const res = await post(gz, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const lines = (await readFile(rx.store.file, 'utf8')).trim().split('\n');
    expect(lines.map((l) => Object.keys(JSON.parse(l) as object))).toEqual([
      ['resourceSpans'],
      ['resourceSpans'],
    ]);
    expect(rx.store.counts()).toEqual({ traces: 2, spans: 4 });
  });

  it('refuses a protobuf body and a body that is no export request, saying what it reads', async () => {
    const proto = await post(Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });
    expect(proto.status).toBe(415);
    expect(((await proto.json()) as { error: string }).error).toMatch(/OTLP\/HTTP JSON.*http\/json/);
    const bad = await post({ spans: [] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/resourceSpans/);
    expect(rx.store.counts().spans).toBe(0);
  });

  it('answers Tempo searches by service and window, and a trace by id as OTLP/JSON', async () => {
    await post(
      exportRequest(
        'shop',
        'shop-shop-a-1',
        [0, 1, 2].map((i) => ({ id: traceId(i), at: T0 + i * 1000 })),
      ),
    );
    await post(exportRequest('payments', 'pay-1', [{ id: traceId(9), at: T0 + 500 }]));
    const search = async (q: string) =>
      (
        (await (await fetch(`${rx.url}/api/search?${q}`)).json()) as { traces: Array<{ traceID: string }> }
      ).traces.map((t) => t.traceID);
    const start = Math.floor(T0 / 1000);
    expect(await search(`tags=service.name%3Dshop&start=${start}&end=${start + 1}&limit=10`)).toEqual([
      traceId(0),
      traceId(1),
    ]);
    expect(
      await search(`tags=${encodeURIComponent('service.name="payments"')}&start=${start}&end=${start + 9}`),
    ).toEqual([traceId(9)]);
    // More than the limit: spread over the window (0, 9, 1, 2 in time), not its first traces.
    expect(await search(`start=${start}&end=${start + 9}&limit=2`)).toEqual([traceId(0), traceId(1)]);
    const trace = (await (await fetch(`${rx.url}/api/traces/${traceId(1)}`)).json()) as {
      batches: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string }> }> }>;
    };
    expect(trace.batches.flatMap((b) => b.scopeSpans.flatMap((s) => s.spans.map((x) => x.traceId)))).toEqual([
      traceId(1),
      traceId(1),
    ]);
    expect((await fetch(`${rx.url}/api/traces/${'f'.repeat(32)}`)).status).toBe(404);
  });

  it('indexes the spans a lab kept before it stopped, when it starts again', async () => {
    await post(exportRequest('shop', 'shop-shop-a-1', [{ id: traceId(3), at: T0 }]));
    await rx.close();
    rx = await startTraceReceiver({ dir: join(dir, 'traces') });
    expect(rx.store.counts()).toEqual({ traces: 1, spans: 2 });
    expect((await fetch(`${rx.url}/api/traces/${traceId(3)}`)).status).toBe(200);
  });

  it('is read by `collect --tempo` with every span, its pod and its parent', async () => {
    await post(
      exportRequest(
        'shop',
        'shop-shop-a-1',
        [0, 1, 2, 3].map((i) => ({ id: traceId(i), at: T0 + i * 1000 })),
      ),
    );
    const out = join(dir, 'bundle');
    const result = await collect({
      output: out,
      window: { from: new Date(T0 - 60_000), to: new Date(T0 + 60_000) },
      sources: sources.filter((s) => s.name === 'tempo'),
      tempo: rx.url,
    });
    expect(result.manifest.sources).toEqual([
      expect.objectContaining({ name: 'tempo', status: 'ok', items: 8 }),
    ]);
    const spans: Span[] = [];
    for await (const s of (await openBundle(out)).spans()) spans.push(s);
    expect(spans).toHaveLength(8);
    expect(spans.find((s) => s.operation === 'pg.query:SELECT shop')).toMatchObject({
      component: 'shop',
      pod: 'shop-shop-a-1',
      parent: `${traceId(0).slice(0, 14)}01`,
      durationMs: 7,
      kind: 'client',
    });
  });
});
