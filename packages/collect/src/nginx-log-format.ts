/**
 * The chart's `hindsight` log_format (stack/chart/templates/nginx-configmap.yaml), the default
 * for the nginx source. A test keeps it in step with the chart.
 */
export const CHART_LOG_FORMAT =
  '{"time":"$time_iso8601","msec":$msec,"remote_addr":"$remote_addr",' +
  '"request":"$request","method":"$request_method","uri":"$request_uri",' +
  '"status":$status,"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,' +
  '"upstream_connect_time":"$upstream_connect_time",' +
  '"upstream_response_time":"$upstream_response_time",' +
  '"upstream_status":"$upstream_status","upstream_addr":"$upstream_addr",' +
  '"request_id":"$request_id","user_agent":"$http_user_agent"}';

/** nginx's built-in `combined` format. */
export const COMBINED_LOG_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

// Tighter patterns for variables whose values have a known shape: they keep the regex from
// backtracking through a line, and make a line of another format fail to match instead of
// matching wrongly.
const VARIABLE_PATTERNS: Record<string, string> = {
  status: '\\d{3}',
  msec: '\\d+(?:\\.\\d+)?',
  request_time: '\\d+(?:\\.\\d+)?',
  body_bytes_sent: '\\d+',
  bytes_sent: '\\d+',
  request_length: '\\d+',
  time_iso8601: '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:\\d{2})',
  time_local: '\\d{2}/[A-Za-z]{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}',
  remote_addr: '[^\\s"]*',
  request_method: '[A-Z]*',
};

/** A compiled log format: the variables in order and the regex that captures them. */
export interface NginxLogFormat {
  variables: string[];
  regex: RegExp;
  /** The variables of a line, or undefined when it does not match. */
  parse(line: string): Record<string, string> | undefined;
}

/**
 * Compiles an nginx log_format string (`$var` or `${var}` between literal text) into a regex.
 * Accepts the format's text as nginx joins it, or a whole directive
 * (`log_format name [escape=json] '...' '...';`), whose quoted pieces are joined.
 */
export function compileLogFormat(format: string): NginxLogFormat {
  const text = unwrapDirective(format);
  const variables: string[] = [];
  let source = '^';
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    const name = (m[1] ?? m[2]) as string;
    source += escapeRegex(text.slice(last, m.index));
    source += `(${VARIABLE_PATTERNS[name] ?? '.*?'})`;
    variables.push(name);
    last = (m.index ?? 0) + m[0].length;
  }
  source += `${escapeRegex(text.slice(last))}$`;
  const regex = new RegExp(source);
  return {
    variables,
    regex,
    parse(line) {
      const m = regex.exec(line);
      if (!m) return undefined;
      const out: Record<string, string> = {};
      variables.forEach((v, i) => {
        if (!(v in out)) out[v] = m[i + 1] as string;
      });
      return out;
    },
  };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function unwrapDirective(format: string): string {
  const t = format.trim();
  if (!/^log_format\s/.test(t)) return format;
  const pieces = [...t.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? m[2] ?? '');
  return pieces.join('');
}

/** The named log_format of an nginx.conf, with its quoted pieces joined; undefined when absent. */
export function logFormatFromConfig(conf: string, name: string): string | undefined {
  const m = new RegExp(`log_format\\s+${escapeRegex(name)}\\b[^;']*((?:\\s*'[^']*')+)\\s*;`).exec(conf);
  if (!m) return undefined;
  return [...(m[1] as string).matchAll(/'([^']*)'/g)].map((p) => p[1]).join('');
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** The time of a parsed line in unix ms, from $msec, $time_iso8601 or $time_local; NaN if none. */
export function lineTime(v: Record<string, string>): number {
  if (v['msec']) return Math.round(Number(v['msec']) * 1000);
  if (v['time_iso8601']) return Date.parse(v['time_iso8601']);
  const local =
    v['time_local'] &&
    /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(v['time_local']);
  if (local) {
    const [, d, mon, y, h, mi, s, sign, oh, om] = local as unknown as string[];
    const utc = Date.UTC(Number(y), MONTHS[mon as string] ?? 0, Number(d), Number(h), Number(mi), Number(s));
    return utc - (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  }
  return Number.NaN;
}
