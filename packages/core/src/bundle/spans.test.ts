import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BundleWriter,
  formatUnixNanos,
  openBundle,
  spanStartMs,
  validateBundle,
  type Span,
} from '../index.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-spans-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const from = Date.parse('2026-01-01T10:00:00Z');

function span(i: number, extra: Partial<Span> = {}): Span {
  return {
    trace: `t${Math.floor(i / 2)}`,
    span: `s${i}`,
    ...(i % 2 === 1 ? { parent: `s${i - 1}` } : {}),
    component: i % 2 === 1 ? 'catalog' : 'frontend',
    pod: i % 2 === 1 ? 'catalog-0' : 'frontend-0',
    operation: i % 2 === 1 ? 'GetProduct' : 'GET /product?token=abc',
    start: formatUnixNanos(`${from + i}000123`) as string,
    durationMs: 1.5,
    ...extra,
  };
}

async function writeSpans(dir: string, n: number): Promise<void> {
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(from + 60_000) } });
  for (let i = 0; i < n; i++) await w.addSpan(span(i));
  await w.finish();
}

describe('spans in a bundle', () => {
  it('streams back every span written, with its start to the nanosecond', async () => {
    await writeSpans(tmp, 1000);
    const b = await openBundle(tmp);
    const read: Span[] = [];
    for await (const s of b.spans()) read.push(s);
    expect(read).toHaveLength(1000);
    expect(read[1]).toMatchObject({ trace: 't0', span: 's1', parent: 's0', component: 'catalog' });
    expect(read[0]?.start).toBe('2026-01-01T10:00:00.000000123Z');
    expect(spanStartMs(read[3] as Span)).toBeCloseTo(from + 3.000123, 6);
    expect(await validateBundle(tmp)).toEqual([]);
  });

  it('redacts what a span carries, as every record', async () => {
    const w = await BundleWriter.create(tmp, {
      window: { from: new Date(from), to: new Date(from + 60_000) },
    });
    await w.addSpan(span(0, { operation: 'GET https://user:hunter2@example.test/x' }));
    await w.finish();
    expect(await readFile(path.join(tmp, 'spans.jsonl'), 'utf8')).not.toContain('hunter2');
  });

  it('rejects a corrupt span with its file and line, and reads the rest', async () => {
    await writeSpans(tmp, 4);
    await appendFile(
      path.join(tmp, 'spans.jsonl'),
      `${JSON.stringify({ ...span(4), durationMs: -3 })}\n{"trace":\n${JSON.stringify(span(5))}\n`,
    );
    const problems = await validateBundle(tmp);
    expect(problems.map((p) => `${p.file}:${p.line} ${p.code}`)).toEqual([
      'spans.jsonl:5 HINDSIGHT_BUNDLE_SCHEMA',
      'spans.jsonl:6 HINDSIGHT_BUNDLE_SCHEMA',
    ]);
    expect(problems[0]?.message).toContain('durationMs');
    const b = await openBundle(tmp);
    let n = 0;
    for await (const _ of b.spans()) n += 1;
    expect(n).toBe(5);
    expect(b.warnings.map((w) => w.where)).toEqual(['spans.jsonl:5', 'spans.jsonl:6']);
  });

  it('reports a span far outside the window', async () => {
    await writeSpans(tmp, 2);
    const late = formatUnixNanos(`${from + 3_600_000}000000`) as string;
    await appendFile(path.join(tmp, 'spans.jsonl'), `${JSON.stringify(span(2, { start: late }))}\n`);
    const problems = await validateBundle(tmp);
    expect(problems.map((p) => `${p.file}:${p.line} ${p.code}`)).toEqual([
      'spans.jsonl:3 HINDSIGHT_BUNDLE_WINDOW',
    ]);
  });

  it('refuses a span the schema does not allow when writing', async () => {
    const w = await BundleWriter.create(tmp, {
      window: { from: new Date(from), to: new Date(from + 60_000) },
    });
    await expect(w.addSpan(span(0, { start: 'yesterday' }))).rejects.toThrow(/RFC 3339/);
    await w.finish();
  });

  it('formats unix nanoseconds and refuses what is not one', () => {
    expect(formatUnixNanos('1661265001003167384')).toBe('2022-08-23T14:30:01.003167384Z');
    expect(formatUnixNanos('12:00')).toBeUndefined();
  });
});
