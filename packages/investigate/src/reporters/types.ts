import type { Report } from '../types.js';

/** A style the terminal reporter may ask for; the CLI maps it to ANSI codes, or to nothing. */
export type Style = 'red' | 'green' | 'yellow' | 'cyan' | 'gray' | 'bold' | 'dim';

/** Options given to a reporter. */
export interface RenderOptions {
  /** Styles text for a terminal; identity when colour is off. */
  paint?: (style: Style, text: string) => string;
  /** The user's own redaction patterns (`--redact-pattern`), applied with the catalogue before rendering. */
  redactPatterns?: readonly RegExp[];
  /**
   * The terminal's width in columns: the terminal reporter wraps at word boundaries to it and keeps
   * the answer on the first screen. Absent (a pipe, a file): lines are not wrapped.
   */
  width?: number;
}

/** One way of writing a report: returns the text; the caller prints or saves it. */
export interface Reporter {
  readonly name: string;
  readonly description: string;
  /** File extension when written to a file. */
  readonly extension: string;
  render(report: Report, options?: RenderOptions): string;
}
