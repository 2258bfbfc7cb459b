import { importers, type ImportResult } from '@hindsight/import';
import type { Command } from 'commander';
import type { CommandContext, CommandSpec } from '../command.js';
import { paint } from '../io.js';
import { heartbeat, writtenUnder } from '../progress.js';
import { bundleOutputOf, bundleOutputOptions, requireZone, type BundleOutputFlags } from '../flags.js';
import { redactPatternOption, redactPatternsOf } from './redact-pattern.js';

/** The flags every import has; each importer adds its own. */
interface OutputOptions extends BundleOutputFlags {
  force?: boolean;
  redactPattern: string[];
}

const collectAll = (value: string, previous: string[]): string[] => [...previous, value];

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
    bundleOutputOptions(cmd, 'the counts and every warning').option(
      '--force',
      'write into a folder that already holds files',
    ),
    'the bundle',
  );
}

/** `hindsight import`: one subcommand per importer of the registry, its flags and help derived from it. */
export const importCommand: CommandSpec = {
  name: 'import',
  summary: `turn outside data into a bundle (${importers.map((i) => i.name).join(', ')})`,
  examples: importers.flatMap((i) => i.examples),
  define(cmd, ctx) {
    for (const importer of importers) {
      const sub = outputOptions(cmd.command(importer.name).description(importer.summary));
      for (const flag of importer.flags) {
        if (flag.repeatable) sub.option(flag.flags, flag.description, collectAll, []);
        else if (flag.default !== undefined) sub.option(flag.flags, flag.description, flag.default);
        else sub.option(flag.flags, flag.description);
      }
      sub
        .argument(`<${importer.input.name}>`, importer.input.description)
        .action(async (input: string, opts: OutputOptions & Record<string, unknown>) => {
          const out = bundleOutputOf(opts);
          const redactPatterns = redactPatternsOf(opts);
          for (const flag of ['from', 'to'] as const) {
            if (typeof opts[flag] === 'string') requireZone(opts[flag], `--${flag}`);
          }
          const beat = heartbeat(ctx.io, `importing ${importer.input.noun} ${input}`, () =>
            writtenUnder(out.dir),
          );
          const result = await importer
            .run(input, opts, {
              output: out.dir,
              overwrite: opts.force ?? false,
              ...(redactPatterns.length > 0 ? { redactPatterns } : {}),
              signal: ctx.signal,
            })
            .finally(() => beat.stop());
          report(ctx, `${importer.input.noun} ${input}`, result, out.json);
        });
    }
  },
};
