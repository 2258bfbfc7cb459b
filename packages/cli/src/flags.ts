import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HindsightError } from '@hindsight/core';
import type { Command } from 'commander';

/** What `-o` chooses in commands that write a bundle: the form of what they print, as in kubectl. */
export const PRINT_FORMATS = ['text', 'json'] as const;

/** The flags of a command that writes a bundle folder and prints what it wrote. */
export interface BundleOutputFlags {
  outDir?: string;
  output?: string;
  json?: boolean;
}

/**
 * Adds `--out-dir DIR` (the bundle folder) and `-o, --output FORMAT` (text or json, what is printed):
 * `-o` is a format for every kubectl user, so it never names a folder.
 */
export function bundleOutputOptions(cmd: Command, what: string): Command {
  return cmd
    .option('--out-dir <dir>', 'the bundle folder to write (required)')
    .option('-o, --output <format>', `print ${what} as ${PRINT_FORMATS.join('|')} (default: text)`)
    .option('--json', 'the same as -o json');
}

/**
 * The bundle folder and the printed format; `-o DIR`, the old form, is refused with the flag that
 * replaced it, before any work.
 */
export function bundleOutputOf(flags: BundleOutputFlags): { dir: string; json: boolean } {
  const format = flags.output;
  if (format !== undefined && !(PRINT_FORMATS as readonly string[]).includes(format)) {
    throw new HindsightError(
      'HINDSIGHT_USAGE',
      `-o/--output is the format printed (${PRINT_FORMATS.join(', ')}), as in kubectl, not the bundle folder: write the bundle with --out-dir ${format}`,
      '-o',
    );
  }
  if (!flags.outDir) {
    throw new HindsightError(
      'HINDSIGHT_USAGE',
      'give the bundle folder to write with --out-dir DIR',
      '--out-dir',
    );
  }
  return { dir: flags.outDir, json: flags.json === true || format === 'json' };
}

// An RFC 3339 time ends in Z or an offset; a bare date is a day in UTC, as JavaScript reads it.
const HAS_ZONE = /(?:Z|[+-]\d\d:?\d\d)$/i;
const HAS_TIME = /\d[T ]\d{1,2}:\d\d/i;

/**
 * Refuses a time of day without a zone: read as local time it would shift the window by the
 * machine's offset without a word. Undefined passes.
 */
export function requireZone(text: string | undefined, flag: string): void {
  if (text === undefined || !HAS_TIME.test(text) || HAS_ZONE.test(text.trim())) return;
  throw new HindsightError(
    'HINDSIGHT_USAGE',
    `${flag} ${JSON.stringify(text)} has no time zone: add Z for UTC (${text.trim()}Z) or an offset such as +02:00`,
    flag,
  );
}

/**
 * The kubeconfig as kubectl finds it: --kubeconfig, else $KUBECONFIG (a list of files, merged),
 * else ~/.kube/config when it exists and `implied` (the command line asks for the cluster).
 * The result may be a list joined by the path delimiter, which collect merges as kubectl does.
 */
export function resolveKubeconfig(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  implied: boolean,
): string | undefined {
  if (flag) return flag;
  const list = (env['KUBECONFIG'] ?? '').split(path.delimiter).filter((f) => f !== '');
  if (list.length > 0) return list.join(path.delimiter);
  if (!implied) return undefined;
  const home = env['HOME'] || os.homedir();
  const file = path.join(home, '.kube', 'config');
  return existsSync(file) ? file : undefined;
}
