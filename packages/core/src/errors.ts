/**
 * One catalogue of error codes. Each code is stable (scripts match on it) and documented in
 * docs/errors.md; a test keeps the two in step.
 */
export const errorCatalogue = {
  HINDSIGHT_USAGE: 'A command was called with a missing or invalid argument.',
  HINDSIGHT_BUNDLE_MISSING: 'The bundle path does not exist or is not a folder or a .tar.gz file.',
  HINDSIGHT_INPUT_MISSING:
    'A file or folder given to read (a log file, a support bundle, a dataset) does not exist.',
  HINDSIGHT_BUNDLE_MANIFEST:
    'The bundle has no manifest.json, or it is not valid JSON or not a valid manifest.',
  HINDSIGHT_BUNDLE_VERSION: 'The bundle was written in a format version this hindsight does not read.',
  HINDSIGHT_BUNDLE_ARCHIVE: 'The bundle archive (.tar.gz) is truncated or corrupt.',
  HINDSIGHT_BUNDLE_SCHEMA:
    'A record in the bundle does not match the schema (bad JSON, bad field, bad timestamp).',
  HINDSIGHT_BUNDLE_WINDOW: 'A record lies outside the time window the manifest declares.',
  HINDSIGHT_SOURCE_FAILED: 'A source could not be read (endpoint down, permission denied, bad response).',
  HINDSIGHT_ANALYZER_FAILED: 'An analyzer failed on this bundle; the others still ran.',
  HINDSIGHT_RELEASE_RECORD: 'A Helm release record could not be decoded (base64, gzip or JSON).',
  HINDSIGHT_LOG_FORMAT: 'A log line did not match the log format given; it was used whole.',
  HINDSIGHT_IMPORT: 'A file being imported is malformed at the place named.',
  HINDSIGHT_LAB: 'The lab could not start, change or stop one of its processes.',
  HINDSIGHT_REDACT_PATTERN:
    'A --redact-pattern is not a valid regular expression, or matches the empty string.',
  HINDSIGHT_INTERNAL: 'An unexpected internal error: please report it with the command that caused it.',
} as const;

/** A stable error code from {@link errorCatalogue}. */
export type ErrorCode = keyof typeof errorCatalogue;

/** An error with a stable code and the place it concerns (a file:line, a URL, a release and revision). */
export class HindsightError extends Error {
  override readonly name = 'HindsightError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly where?: string,
    options?: { cause?: unknown },
  ) {
    super(where ? `${message} (${where})` : message, options);
  }
}

/**
 * A problem that did not stop the run: a failed source, a bad line, an analyzer that threw.
 * Reports carry every warning so that nothing is lost silently.
 */
export interface Warning {
  stage: 'collect' | 'read' | 'analyze' | 'rank' | 'report' | 'import';
  name: string;
  code: ErrorCode;
  message: string;
  where?: string;
}

/** Turns anything thrown into a message fit for a warning. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
