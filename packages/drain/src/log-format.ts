/** A line split by a log format: its named header fields and the message body to mine. */
export interface ParsedLine {
  fields: Record<string, string>;
  /** The `<Content>` field: the part of the line that is mined. */
  content: string;
}

/** A compiled log format. */
export interface LineParser {
  /** The field names in order of appearance. */
  fields: string[];
  /** The regular expression the format compiles to (anchored, one named group per field). */
  regex: RegExp;
  /** Splits one line; undefined when the line does not match the format. */
  parse(line: string): ParsedLine | undefined;
}

/** The outcome of {@link parseLogFormat}, as a value. */
export type LogFormatResult = { ok: true; parser: LineParser } | { ok: false; error: string };

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Compiles a Loghub-style log format such as `<Date> <Time> <Pid> <Level> <Component>: <Content>`
 * into a line parser, as the Loghub parsers do (logpai/loghub-2.0 `generate_logformat_regex`):
 * each `<Field>` becomes a lazy named group, runs of spaces match runs of whitespace, other text
 * is a regular expression (so `\[` is a literal bracket), and the whole line is anchored.
 * The line is trimmed before matching. The format must name a `<Content>` field.
 */
export function parseLogFormat(format: string): LogFormatResult {
  const parts = format.split(/(<[^<>]+>)/);
  const fields: string[] = [];
  let source = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (i % 2 === 0) {
      source += part.replace(/ +/g, '\\s+');
      continue;
    }
    const name = part.slice(1, -1).trim();
    if (!FIELD_NAME.test(name)) {
      return { ok: false, error: `log format field <${name}> is not a valid name (letters, digits, _)` };
    }
    if (fields.includes(name)) return { ok: false, error: `log format names <${name}> twice` };
    fields.push(name);
    source += `(?<${name}>.*?)`;
  }
  if (!fields.includes('Content')) {
    return { ok: false, error: `log format "${format}" has no <Content> field to mine` };
  }
  let regex: RegExp;
  try {
    regex = new RegExp(`^${source}$`);
  } catch (err) {
    return {
      ok: false,
      error: `log format "${format}" is not a valid regular expression: ${(err as Error).message}`,
    };
  }
  const parse = (line: string): ParsedLine | undefined => {
    const m = regex.exec(line.trim());
    if (m === null || m.groups === undefined) return undefined;
    const out: Record<string, string> = {};
    for (const f of fields) out[f] = m.groups[f] ?? '';
    return { fields: out, content: out['Content'] ?? '' };
  };
  return { ok: true, parser: { fields, regex, parse } };
}
