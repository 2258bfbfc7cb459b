import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { HindsightError, openBundle, validateBundle, type Span, type Topology } from '@hindsight/core';
import { importOtlp } from '../index.js';

// Documents in OTLP/JSON as the collector's file exporter writes them, one a line
// (https://opentelemetry.io/docs/specs/otel/protocol/file-exporter/, field names and enums from
// opentelemetry-proto's trace.proto): hex ids, unix-nanosecond strings, integer enums.
const T0 = 1_767_261_600_000_000_000n; // 2026-01-01T10:00:00Z in ns

const temps: string[] = [];
async function temp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hs-import-otlp-'));
  temps.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });

interface RawSpan {
  trace: number;
  span: number;
  parent?: number;
  name: string;
  startNs: bigint;
  durNs: bigint;
  kind?: number;
  status?: number;
}

function request(service: string, pod: string | undefined, spans: RawSpan[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: {
          attributes: [
            attr('service.name', service),
            ...(pod ? [attr('k8s.pod.name', pod)] : []),
            { key: 'process.pid', value: { intValue: '42' } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: '@opentelemetry/instrumentation-http', version: '0.208.0' },
            spans: spans.map((s) => ({
              traceId: hex(s.trace, 32),
              spanId: hex(s.span, 16),
              parentSpanId: s.parent === undefined ? '' : hex(s.parent, 16),
              name: s.name,
              kind: s.kind ?? 1,
              startTimeUnixNano: String(s.startNs),
              endTimeUnixNano: String(s.startNs + s.durNs),
              attributes: [{ key: 'http.status_code', value: { intValue: '200' } }],
              status: s.status === undefined ? {} : { code: s.status },
            })),
          },
        ],
      },
    ],
  });
}

/**
 * `traces` requests of a frontend calling a shop calling a payment service, exported as a
 * BatchSpanProcessor does: each service's spans of five requests in one line, the callee's (whose
 * spans end first) before its caller's, so one trace's spans lie on three lines.
 */
function traceLines(traces: number): { lines: string[]; spans: number } {
  const lines: string[] = [];
  for (let first = 1; first <= traces; first += 5) {
    const batch = Array.from({ length: Math.min(5, traces - first + 1) }, (_, k) => first + k);
    const start = (t: number): bigint => T0 + BigInt(t) * 1_000_000_000n;
    const id = (t: number, k: number): number => t * 10 + k;
    lines.push(
      request(
        'payment',
        'payment-7d9f8b6c5d-x2x7q',
        batch.map((t) => ({
          trace: t,
          span: id(t, 4),
          parent: id(t, 3),
          name: 'POST /charge',
          startNs: start(t) + 2_100_000n,
          durNs: 80_003n,
          kind: 2,
        })),
      ),
      request(
        'shop',
        'shop-5c6b7d8f9-abcde',
        batch.flatMap((t) => [
          {
            trace: t,
            span: id(t, 2),
            parent: id(t, 1),
            name: 'POST /checkout',
            startNs: start(t) + 1_000_000n,
            durNs: 3_000_000n,
            kind: 2,
          },
          {
            trace: t,
            span: id(t, 3),
            parent: id(t, 2),
            name: 'POST',
            startNs: start(t) + 2_000_000n,
            durNs: 500_000n,
            kind: 3,
            status: 2,
          },
        ]),
      ),
      request(
        'frontend',
        undefined,
        batch.map((t) => ({
          trace: t,
          span: id(t, 1),
          name: 'GET /reset?token=s3cr3tvalue99',
          startNs: start(t),
          durNs: 5_000_000n,
          kind: 3,
        })),
      ),
    );
  }
  return { lines, spans: traces * 4 };
}

async function spansOf(bundle: string): Promise<Span[]> {
  const b = await openBundle(bundle);
  try {
    const out: Span[] = [];
    for await (const s of b.spans()) out.push(s);
    return out;
  } finally {
    await b.close();
  }
}

