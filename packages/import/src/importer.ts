import { HindsightError, type Manifest, type Warning } from '@hindsight/core';
import type { ZodType } from 'zod';

/** What an import wrote, and every problem it skipped past. */
export interface ImportResult {
  bundle: string;
  manifest: Manifest;
  warnings: Warning[];
  /** Records written, by kind (`pods`, `log lines`, `series`...); zero counts are left out of reports. */
  counts: Record<string, number>;
}

/** What every import is given, whatever it reads. */
export interface ImportContext {
  /** The bundle folder to write. */
  output: string;
  /** Write into a folder that already holds files. */
  overwrite: boolean;
  /** The user's own redaction patterns (`--redact-pattern`), applied with the catalogue to every record. */
  redactPatterns?: readonly RegExp[];
  /** Stops the import (Ctrl-C in the CLI). */
  signal?: AbortSignal;
}

/**
 * One command-line option of an importer, in commander's syntax (`--from <time>`, `--no-baseline`).
 * Its value reaches the importer's schema under commander's name for it (`--values-glob` ->
 * `valuesGlob`).
 */
export interface ImporterFlag {
  flags: string;
  description: string;
  /** Shown in the help and given when the flag is absent. */
  default?: string | boolean;
  /** The flag may be given more than once; its values arrive as a list. */
  repeatable?: boolean;
}

/** What an importer's file declares; {@link defineImporter} makes it an {@link Importer}. */
export interface ImporterSpec<Options> {
  /** The subcommand: `hindsight import <name>`. */
  name: string;
  /** One line for the help. */
  summary: string;
  /**
   * The positional argument: its name in the usage line, its help, and what messages call what
   * was read (`imported support bundle x.tar.gz into ...`).
   */
  input: { name: string; description: string; noun: string };
  flags: readonly ImporterFlag[];
  /** Parses the flags' values (unknown keys are dropped). */
  schema: ZodType<Options>;
  /** Shown under "Examples:" in the help. */
  examples?: readonly string[];
  run(input: string, options: Options, ctx: ImportContext): Promise<ImportResult>;
}

/**
 * One kind of outside data hindsight turns into a bundle. An importer declares its input, its flags
 * and their schema; `hindsight import <name>` is derived from it, so adding one is its file and
 * one line in `importers`. It only reads its input and writes through a `BundleWriter`; it never
 * analyses.
 */
export interface Importer {
  name: string;
  summary: string;
  input: { name: string; description: string; noun: string };
  flags: readonly ImporterFlag[];
  examples: readonly string[];
  /**
   * Validates `flags` (values keyed by commander's names; others are ignored) with the importer's
   * schema and imports. A value the schema refuses is a `HINDSIGHT_USAGE` error naming the flag.
   */
  run(input: string, flags: Readonly<Record<string, unknown>>, ctx: ImportContext): Promise<ImportResult>;
}

/** Turns an importer's declaration into the registry's form, its flags checked by its schema. */
export function defineImporter<Options>(spec: ImporterSpec<Options>): Importer {
  return {
    name: spec.name,
    summary: spec.summary,
    input: spec.input,
    flags: spec.flags,
    examples: spec.examples ?? [],
    async run(input, flags, ctx) {
      const parsed = spec.schema.safeParse(flags);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const flag = issue?.path.map(String).join('.');
        throw new HindsightError(
          'HINDSIGHT_USAGE',
          `import ${spec.name}: ${flag ? `${flag}: ` : ''}${issue?.message ?? 'invalid options'}`,
        );
      }
      return spec.run(input, parsed.data, ctx);
    },
  };
}
