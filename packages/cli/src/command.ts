import type { Command } from 'commander';
import type { ErrorCode } from '@hindsight/core';
import type { Io } from './io.js';

/** Exit codes, documented in docs/cli.md. */
export const exitCodes = {
  ok: 0,
  /** The command ran and found what it was asked to look for (an invalid bundle, a failing check). */
  problems: 1,
  /** The command line was wrong. */
  usage: 2,
  /** The command could not do its job (an unreadable bundle, every source down). */
  failed: 3,
  /** Interrupted by Ctrl-C. */
  interrupted: 130,
} as const;

// Failures that a changed command line fixes; every other catalogued failure means the command
// could not do its job.
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'HINDSIGHT_USAGE',
  'HINDSIGHT_REDACT_PATTERN',
]);

/**
 * The exit code of an error code, the same in every command: 2 for a wrong command line, 3 for
 * everything else (a missing bundle or input file, an unreadable bundle, a failed lab step).
 */
export function exitCodeOf(code: ErrorCode): number {
  return USAGE_CODES.has(code) ? exitCodes.usage : exitCodes.failed;
}

/** What an action gets besides its arguments. */
export interface CommandContext {
  io: Io;
  /** Set by an action to choose the exit code (0 when left alone). */
  setExitCode(code: number): void;
  /** Aborted on SIGINT/SIGTERM so long work can stop cleanly. */
  signal: AbortSignal;
  /** The environment the command reads ($KUBECONFIG, ...): the process's, or a test's. */
  env: NodeJS.ProcessEnv;
}

/**
 * One `hindsight` subcommand. Commands are registered in one list (commands/index.ts); the CLI's
 * help is derived from them.
 */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Shown under "Examples:" in the command's --help. */
  examples: string[];
  /** Declares arguments and options on `cmd` and its action. */
  define(cmd: Command, ctx: CommandContext): void;
}
