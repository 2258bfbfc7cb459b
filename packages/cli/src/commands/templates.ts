import { createReadStream, type ReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { HindsightError } from '@hindsight/core';
import { TemplateMiner, parseLogFormat, type LineParser } from '@hindsight/drain';
import type { CommandSpec } from '../command.js';
import { exitCodes } from '../command.js';
import { paint } from '../io.js';

interface TemplatesOptions {
  logFormat?: string;
  jsonl?: boolean;
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
  ],
  define(cmd, { io, setExitCode, signal }) {
    cmd
      .argument('<file>', "a log file, or '-' for standard input")
      .option(
        '--log-format <format>',
        "Loghub-style header format; only <Content> is mined, e.g. '<Date> <Time> <Level> <Content>'",
      )
      .option('--jsonl', 'one JSON object per input line: {"line", "id", "template"}')
      .action(async (file: string, opts: TemplatesOptions) => {
        let parser: LineParser | undefined;
        if (opts.logFormat !== undefined) {
          const parsed = parseLogFormat(opts.logFormat);
          if (!parsed.ok) throw new HindsightError('HINDSIGHT_LOG_FORMAT', parsed.error, '--log-format');
          parser = parsed.parser;
        }
        const input = file === '-' ? process.stdin : await openFile(file);
        const miner = new TemplateMiner();
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
          if (opts.jsonl) {
            buffer += `${JSON.stringify({ line: n, id: r.id, template: r.template })}\n`;
            if (buffer.length >= CHUNK) {
              await write(io.stdout, buffer);
              buffer = '';
            }
          }
        }
        if (opts.jsonl) {
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
    stream.once('error', (err) =>
      reject(
        new HindsightError('HINDSIGHT_USAGE', `cannot read ${file}: ${err.message}`, file, { cause: err }),
      ),
    );
  });
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(text)) resolve();
    else stream.once('drain', () => resolve());
  });
}
