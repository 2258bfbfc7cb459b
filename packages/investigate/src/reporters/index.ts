import { htmlReporter } from './html.js';
import { jsonReporter } from './json.js';
import { markdownReporter } from './markdown.js';
import { redactReport, reportRedactor } from './redact.js';
import { terminalReporter } from './terminal.js';
import type { Reporter } from './types.js';

// The choke point of every reporter: the report is redacted before any reporter sees it, so a
// report made from a bundle written by an older version, by hand or by another tool does not carry
// its secrets into a file or a terminal either.
function redacting(reporter: Reporter): Reporter {
  return {
    name: reporter.name,
    description: reporter.description,
    extension: reporter.extension,
    render: (report, options = {}) =>
      reporter.render(redactReport(report, reportRedactor(options.redactPatterns)), options),
  };
}

/** Every reporter by name; the CLI derives its `--format` choices and help from this object. */
export const reporters = {
  terminal: redacting(terminalReporter),
  json: redacting(jsonReporter),
  markdown: redacting(markdownReporter),
  html: redacting(htmlReporter),
} as const satisfies Record<string, Reporter>;

/** A reporter's name. */
export type ReporterName = keyof typeof reporters;

/** Whether `name` names a reporter. */
export function isReporterName(name: string): name is ReporterName {
  return Object.hasOwn(reporters, name);
}
