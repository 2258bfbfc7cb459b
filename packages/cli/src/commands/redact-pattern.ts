import { compileRedactPatterns } from '@hindsight/core';
import type { Command } from 'commander';

/** The `--redact-pattern` values of a command: repeatable, empty by default. */
export interface RedactPatternFlags {
  redactPattern: string[];
}

const append = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Adds `--redact-pattern <regex>` (repeatable): the user's own secrets, redacted with the built-in
 * catalogue in everything the command writes. One flag, one help text, for every command that
 * writes a bundle or a report.
 */
export function redactPatternOption(cmd: Command, what: string): Command {
  return cmd.option(
    '--redact-pattern <regex>',
    `also redact text matching REGEX (JavaScript syntax, or /REGEX/FLAGS) in ${what}, besides the built-in catalogue; a capturing group narrows it to the group (repeatable)`,
    append,
    [],
  );
}

/** The compiled patterns; an invalid one is a HINDSIGHT_REDACT_PATTERN error naming it, before any work. */
export function redactPatternsOf(flags: RedactPatternFlags): RegExp[] {
  return compileRedactPatterns(flags.redactPattern, '--redact-pattern');
}
