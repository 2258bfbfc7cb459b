// Values from a bundle are data, never markup or terminal commands: these make them inert for the
// medium a reporter writes to.

// C0 controls but tab and newline, DEL, C1 controls (0x80-0x9f, 0x9b is a one-byte CSI), and the
// bidirectional overrides and isolates that reorder what a reader sees ("Trojan Source").
// eslint-disable-next-line no-control-regex
const TERMINAL_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** Shows terminal control characters (ESC, C0/C1 controls, bidi overrides) as visible `\xNN` / `\uNNNN` text. */
export function terminalSafe(s: string): string {
  return s.replace(TERMINAL_UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Text for HTML, in an element or a quoted attribute: no value opens a tag, an entity or ends the quote. */
export function htmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A deep copy of `value` with `f` applied to every string in it (keys too). */
export function mapStrings<T>(value: T, f: (s: string) => string): T {
  const go = (v: unknown): unknown => {
    if (typeof v === 'string') return f(v);
    if (Array.isArray(v)) return v.map(go);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [f(k), go(x)]));
  };
  return go(value) as T;
}

/**
 * Text for Markdown outside code: `&` and `<` as entities, so no raw HTML, comment or autolink
 * passes (a `>` opens nothing where a value stands, never at a line's start); a backtick, a
 * backslash and a pipe escaped, so a value opens no code span and ends no table cell.
 */
export function markdownText(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/([\\`|])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

/**
 * A Markdown code span holding `s` literally: fenced with one backtick more than the longest run
 * inside it (CommonMark), so a backtick in a value cannot close the span early; in a table cell a
 * pipe is escaped as the table needs.
 */
export function markdownCode(s: string, inTable = false): string {
  const line = s.replace(/\r?\n/g, ' ');
  const flat = inTable ? line.replace(/\|/g, '\\|') : line;
  let longest = 0;
  for (const m of flat.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/**
 * A fenced Markdown code block holding `lines` literally, one per line: fenced with one backtick
 * more than the longest run inside (at least three), so no line can close it early.
 */
export function markdownFence(info: string, lines: string[]): string[] {
  const flat = lines.map((l) => l.replace(/\r?\n/g, ' '));
  let longest = 2;
  for (const l of flat) for (const m of l.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${info}`, ...flat, fence];
}
