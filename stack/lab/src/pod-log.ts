import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

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
  private attached = 0;
  private closed = false;

  constructor(readonly file: string) {
    this.out = createWriteStream(file, { flags: 'a' });
  }

  /** Copies `stream` line by line into the log. */
  attach(stream: Readable): void {
    this.attached += 1;
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

  /**
   * True once nothing more will be written: every attached output has ended (the container's
   * process and its children are gone) and what they wrote is on disk, or the log is closed.
   */
  get ended(): boolean {
    if (this.closed) return true;
    return this.attached > 0 && this.partial.size === 0 && this.out.writableLength === 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) =>
      this.out.end(() => {
        this.closed = true;
        resolve();
      }),
    );
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

function sinceOf(q: LogQuery, now: number): number | undefined {
  const since =
    q.sinceTime !== undefined
      ? Date.parse(q.sinceTime)
      : q.sinceSeconds !== undefined
        ? now - q.sinceSeconds * 1000
        : undefined;
  return since === undefined || Number.isNaN(since) ? undefined : since;
}

/** The lines the query selects, as the kubelet sends them; `tail` is false for lines that follow. */
function select(lines: string[], q: LogQuery, since: number | undefined, tail: boolean): string {
  if (since !== undefined) {
    lines = lines.filter((l) => {
      const t = Date.parse(l.slice(0, l.indexOf(' ')));
      return Number.isNaN(t) || t >= since;
    });
  }
  if (tail && q.tailLines !== undefined && q.tailLines >= 0)
    lines = lines.slice(Math.max(0, lines.length - q.tailLines));
  if (!q.timestamps) lines = lines.map((l) => l.slice(l.indexOf(' ') + 1));
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Reads a pod log file and applies the query as the kubelet does; a missing file reads as empty. */
export async function readPodLog(file: string, q: LogQuery, now = Date.now()): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return '';
  }
  let out = select(splitLines(text), q, sinceOf(q, now), true);
  if (q.limitBytes !== undefined && q.limitBytes >= 0)
    out = Buffer.from(out).subarray(0, q.limitBytes).toString('utf8');
  return out;
}

/** The bytes of `file` from `offset` to its current end; none when it does not exist yet. */
async function readFrom(file: string, offset: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = await fh.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * `follow=true`: sends what the query selects, then each line as the container writes it, until
 * `ended()` says its instance will write no more (it exited, or its pod was deleted) or `signal`
 * (the client going away) stops it. The file is polled every `pollMs`; a line is sent once whole,
 * except the last one of an ended instance, which is sent as it is.
 */
export async function followPodLog(
  file: string,
  q: LogQuery,
  out: Writable,
  ended: () => boolean,
  signal: AbortSignal,
  pollMs = 200,
  now = Date.now(),
): Promise<void> {
  const since = sinceOf(q, now);
  let offset = 0;
  let first = true;
  let budget = q.limitBytes !== undefined && q.limitBytes >= 0 ? q.limitBytes : Infinity;
  try {
    while (!signal.aborted) {
      // Asked before reading: whatever was written before the instance ended is read below.
      const done = ended();
      const chunk = await readFrom(file, offset);
      const whole = done ? chunk.length : chunk.lastIndexOf(0x0a) + 1;
      if (whole > 0) {
        offset += whole;
        let text = select(splitLines(chunk.subarray(0, whole).toString('utf8')), q, since, first);
        if (Buffer.byteLength(text) > budget) text = Buffer.from(text).subarray(0, budget).toString('utf8');
        budget -= Buffer.byteLength(text);
        if (text && !out.write(text)) await once(out, 'drain', { signal });
        if (budget <= 0) return;
      }
      first = false;
      if (done) return;
      await sleep(pollMs, undefined, { signal });
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}
