import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { errorMessage, HindsightError } from '@hindsight/core';

/** One JSON document of an OTLP file, with the line it starts on (undefined for a whole-file document). */
export interface OtlpDocument {
  doc: unknown;
  line?: number;
}

/** Reports a place of a file that could not be read; reading goes on. */
export type OtlpProblem = (file: string, line: number | undefined, message: string) => void;

// What a folder's OTLP files are called: the collector's file exporter writes whatever path it is
// given; these are the names its docs and the OTLP file spec use (.jsonl preferred), gzipped or not.
const OTLP_FILE = /\.(jsonl?|ndjson)(\.gz)?$/i;
// A document spread over many lines (pretty-printed, as opentelemetry-proto's examples/trace.json)
// must be read whole to be parsed; beyond this it is refused rather than risking the memory, and so
// is a line as long.
const WHOLE_FILE_LIMIT = 256 * 1024 * 1024;

/**
 * The OTLP files to read: `input` itself when it is a file, else the files under it (recursively)
 * named `*.json`, `*.jsonl`, `*.ndjson`, optionally `.gz`, in name order. A missing path, or a
 * folder without one such file, is `HINDSIGHT_INPUT_MISSING`.
 */
export async function otlpFiles(input: string): Promise<string[]> {
  const info = await stat(input).catch(() => undefined);
  if (!info) throw new HindsightError('HINDSIGHT_INPUT_MISSING', 'OTLP file or folder not found', input);
  if (info.isFile()) {
    if (info.size === 0) throw new HindsightError('HINDSIGHT_INPUT_MISSING', 'the OTLP file is empty', input);
    return [input];
  }
  const entries = await readdir(input, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && OTLP_FILE.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  if (files.length === 0) {
    throw new HindsightError(
      'HINDSIGHT_INPUT_MISSING',
      'no OTLP JSON file (*.json, *.jsonl, *.ndjson, optionally .gz) in the folder',
      input,
    );
  }
  return files;
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** The text of a file, gunzipped when it is gzip (by its first bytes, whatever its name), in chunks. */
async function* chunks(file: string): AsyncGenerator<string> {
  const raw = createReadStream(file);
  const stream = (await isGzip(file)) ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (err) => stream.destroy(err));
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield decoder.write(chunk);
    yield decoder.end();
  } finally {
    raw.destroy();
  }
}

/** The lines of a file with their 1-based numbers, streamed. */
async function* lines(file: string): AsyncGenerator<{ text: string; line: number }> {
  let rest = '';
  let n = 0;
  for await (const text of chunks(file)) {
    // Only the new text can hold the next break: a long line is not searched again chunk by chunk.
    let nl = text.indexOf('\n');
    if (nl >= 0) nl += rest.length;
    rest += text;
    let from = 0;
    while (nl >= 0) {
      n += 1;
      yield { text: rest.slice(from, nl), line: n };
      from = nl + 1;
      nl = rest.indexOf('\n', from);
    }
    rest = rest.slice(from);
    // A file with no line breaks is not a collector's: it is refused before it fills the memory.
    if (rest.length > WHOLE_FILE_LIMIT)
      throw new Error(`line ${n + 1} is longer than ${WHOLE_FILE_LIMIT / 1024 / 1024} MiB`);
  }
  if (rest.length > 0) yield { text: rest, line: n + 1 };
}

/** Where a JSON.parse error's position falls, as a line of the text (for a whole-file document). */
function lineOfPosition(text: string, err: unknown): number | undefined {
  const m = /position (\d+)/.exec(errorMessage(err));
  if (!m) return undefined;
  let line = 1;
  const end = Math.min(Number(m[1]), text.length);
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line += 1;
  return line;
}

/**
 * Streams the JSON documents of an OTLP file: one a line (the collector's file exporter; blank lines
 * skipped), or, when its first line is a lone `{` or `[`, the file as one pretty-printed document (an
 * array is a list of documents). A line that is not JSON is reported with its file and line and
 * skipped; a gzip file cut short ends the file with a problem, after what it held.
 */
export async function* otlpDocuments(file: string, problem: OtlpProblem): AsyncGenerator<OtlpDocument> {
  let whole: string[] | undefined;
  let size = 0;
  try {
    for await (const { text, line } of lines(file)) {
      if (whole) {
        size += text.length + 1;
        if (size > WHOLE_FILE_LIMIT) {
          problem(
            file,
            undefined,
            `a pretty-printed document over ${WHOLE_FILE_LIMIT / 1024 / 1024} MiB is not read; write it one JSON document a line`,
          );
          return;
        }
        whole.push(text);
        continue;
      }
      const t = text.trim();
      if (t === '') continue;
      if (line === 1 && (t === '{' || t === '[')) {
        whole = [text];
        continue;
      }
      try {
        yield { doc: JSON.parse(t) as unknown, line };
      } catch (err) {
        problem(file, line, `not a JSON document: ${errorMessage(err)}; line skipped`);
      }
    }
  } catch (err) {
    problem(file, undefined, `cannot read the rest of the file: ${errorMessage(err)}`);
    return;
  }
  if (!whole) return;
  const text = whole.join('\n');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    problem(file, lineOfPosition(text, err), `not a JSON document: ${errorMessage(err)}`);
    return;
  }
  for (const doc of Array.isArray(parsed) ? parsed : [parsed]) yield { doc };
}
