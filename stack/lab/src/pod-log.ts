import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** An RFC 3339 timestamp with nanoseconds, as `kubectl logs --timestamps` prints it. */
export function kubeTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/**
 * Writes a container's output as the kubelet keeps it: one line per output line, prefixed with the
 * time it arrived. stdout and stderr go to one file, interleaved, as `kubectl logs` shows them.
 */
export class PodLogWriter {
  private readonly out: WriteStream;
  private readonly partial = new Map<Readable, string>();

  constructor(readonly file: string) {
    this.out = createWriteStream(file, { flags: 'a' });
  }

  /** Copies `stream` line by line into the log. */
  attach(stream: Readable): void {
    this.partial.set(stream, '');
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const text = (this.partial.get(stream) ?? '') + chunk;
      const lines = text.split('\n');
      this.partial.set(stream, lines.pop() ?? '');
      const ts = kubeTimestamp(Date.now());
      for (const line of lines) this.out.write(`${ts} ${line.replace(/\r$/, '')}\n`);
    });
    stream.on('end', () => {
      const rest = this.partial.get(stream);
      if (rest) this.out.write(`${kubeTimestamp(Date.now())} ${rest}\n`);
      this.partial.delete(stream);
    });
  }

  /** A line from the lab itself (the kubelet has none; used for the lab's own notes, sparingly). */
  line(text: string): void {
    this.out.write(`${kubeTimestamp(Date.now())} ${text}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}

/** The query options of GET .../pods/NAME/log that the lab honours. */
export interface LogQuery {
  timestamps?: boolean;
  sinceTime?: string;
  sinceSeconds?: number;
  tailLines?: number;
  limitBytes?: number;
}

/** Reads a pod log file and applies the query as the kubelet does; a missing file reads as empty. */
export async function readPodLog(file: string, q: LogQuery, now = Date.now()): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return '';
  }
  let lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const since =
    q.sinceTime !== undefined
      ? Date.parse(q.sinceTime)
      : q.sinceSeconds !== undefined
        ? now - q.sinceSeconds * 1000
        : undefined;
  if (since !== undefined && !Number.isNaN(since)) {
    lines = lines.filter((l) => {
      const t = Date.parse(l.slice(0, l.indexOf(' ')));
      return Number.isNaN(t) || t >= since;
    });
  }
  if (q.tailLines !== undefined && q.tailLines >= 0)
    lines = lines.slice(Math.max(0, lines.length - q.tailLines));
  if (!q.timestamps) lines = lines.map((l) => l.slice(l.indexOf(' ') + 1));
  let out = lines.length ? `${lines.join('\n')}\n` : '';
  if (q.limitBytes !== undefined && q.limitBytes >= 0)
    out = Buffer.from(out).subarray(0, q.limitBytes).toString('utf8');
  return out;
}
