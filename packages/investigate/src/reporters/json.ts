import type { Reporter } from './types.js';

/** The whole report as JSON, in the stable schema documented in docs/report.md. */
export const jsonReporter: Reporter = {
  name: 'json',
  description: 'the whole report as JSON (schema in docs/report.md)',
  extension: 'json',
  render(report) {
    return `${JSON.stringify(report, null, 2)}\n`;
  },
};
