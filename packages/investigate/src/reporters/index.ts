import { htmlReporter } from './html.js';
import { jsonReporter } from './json.js';
import { markdownReporter } from './markdown.js';
import { terminalReporter } from './terminal.js';
import type { Reporter } from './types.js';

/** Every reporter by name; the CLI derives its `--format` choices and help from this object. */
export const reporters = {
  terminal: terminalReporter,
  json: jsonReporter,
  markdown: markdownReporter,
  html: htmlReporter,
} as const satisfies Record<string, Reporter>;

/** A reporter's name. */
export type ReporterName = keyof typeof reporters;

/** Whether `name` names a reporter. */
export function isReporterName(name: string): name is ReporterName {
  return Object.hasOwn(reporters, name);
}