describe('importOtlp', () => {
  it('imports every span of a collector file, with component, pod, kind, status and exact durations', async () => {
    const dir = await temp();
    const { lines, spans } = traceLines(25);
    const file = path.join(dir, 'traces.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);
    const out = path.join(dir, 'bundle');
    const result = await importOtlp(file, out);
    expect(result.counts).toMatchObject({ spans, badLines: 0, badSpans: 0, components: 3 });
    expect(result.warnings).toEqual([]);
    const read = await spansOf(out);
    expect(read).toHaveLength(spans);
    // Each trace's spans, exported on three lines, are written together.
    const order = read.map((s) => s.trace).filter((t, i, all) => i === 0 || all[i - 1] !== t);
    expect(order).toHaveLength(25);
    expect(read.find((s) => s.span === hex(14, 16))).toEqual({
      trace: hex(1, 32),
      span: hex(14, 16),
      parent: hex(13, 16),
      component: 'payment',
      pod: 'payment-7d9f8b6c5d-x2x7q',
      operation: 'POST /charge',
      start: '2026-01-01T10:00:01.002100000Z',
      durationMs: 0.080003,
      kind: 'server',
    });
    expect(read.find((s) => s.span === hex(13, 16))).toMatchObject({ kind: 'client', status: 'error' });
    // The route's token passes the redactor, as every record a writer writes.
    const root = read.find((s) => s.span === hex(11, 16));
    expect(root?.operation).toBe('GET /reset?token=[REDACTED]');
    expect(root).not.toHaveProperty('parent');
    const topology = JSON.parse(await readFile(path.join(out, 'topology.json'), 'utf8')) as Topology;
    expect(topology.components).toEqual([
      { name: 'frontend', dependsOn: ['shop'] },
      { name: 'shop', dependsOn: ['payment'] },
    ]);
    expect(result.manifest.window).toEqual({
      from: '2026-01-01T10:00:01.000Z',
      to: '2026-01-01T10:00:25.005Z',
    });
    expect(result.manifest.sources).toEqual([{ name: 'otlp', status: 'ok', items: spans }]);
    expect(await validateBundle(out)).toEqual([]);
  });

  it('names a corrupt line by file and line, skips it and imports the rest, gzipped or not', async () => {
    const dir = await temp();
    const { lines, spans } = traceLines(10);
    // Line 5 (the shop's spans of traces 6-10, ten of them) cut short, as a collector killed mid-write leaves it.
    lines[4] = (lines[4] as string).slice(0, 120);
    // A span without ids is named, its document's other spans kept.
    lines.push(
      request('shop', undefined, [
        { trace: 0, span: 0, name: 'no ids', startNs: T0, durNs: 1n },
        // Past year 9999, and longer than a fixed64: no time a bundle can hold.
        { trace: 99, span: 991, name: 'far', startNs: 10n ** 21n, durNs: 10n ** 30n },
      ]),
    );
    await mkdir(path.join(dir, 'in', 'day1'), { recursive: true });
    await writeFile(path.join(dir, 'in', 'day1', 'traces.jsonl.gz'), gzipSync(`${lines.join('\n')}\n`));
    await writeFile(path.join(dir, 'in', 'README.txt'), 'not read');
    const result = await importOtlp(path.join(dir, 'in'), path.join(dir, 'bundle'));
    expect(result.counts).toMatchObject({ files: 1, spans: spans - 10, badLines: 1, badSpans: 2 });
    expect(result.warnings.map((w) => [w.code, w.where])).toEqual([
      ['HINDSIGHT_IMPORT', path.join('day1', 'traces.jsonl.gz:5')],
      ['HINDSIGHT_IMPORT', path.join('day1', 'traces.jsonl.gz:7')],
      ['HINDSIGHT_IMPORT', path.join('day1', 'traces.jsonl.gz:7')],
    ]);
    expect(result.warnings[0]?.message).toMatch(/^not a JSON document: .*; line skipped$/);
    expect(result.warnings[1]?.message).toMatch(/no traceId or spanId; span skipped$/);
    expect(result.warnings[2]?.message).toMatch(
      /^span 00000000000003df \(far\): .*unix nanoseconds; span skipped$/,
    );
    expect(result.manifest.sources[0]).toMatchObject({ name: 'otlp', status: 'partial', items: spans - 10 });
    expect(await spansOf(path.join(dir, 'bundle'))).toHaveLength(spans - 10);
  });

  it("reads a pretty-printed document and Tempo's answer: base64 ids, enum names, `batches`", async () => {
    const dir = await temp();
    const id = (hexId: string): string => Buffer.from(hexId, 'hex').toString('base64');
    const tempo = {
      batches: [
        {
          resource: { attributes: [attr('service.name', 'cart')] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: id('0af7651916cd43dd8448eb211c80319c'),
                  spanId: id('b7ad6b7169203331'),
                  parentSpanId: '',
                  name: 'GET /cart',
                  kind: 'SPAN_KIND_SERVER',
                  startTimeUnixNano: '1767261600000000000',
                  endTimeUnixNano: '1767261600250000000',
                  status: { code: 'STATUS_CODE_OK' },
                },
              ],
            },
          ],
        },
      ],
    };
    const file = path.join(dir, 'trace.json');
    await writeFile(file, JSON.stringify(tempo, null, 2));
    await importOtlp(file, path.join(dir, 'bundle'));
    expect(await spansOf(path.join(dir, 'bundle'))).toEqual([
      {
        trace: '0af7651916cd43dd8448eb211c80319c',
        span: 'b7ad6b7169203331',
        component: 'cart',
        operation: 'GET /cart',
        start: '2026-01-01T10:00:00.000000000Z',
        durationMs: 250,
        kind: 'server',
        status: 'ok',
      },
    ]);
  });

  it('keeps the spans of the window given, and refuses a missing path, an empty folder and a file of no spans', async () => {
    const dir = await temp();
    const { lines } = traceLines(10);
    const file = path.join(dir, 'traces.jsonl');
    await writeFile(file, lines.join('\n'));
    const result = await importOtlp(file, path.join(dir, 'b1'), {
      from: '2026-01-01T10:00:03Z',
      to: '2026-01-01T10:00:05.5Z',
    });
    expect(result.counts).toMatchObject({ spans: 12, outsideWindow: 28 });

    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (err: unknown) => (err instanceof HindsightError ? [err.code, err.message] : err),
      );
    expect(await codeOf(importOtlp(path.join(dir, 'nope.jsonl'), path.join(dir, 'b2')))).toEqual([
      'HINDSIGHT_INPUT_MISSING',
      expect.stringContaining('OTLP file or folder not found'),
    ]);
    await mkdir(path.join(dir, 'empty'));
    expect(await codeOf(importOtlp(path.join(dir, 'empty'), path.join(dir, 'b3')))).toEqual([
      'HINDSIGHT_INPUT_MISSING',
      expect.stringContaining('no OTLP JSON file'),
    ]);
    await writeFile(path.join(dir, 'metrics.json'), '{"resourceMetrics":[]}\n');
    expect(await codeOf(importOtlp(path.join(dir, 'metrics.json'), path.join(dir, 'b4')))).toEqual([
      'HINDSIGHT_IMPORT',
      expect.stringContaining('no span could be read'),
    ]);
  });
});
