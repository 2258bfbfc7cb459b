import { createReadStream, mkdtempSync, rmSync, type ReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { HindsightError } from '@hindsight/core';
import { TemplateMiner, parseLogFormat, type LineParser, type MatchResult } from '@hindsight/drain';
import type { CommandSpec } from '../command.js';
import { exitCodes } from '../command.js';
import { paint } from '../io.js';

interface TemplatesOptions {
  logFormat?: string;
  jsonl?: boolean;
  final?: boolean;
}

// JSONL output is gathered into chunks of this many characters before each write: one write per
// line costs more than mining the line.
const CHUNK = 1 << 16;

/** `hindsight templates FILE`: mines log templates from a file or standard input, streaming. */
export const templatesCommand: CommandSpec = {
  name: 'templates',
  summary: 'mine log templates from a file (or - for stdin) with the Drain miner',
  examples: [
    'hindsight templates app.log',
    "hindsight templates HDFS_2k.log --log-format '<Date> <Time> <Pid> <Level> <Component>: <Content>'",
    'kubectl logs deploy/shop | hindsight templates - --jsonl',
    'hindsight templates app.log --final > lines.jsonl',
  ],
  define(cmd, { io, setExitCode, signal }) {
    cmd
      .argument('<file>', "a log file, or '-' for standard input")
      .option(
        '--log-format <format>',
        "Loghub-style header format; only <Content> is mined, e.g. '<Date> <Time> <Level> <Content>'",
      )
      .option(
        '--jsonl',
        'streams one JSON object per input line, {"line", "id", "template"}: the id is the cluster\'s for life, ' +
          'the template as it stood once the line was read; before a line that changes a template comes ' +
          '{"event":"generalised","id","template"} (or {"event":"merged","id","into","template"} when a ' +
          'cluster ends in an older one): earlier lines of that id have the new template',
      )
      .option(
        '--final',
        "one JSON object per input line with its cluster's final template, written after the whole input is " +
          'read; the input is not held in memory: 4 bytes per line (its cluster) go to a temporary file, ' +
          'read back at the end',
      )
      .action(async (file: string, opts: TemplatesOptions) => {
        let parser: LineParser | undefined;
        if (opts.logFormat !== undefined) {
          const parsed = parseLogFormat(opts.logFormat);
          if (!parsed.ok) throw new HindsightError('HINDSIGHT_LOG_FORMAT', parsed.error, '--log-format');
          parser = parsed.parser;
        }
        const input = file === '-' ? process.stdin : await openFile(file);
        const miner = new TemplateMiner();
        const spill = opts.final ? await Spill.create() : undefined;
        const lines = createInterface({ input, crlfDelay: Infinity });
        let n = 0;
        let unmatched = 0;
        let firstUnmatched = 0;
        let buffer = '';
        for await (const line of lines) {
          if (signal.aborted) break;
          n++;
          let content = line;
          if (parser !== undefined) {
            const p = parser.parse(line);
            if (p === undefined) {
              unmatched++;
              if (firstUnmatched === 0) firstUnmatched = n;
            } else content = p.content;
          }
          const r = miner.add(content);
          if (spill !== undefined) await spill.add(r);
          else if (opts.jsonl) {
            buffer += jsonlRecord(n, r);
            if (buffer.length >= CHUNK) {
              await write(io.stdout, buffer);
              buffer = '';
            }
          }
        }
        if (spill !== undefined) {
          try {
            if (!signal.aborted) await spill.replay((text) => write(io.stdout, text));
          } finally {
            await spill.dispose();
          }
        } else if (opts.jsonl) {
          if (buffer.length > 0) await write(io.stdout, buffer);
        } else {
          const templates = miner.templates();
          const width = String(templates[0]?.count ?? 0).length;
          io.out(
            `${paint(io, 'bold', 'count'.padStart(Math.max(width, 5)))}  ${paint(io, 'bold', 'id'.padEnd(16))}  ${paint(io, 'bold', 'template')}`,
          );
          for (const t of templates) {
            io.out(
              `${String(t.count).padStart(Math.max(width, 5))}  ${paint(io, 'dim', t.id)}  ${t.template}`,
            );
          }
          io.out(
            `\n${n} line${n === 1 ? '' : 's'}, ${templates.length} template${templates.length === 1 ? '' : 's'}`,
          );
        }
        if (unmatched > 0) {
          io.err(
            `${paint(io, 'yellow', 'warning')} ${unmatched} of ${n} lines did not match the log format and were mined whole (first: line ${firstUnmatched})  [HINDSIGHT_LOG_FORMAT]`,
          );
        }
        const truncated = miner.stats().truncated;
        if (truncated > 0) {
          io.err(`${paint(io, 'yellow', 'warning')} ${truncated} over-long lines were cut before mining`);
        }
        setExitCode(signal.aborted ? exitCodes.interrupted : exitCodes.ok);
      });
  },
};

function openFile(file: string): Promise<ReadStream> {
  return new Promise((resolve, reject) => {
    const stream = createReadStream(file);
    stream.once('open', () => resolve(stream));
    stream.once('error', (err) => {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        missing
          ? new HindsightError('HINDSIGHT_INPUT_MISSING', 'file not found', file, { cause: err })
          : new HindsightError('HINDSIGHT_USAGE', `cannot read ${file}: ${err.message}`, file, {
              cause: err,
            }),
      );
    });
  });
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', () => resolve());
  });
}

