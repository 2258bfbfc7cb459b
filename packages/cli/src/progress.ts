import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Io } from './io.js';
import { paint } from './io.js';

// Work shorter than this says nothing: progress is for the wait a user notices.
const AFTER_MS = 1000;
// Off a terminal (--progress), one line this often, so that a log of the run stays short.
const LINE_EVERY_MS = 5000;

/** A line of progress on stderr while long work runs; {@link Heartbeat.stop} ends it. */
export interface Heartbeat {
  stop(): void;
}

/**
 * Shows `label`, the seconds spent and what `probe` tells (bytes written, pods ready) on stderr,
 * from the first second on, when stderr is a terminal (redrawn in place) or --progress is given
 * (a line every 5 s). Does nothing otherwise.
 */
export function heartbeat(io: Io, label: string, probe?: () => Promise<string>): Heartbeat {
  if (!io.progress) return { stop: () => undefined };
  const started = Date.now();
  const tty = io.stderr.isTTY === true;
  let drawn = false;
  let busy = false;
  let lastLine = 0;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const now = Date.now();
      if (!tty && now - lastLine < LINE_EVERY_MS) return;
      lastLine = now;
      const detail = probe ? await probe().catch(() => '') : '';
      const text = `... ${label} (${Math.round((now - started) / 1000)} s${detail ? `, ${detail}` : ''})`;
      if (timer === undefined) return;
      if (tty) io.stderr.write(`\r\u001b[2K${paint(io, 'dim', text)}`);
      else io.err(text);
      drawn = true;
    } finally {
      busy = false;
    }
  };
  let timer: NodeJS.Timeout | undefined = setInterval(() => void tick(), 1000);
  const first = setTimeout(() => void tick(), AFTER_MS);
  timer.unref();
  first.unref();
  return {
    stop() {
      clearInterval(timer);
      clearTimeout(first);
      timer = undefined;
      if (tty && drawn) io.stderr.write('\r\u001b[2K');
    },
  };
}

/** The files under `dir` and their size, as `12 files, 34.5 MB written`; empty when there is no folder. */
export async function writtenUnder(dir: string): Promise<string> {
  let files = 0;
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        files += 1;
        bytes += (await stat(p)).size;
      }
    }
  };
  await walk(dir);
  return `${files} file${files === 1 ? '' : 's'}, ${(bytes / 1e6).toFixed(1)} MB written`;
}
