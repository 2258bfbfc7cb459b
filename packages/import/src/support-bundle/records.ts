import { errorMessage } from '@hindsight/core';
import type { Warn } from './files.js';

/** The part of a schema of the bundle format used here (core's zod schemas have it). */
export interface RecordSchema<T> {
  safeParse(value: unknown):
    | { success: true; data: T }
    | {
        success: false;
        error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> };
      };
}

/**
 * Checks a record made from the support bundle against the bundle schema it will be written with.
 * A record that fails (a count of 2.5, a restartCount of -1, a message that is a number) is
 * skipped with a warning naming its file, the record and the field, and undefined is returned:
 * the import goes on without it.
 */
export function checked<T>(
  schema: RecordSchema<T>,
  value: unknown,
  where: { file: string; what: string },
  warn: Warn,
): T | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)';
  warn(where.file, `${where.what}: field ${field}: ${issue?.message ?? 'invalid'}; skipped`);
  return undefined;
}

/**
 * Runs the conversion of one record; anything it throws on malformed input becomes a warning
 * naming the file and the record, and the record is skipped.
 */
export function guarded<T>(where: { file: string; what: string }, warn: Warn, make: () => T): T | undefined {
  try {
    return make();
  } catch (err) {
    warn(where.file, `${where.what} cannot be read: ${errorMessage(err)}; skipped`);
    return undefined;
  }
}
