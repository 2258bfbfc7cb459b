import { Redactor } from '@hindsight/core';
import type { Report } from '../types.js';

/** Parts of a report (and of a manifest in it) that are hindsight's own counts, never redacted. */
export const REPORT_VERBATIM = ['redactions'];

/**
 * The report with every value passed through `redactor`: strings by the catalogue and the user's
 * patterns, values under secret keys, env pairs and diff entries by their names and paths. The
 * report's own `redactions` counts are kept as they are (their keys, such as `secret-key`, are
 * names of kinds, not secrets). Redacting a redacted report changes nothing.
 */
export function redactReport(report: Report, redactor: Redactor): Report {
  // Secrets found by their key or path are then removed from the titles and steps that quote them.
  return redactor.scrub(redactor.value(report, { verbatim: REPORT_VERBATIM }));
}

/** A redactor with the catalogue and the given user patterns. */
export function reportRedactor(patterns: readonly RegExp[] = []): Redactor {
  return new Redactor({ patterns });
}
