import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRfc3339, type Bundle, type Warning } from '@hindsight/core';

const EDGE_BYTES = 8192;

function firstTime(text: string): number {
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    const t = sp > 0 ? parseRfc3339(line.slice(0, sp)) : Number.NaN;
    if (!Number.isNaN(t)) return t;
  }
  return Number.NaN;
}

/** The first and last timestamps of a log file, from its first and last few kilobytes. */
async function logEdges(file: string): Promise<[number, number] | undefined> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const { size } = await fh.stat();
    if (size === 0) return undefined;
    const head = Buffer.alloc(Math.min(EDGE_BYTES, size));
    await fh.read(head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(EDGE_BYTES, size));
    await fh.read(tail, 0, tail.length, size - tail.length);
    const lines = tail.toString('utf8').split('\n').slice(1).reverse().join('\n');
    const a = firstTime(head.toString('utf8'));
    const b = firstTime(lines);
    return Number.isNaN(a) || Number.isNaN(b) ? undefined : [Math.min(a, b), Math.max(a, b)];
  } finally {
    await fh.close();
  }
}

/**
 * The span the bundle's logs and series actually cover, read cheaply (the edges of each log, the
 * points of each series) and without reporting problems: reading proper reports them once.
 */
export async function dataExtent(bundle: Bundle): Promise<{ from: number; to: number } | undefined> {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const ref of await bundle.logs()) {
    const e = await logEdges(path.join(bundle.root, ref.file));
    if (!e) continue;
    from = Math.min(from, e[0]);
    to = Math.max(to, e[1]);
  }
  for (const rel of await bundle.seriesFiles()) {
    const text = await readFile(path.join(bundle.root, rel), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      try {
        const points = (JSON.parse(line) as { points?: unknown }).points;
        if (!Array.isArray(points)) continue;
        for (const p of points) {
          const t = Array.isArray(p) ? p[0] : undefined;
          // A time no Date can hold (1e300) is skipped by the reader: it bounds nothing here either.
          if (typeof t !== 'number' || !(Math.abs(t) <= 8.64e15)) continue;
          if (t < from) from = t;
          if (t > to) to = t;
        }
      } catch {
        // a bad record is reported when the series are read
      }
    }
  }
  return from <= to ? { from, to } : undefined;
}

/**
 * The most buckets an analysis grid holds: 20,000, which is 69 days at the widest default bucket
 * (5 min). Every template, pod and series keeps one number per bucket, so memory follows the
 * bucket count: a bundle whose window began in 1970 had 5.9 million buckets and took investigate
 * past 6 GiB. Past the cap the buckets are widened, so memory is bounded by the data, not the window.
 */
export const MAX_BUCKETS = 20_000;

/** `bucketMs`, or the least width on a 5-second grid that keeps `windowMs` within {@link MAX_BUCKETS}. */
export function boundedBucketMs(windowMs: number, bucketMs: number): number {
  if (!(windowMs / bucketMs > MAX_BUCKETS)) return bucketMs;
  return Math.ceil(windowMs / MAX_BUCKETS / 5000) * 5000;
}

function span(ms: number): string {
  const units: Array<[number, string]> = [
    [365.25 * 86_400_000, 'years'],
    [86_400_000, 'days'],
    [3_600_000, 'hours'],
    [60_000, 'min'],
  ];
  for (const [size, name] of units) if (ms >= 2 * size) return `${Math.round(ms / size)} ${name}`;
  return `${Math.round(ms / 1000)} s`;
}

/**
 * The warning a report carries when its buckets were widened past the width asked for: what the
 * window spans, and that a record stamped far from the rest (a clock at 1970) may be why.
 */
export function widenedWarning(window: { from: number; to: number }, asked: number, used: number): Warning {
  const from = new Date(window.from).toISOString();
  const to = new Date(window.to).toISOString();
  return {
    stage: 'analyze',
    name: 'window',
    code: 'HINDSIGHT_BUNDLE_WINDOW',
    message:
      `the data spans ${span(window.to - window.from)} (${from} to ${to}): buckets widened from ${span(asked)} to ` +
      `${span(used)} so that the analysis keeps at most ${MAX_BUCKETS} of them; changes and anomalies are ` +
      `dated only to the bucket. A record stamped far from the rest (a clock at 1970) may carry a wrong time`,
  };
}
