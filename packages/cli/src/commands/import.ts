import { importRcaDataset, importSupportBundle, type ImportResult } from '@hindsight/import';
import type { Command } from 'commander';
import type { CommandContext, CommandSpec } from '../command.js';
import { paint } from '../io.js';
import { redactPatternOption, redactPatternsOf } from './redact-pattern.js';

interface ImportOptions {
  output: string;
  force?: boolean;
  json?: boolean;
  from?: string;
  to?: string;
  namespace?: string;
  /** A folder name, or false for --no-baseline; undefined lets the importer choose. */
  baseline?: string | false;
  redactPattern: string[];
}

// Warnings beyond this many are counted, not printed: a broken file can have one per row.
const SHOWN_WARNINGS = 15;

function report(ctx: CommandContext, what: string, result: ImportResult, json: boolean | undefined): void {
  const { io } = ctx;
  if (json) {
    io.out(JSON.stringify(result, null, 2));
    return;
  }
  const counts = Object.entries(result.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  io.out(`${paint(io, 'green', 'imported')} ${what} into ${result.bundle}`);
  io.out(`  window  ${result.manifest.window.from} .. ${result.manifest.window.to}`);
  io.out(`  wrote   ${counts}`);
  for (const w of result.warnings.slice(0, SHOWN_WARNINGS)) {
    io.err(`${w.where ?? w.name}  ${paint(io, 'yellow', 'warning')}  ${w.message}  [${w.code}]`);
  }
  if (result.warnings.length > SHOWN_WARNINGS) {
    io.err(`... and ${result.warnings.length - SHOWN_WARNINGS} more warnings (--json lists them all)`);
  }
  io.out(`Next: hindsight investigate ${result.bundle}`);
}

function outputOptions(cmd: Command): Command {
  return redactPatternOption(
    cmd
      .requiredOption('-o, --output <bundle>', 'the bundle folder to write')
      .option('--force', 'write into a folder that already holds files')
      .option('--json', 'print the counts and every warning as JSON'),
    'the bundle',
  );
}

/** `hindsight import`: real-world data (troubleshoot support bundles, RCA datasets) into a bundle. */
export const importCommand: CommandSpec = {
  name: 'import',
  summary: 'turn a Kubernetes support bundle or a microservice RCA dataset into a bundle',
  examples: [
    'hindsight import support-bundle support-bundle.tar.gz -o sb-bundle',
    'hindsight import rca-dataset ../shared/data/nezha-tt-dev -o tt --from 2023-01-29T09:52:00Z --to 2023-01-29T10:12:00Z',
  ],
  define(cmd, ctx) {
    outputOptions(
      cmd
        .command('support-bundle')
        .description(
          'a troubleshoot support bundle (.tar.gz or its folder): pods, events, logs, rollouts, Helm',
        ),
    )
      .argument('<file>', 'the support bundle, .tar.gz or unpacked folder')
      .action(async (file: string, opts: ImportOptions) => {
        const redactPatterns = redactPatternsOf(opts);
        const result = await importSupportBundle(file, opts.output, {
          overwrite: opts.force ?? false,
          ...(redactPatterns.length > 0 ? { redactPatterns } : {}),
          signal: ctx.signal,
        });
        report(ctx, `support bundle ${file}`, result, opts.json);
      });
    outputOptions(
      cmd
        .command('rca-dataset')
        .description('a folder of metric, log and span CSVs (Nezha, RCAEval layouts); every column kept'),
    )
      .argument('<dir>', 'the dataset folder')
      .option('--from <time>', 'keep records from this time (RFC 3339)')
      .option('--to <time>', 'keep records up to this time (RFC 3339)')
      .option('--namespace <ns>', 'namespace given to the pods (the datasets record none)', 'default')
      .option(
        '--baseline <dir>',
        "a sub-folder of fault-free reference data, imported whole and declared the bundle's baseline (default: construct_data when present)",
      )
      .option('--no-baseline', 'import no baseline, even when the dataset has one')
      .action(async (dir: string, opts: ImportOptions) => {
        const redactPatterns = redactPatternsOf(opts);
        const result = await importRcaDataset(dir, opts.output, {
          ...(redactPatterns.length > 0 ? { redactPatterns } : {}),
          ...(opts.from ? { from: opts.from } : {}),
          ...(opts.to ? { to: opts.to } : {}),
          ...(opts.namespace ? { namespace: opts.namespace } : {}),
          ...(opts.baseline !== undefined ? { baseline: opts.baseline } : {}),
          overwrite: opts.force ?? false,
          signal: ctx.signal,
        });
        report(ctx, `dataset ${dir}`, result, opts.json);
      });
  },
};
