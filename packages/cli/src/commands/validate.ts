import { validateBundle } from '@hindsight/core';
import type { CommandSpec } from '../command.js';
import { exitCodeOf, exitCodes } from '../command.js';
import { paint } from '../io.js';

/** `hindsight validate BUNDLE`: every problem with its file and line; non-zero when there is one. */
export const validateCommand: CommandSpec = {
  name: 'validate',
  summary: 'check a bundle against the format and list every problem with its file and line',
  examples: [
    'hindsight validate test/fixtures/redis-replicas-2-to-6.tar.gz',
    'hindsight validate bundle.tar.gz --json',
  ],
  define(cmd, { io, setExitCode }) {
    cmd
      .argument('<bundle>', 'a bundle folder or .tar.gz')
      .option('--json', 'print the problems as JSON')
      .action(async (bundle: string, opts: { json?: boolean }) => {
        const problems = await validateBundle(bundle);
        const errors = problems.filter((p) => p.severity === 'error').length;
        if (opts.json) {
          io.out(JSON.stringify({ bundle, valid: problems.length === 0, problems }, null, 2));
        } else if (problems.length === 0) {
          io.out(`${paint(io, 'green', 'valid')}  ${bundle}`);
        } else {
          for (const p of problems) {
            const where = p.line === undefined ? p.file : `${p.file}:${p.line}`;
            const sev = p.severity === 'error' ? paint(io, 'red', 'error') : paint(io, 'yellow', 'warning');
            io.out(`${where}  ${sev}  ${p.message}  [${p.code}]`);
          }
          io.out(
            `\n${problems.length} problem${problems.length === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'}): ${
              errors > 0
                ? 'the bundle cannot be read'
                : 'the bundle is readable; the records named are skipped'
            }`,
          );
        }
        // A bundle that is not there is the same failure in every command, not a finding of validate.
        const missing = problems.find((p) => p.code === 'HINDSIGHT_BUNDLE_MISSING');
        setExitCode(
          missing ? exitCodeOf(missing.code) : problems.length === 0 ? exitCodes.ok : exitCodes.problems,
        );
      });
  },
};
