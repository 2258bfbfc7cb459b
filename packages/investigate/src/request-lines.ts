// What a log line says about a request, read in the one pass that mines the logs (mine.ts): the
// trace a line belongs to (for trace-paths) and the request an access-log line records (for the
// nginx analyzer). The analyzers then read what mining kept instead of reading the logs again.
import type { AccessFile, TracedFile, TracedLine } from './log-model.js';
import type { LogLevel } from './log-line.js';

/** One request as a proxy's access log tells it. */
export interface AccessRecord {
  status: number;
  /** `METHOD /path`, with ids in the path masked (`/orders/:id`) and the query dropped. */
  route: string;
  /** Seconds from the first byte read to the last byte sent, when the format logs it. */
  seconds?: number;
}

// A trace id in a log line: `trace_id=<hex>` as the importers append it, or the application's own
// `TraceID: <hex>` or `"traceId":"<hex>"` (W3C and Zipkin ids are 16 or 32 hex digits).
const TRACE_ID = /\btrace[_-]?id["']?\s*[:=]\s*["']?([0-9a-f]{16,32})\b/i;
// A source location written by the logger (logback's `%C{1}#%L`): the statement itself, a sharper
// identity than a mined template, whose variable parts may split one statement into several.
const SOURCE_LOCATION = /\b[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+#\d{1,5}\b/;

// nginx's `combined` format, with an optional request time after it (a common extension).
const COMBINED =
  /^\S+ \S+ \S+ \[[^\]]+\] "(\S+) (\S+)[^"]*" (\d{3}) \S+(?: "[^"]*" "[^"]*")?(?: (\d+(?:\.\d+)?))?/;
// A path segment that names one object rather than a route: a number, a hex id or a UUID.
const ID_SEGMENT = /^(\d+|[0-9a-f]{8,}|[0-9a-f]{8}-[0-9a-f-]{27,})$/i;

/** The route of a request: its method and path, ids masked and the query dropped. */
function routeOf(method: string, uri: string): string {
  const p = uri.split('?')[0] ?? '';
  const segs = p.split('/').map((s) => (ID_SEGMENT.test(s) ? ':id' : s));
  return `${method.toUpperCase()} ${segs.join('/') || '/'}`;
}

/**
 * Parses one access-log line, JSON (an `escape=json` log_format with `status` and `uri` or
 * `request`) or nginx's `combined` format, or returns undefined for anything else (an error-log
 * line, an application's own line).
 */
export function parseAccessLine(text: string): AccessRecord | undefined {
  if (text.startsWith('{')) {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const status = Number(o['status']);
    const request = typeof o['request'] === 'string' ? o['request'].split(' ') : [];
    const method = typeof o['method'] === 'string' ? o['method'] : request[0];
    const uri = typeof o['uri'] === 'string' ? o['uri'] : request[1];
    if (!Number.isInteger(status) || status < 100 || status > 599 || !method || !uri) return undefined;
    const rt = Number(o['request_time']);
    return { status, route: routeOf(method, uri), ...(Number.isFinite(rt) ? { seconds: rt } : {}) };
  }
  const m = COMBINED.exec(text);
  if (!m) return undefined;
  const rt = m[4] === undefined ? Number.NaN : Number(m[4]);
  return {
    status: Number(m[3]),
    route: routeOf(m[1] as string, m[2] as string),
    ...(Number.isFinite(rt) ? { seconds: rt } : {}),
  };
}

// A log is an access log when most of its first lines parse as requests.
const SNIFF_LINES = 20;
const SNIFF_SHARE = 0.6;

/**
 * The requests of one log file, when it is an access log: most of its first SNIFF_LINES lines
 * parse as requests. Given every line of the file in order; keeps those on the analysis grid.
 */
export class AccessReader {
  private seen = 0;
  private parsed = 0;
  private verdict: boolean | undefined;
  private readonly out: AccessFile;
  private readonly routeIds = new Map<string, number>();

  constructor(file: number, pod: string, container: string) {
    this.out = { file, pod, container, time: [], status: [], route: [], seconds: [], routes: [] };
  }

  add(time: number, text: string, onGrid: boolean): void {
    if (this.verdict === false) return;
    let r: AccessRecord | undefined;
    if (this.verdict === undefined) {
      this.seen += 1;
      r = parseAccessLine(text);
      if (r) this.parsed += 1;
      if (this.seen >= SNIFF_LINES && !this.decide()) return;
    } else if (onGrid) r = parseAccessLine(text);
    if (!r || !onGrid) return;
    let id = this.routeIds.get(r.route);
    if (id === undefined) {
      id = this.out.routes.length;
      this.routeIds.set(r.route, id);
      this.out.routes.push(r.route);
    }
    this.out.time.push(time);
    this.out.status.push(r.status);
    this.out.route.push(id);
    this.out.seconds.push(r.seconds ?? Number.NaN);
  }

  private decide(): boolean {
    this.verdict = this.seen > 0 && this.parsed / this.seen >= SNIFF_SHARE;
    if (!this.verdict) this.out.time = this.out.status = this.out.route = this.out.seconds = [];
    return this.verdict;
  }

  /** The file's requests on the grid, or undefined when it is not an access log. */
  done(): AccessFile | undefined {
    if (this.verdict === undefined) this.decide();
    return this.verdict ? this.out : undefined;
  }
}

/** The trace id a line carries, lower case, if any. */
export function traceIdOf(text: string): string | undefined {
  return TRACE_ID.exec(text)?.[1]?.toLowerCase();
}

/**
 * The lines of one log file that carry a trace id, each with its event: the logger's source
 * location, else its template (a reference while mining, an id once the miner's merges are known).
 */
export class TracedReader<T> {
  private readonly lines: TracedLine[] = [];
  private readonly refs: Array<T | string | undefined> = [];

  constructor(
    private readonly file: number,
    private readonly pod: string,
    private readonly container: string,
    private readonly group: string,
  ) {}

  add(
    trace: string,
    time: number,
    subMs: number,
    text: string,
    level: LogLevel,
    baseline: boolean,
    template: T | string | undefined,
  ): void {
    const loc = SOURCE_LOCATION.exec(text);
    const line: TracedLine = {
      trace,
      time,
      subMs,
      seq: this.lines.length,
      text: text.slice(0, 400),
      level,
      baseline,
    };
    if (loc) line.location = loc[0];
    this.lines.push(line);
    this.refs.push(loc ? undefined : template);
  }

  /** The file's traced lines, each template named by `idOf` (its id after the miner's merges). */
  done(idOf: (template: T) => string): TracedFile | undefined {
    if (this.lines.length === 0) return undefined;
    this.lines.forEach((l, i) => {
      const ref = this.refs[i];
      if (ref !== undefined) l.template = typeof ref === 'string' ? ref : idOf(ref);
    });
    return {
      file: this.file,
      pod: this.pod,
      container: this.container,
      group: this.group,
      lines: this.lines,
    };
  }
}