/** One line's record in the `--jsonl` stream, after the event its result announces, if any. */
function jsonlRecord(n: number, r: MatchResult): string {
  let out = '';
  if (r.previousId !== undefined) {
    out = `${JSON.stringify({ event: 'merged', id: r.previousId, into: r.id, template: r.template })}\n`;
  } else if (r.change === 'updated') {
    out = `${JSON.stringify({ event: 'generalised', id: r.id, template: r.template })}\n`;
  }
  return `${out}${JSON.stringify({ line: n, id: r.id, template: r.template })}\n`;
}

// Cluster numbers are buffered this many at a time before each write to (and read from) the spill file.
const SPILL_CHUNK = 1 << 14;

/**
 * `--final` without holding the input: each line's cluster, as a 4-byte number, goes to a
 * temporary file; the clusters' templates are kept as they change (one entry per cluster, however
 * many lines); at the end the file is read back and every line written with its cluster's last
 * template (following merges). Memory: the clusters and two fixed buffers.
 */
class Spill {
  private readonly numbers = new Map<string, number>();
  private readonly ids: string[] = [];
  private readonly templates: string[] = [];
  // For a cluster that ended in another: that one's number, else its own.
  private readonly into: number[] = [];
  private readonly buffer = new Uint32Array(SPILL_CHUNK);
  private used = 0;
  private removed = false;

  private constructor(
    private readonly dir: string,
    private readonly file: FileHandle,
  ) {}

  static async create(): Promise<Spill> {
    const dir = mkdtempSync(join(tmpdir(), 'hindsight-templates-'));
    let file: FileHandle;
    try {
      file = await open(join(dir, 'clusters.u32'), 'w+');
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const spill = new Spill(dir, file);
    // Removed at once where the system allows it (the open file lives on until it is closed), so
    // nothing is left behind even when the process ends abruptly (a closed pipe exits at once).
    try {
      rmSync(dir, { recursive: true, force: true });
      spill.removed = true;
    } catch {
      // Removed by dispose() instead.
    }
    return spill;
  }

  /** Records one line's cluster, and what its result says about the cluster's template. */
  async add(r: MatchResult): Promise<void> {
    const k = this.number(r.id);
    this.templates[k] = r.template;
    if (r.previousId !== undefined) this.into[this.number(r.previousId)] = k;
    this.buffer[this.used++] = k;
    if (this.used === SPILL_CHUNK) await this.flush();
  }

  /** Writes every line's record, with its cluster's final template, through `out`. */
  async replay(out: (text: string) => Promise<void>): Promise<void> {
    await this.flush();
    const final = this.ids.map((_, k) => {
      let j = k;
      for (let hops = 0; this.into[j] !== j && hops < this.ids.length; hops++) j = this.into[j] as number;
      // A record's constant part, ready to follow its line number.
      return `,${JSON.stringify({ id: this.ids[j], template: this.templates[j] }).slice(1)}\n`;
    });
    const bytes = new Uint8Array(this.buffer.buffer);
    let line = 0;
    for (let pos = 0; ;) {
      const { bytesRead } = await this.file.read(bytes, 0, bytes.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      let text = '';
      for (let i = 0; i < bytesRead / 4; i++)
        text += `{"line":${++line}${final[this.buffer[i] as number] as string}`;
      await out(text);
    }
  }

  async dispose(): Promise<void> {
    await this.file.close();
    if (!this.removed) rmSync(this.dir, { recursive: true, force: true });
  }

  private number(id: string): number {
    let k = this.numbers.get(id);
    if (k === undefined) {
      k = this.ids.length;
      this.numbers.set(id, k);
      this.ids.push(id);
      this.templates.push('');
      this.into.push(k);
    }
    return k;
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.file.write(new Uint8Array(this.buffer.buffer, 0, this.used * 4));
    this.used = 0;
  }
}
