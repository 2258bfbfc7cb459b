// Cheap reads of how far a bundle's data reaches, for choosing the analysis window before anything
// is read properly: the edges of each log and the times of each series' points. Problems are not
// reported here; reading proper reports them once.
import { open, readFile, stat } from 'node:fs/promises';
import { parseRfc3339 } from './time.js';

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
export async function logEdges(file: string): Promise<[number, number] | undefined> {
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

/** The earliest and latest point times of a series file, records that do not parse skipped. */
export async function seriesFileEdges(file: string): Promise<[number, number] | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
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
  return from <= to ? [from, to] : undefined;
}

/** The size of a file in bytes, 0 when it cannot be read. */
export async function fileSize(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
}
