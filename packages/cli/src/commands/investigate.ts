import { writeFile } from 'node:fs/promises';
import { Option } from 'commander';
import { HindsightError } from '@hindsight/core';
import { investigate, isReporterName, reporters, type ReporterName } from '@hindsight/investigate';
import type { CommandSpec } from '../command.js';
import { exitCodes } from '../command.js';
import { paint } from '../io.js';

interface InvestigateOptions {
  top: string;
  json?: boolean;
  markdown?: string;
  html?: string;
  format?: string;
  output?: string;
}

// Progress appears only when the run takes longer than this: a small bundle prints nothing extra.
const PROGRESS_AFTER_MS = 1000;

/** `hindsight investigate BUNDLE`: ranks the likely causes in a bundle and reports them. */
export const investigateCommand: CommandSpec = {
  name: 'investigate',
  summary: 'rank the likely causes of a failure in a bundle: changes, anomalies and their evidence',
  examples: [
    'hindsight investigate test/fixtures/redis-replicas-2-to-6.tar.gz',
    'hindsight investigate bundle.tar.gz --top 3 --html report.html',
    'hindsight investigate bundle --json | jq .hypotheses[0].cause',
  ],
  define(cmd, { io, setExitCode, signal }) {
    const names = Object.keys(reporters);
    cmd
      .argument('<bundle>', 'a bundle folder or .tar.gz')
      .option('--top <k>', 'how many hypotheses to report', '5')
      .option('--json', 'print the report as JSON (schema in docs/report.md)')
      .option('--markdown <file>', 'also write a Markdown report to FILE')
      .option('--html <file>', 'also write a self-contained HTML report with charts to FILE')
      .addOption(new Option('--format <name>', 'print the report in this format').choices(names))
      .option('--output <file>', 'write the --format output to FILE instead of stdout')
      .action(async (bundle: string, opts: InvestigateOptions) => {
        const top = Number(opts.top);
        if (!Number.isInteger(top) || top < 1) {
          throw new HindsightError(
            'HINDSIGHT_USAGE',
            `--top must be a whole number of at least 1, not "${opts.top}"`,
            '--top',
          );
        }
        const format = opts.json ? 'json' : (opts.format ?? 'terminal');
        if (!isReporterName(format)) {
          throw new HindsightError(
            'HINDSIGHT_USAGE',
            `unknown format "${format}"; choose one of ${names.join(', ')}`,
            '--format',
          );
        }
        const started = Date.now();
        let lastShown = 0;
        const onProgress = (what: string): void => {
          const now = Date.now();
          if (now - started < PROGRESS_AFTER_MS || now - lastShown < 500) return;
          lastShown = now;
          io.err(paint(io, 'dim', `... ${what} (${((now - started) / 1000).toFixed(0)} s)`));
        };
        const report = await investigate(bundle, { top, onProgress, signal });
        if (signal.aborted) {
          setExitCode(exitCodes.interrupted);
          return;
        }
        const render = (name: ReporterName): string =>
          reporters[name].render(report, { paint: (style, text) => paint(io, style, text) });
        const written: string[] = [];
        if (opts.markdown) {
          await writeFile(opts.markdown, reporters.markdown.render(report));
          written.push(`Markdown report: ${opts.markdown}`);
        }
        if (opts.html) {
          await writeFile(opts.html, reporters.html.render(report));
          written.push(`HTML report: ${opts.html}`);
        }
        if (opts.output) {
          await writeFile(opts.output, reporters[format].render(report));
          written.push(`${format} report: ${opts.output}`);
        } else {
          io.out(render(format));
        }
        for (const w of written) (format === 'terminal' && !opts.output ? io.out : io.err)(w);
        setExitCode(exitCodes.ok);
      });
  },
};
