import type { Writable } from 'node:stream';

/** Where a command writes, and whether it may use colour. Tests pass their own streams. */
export interface Io {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  color: boolean;
  /** Whether long work shows its progress on stderr: on a terminal, or with --progress. */
  progress: boolean;
  /** Lines for the user on stdout. */
  out(text: string): void;
  /** Progress, warnings and errors on stderr. */
  err(text: string): void;
}

/** Colour is on for a terminal, unless NO_COLOR is set (https://no-color.org) or --no-color is given. */
export function makeIo(
  stdout: Io['stdout'],
  stderr: Io['stderr'],
  env: NodeJS.ProcessEnv,
  argv: readonly string[],
): Io {
  const color =
    stdout.isTTY === true &&
    (env['NO_COLOR'] === undefined || env['NO_COLOR'] === '') &&
    !argv.includes('--no-color') &&
    env['TERM'] !== 'dumb';
  return {
    stdout,
    stderr,
    color,
    progress: stderr.isTTY === true || argv.includes('--progress'),
    out: (text) => void stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => void stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

const codes = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
  bold: 1,
  dim: 2,
} as const;
export type Style = keyof typeof codes;

/** Wraps text in an ANSI style when colour is on. */
export function paint(io: Pick<Io, 'color'>, style: Style, text: string): string {
  return io.color
    ? `\u001b[${codes[style]}m${text}\u001b[${style === 'bold' || style === 'dim' ? 22 : 39}m`
    : text;
}
