import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRfc3339, type Bundle } from '@hindsight/core';

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
          if (typeof t !== 'number' || !Number.isFinite(t)) continue;
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
