// What a log line says about a request, read in the one pass that mines the logs (mine.ts): the
// trace a line belongs to (for trace-paths) and the request an access-log line records (for the
// nginx analyzer). The analyzers then read what mining kept instead of reading the logs again.
import type { AccessFile, TracedFile, TracedLine } from './log-model.js';
import type { LogLevel } from './log-line.js';

/** One server the proxy passed a request to: a request nginx retried on another server has several. */
export interface UpstreamTry {
  /** `ip:port` (or a unix socket), or the upstream group's name when no server could be chosen. */
  address: string;
  /** Seconds from connecting to the response's last byte; NaN where nginx wrote `-`. */
  seconds: number;
  /** Seconds to connect; NaN where nginx wrote `-` or the format does not log it. */
  connect: number;
  /** The server's status; 0 where nginx wrote `-` (no answer: a timeout, a refused connection). */
  status: number;
}

/** One request as a proxy's access log tells it. */
export interface AccessRecord {
  status: number;
  /** `METHOD /path`, with ids in the path masked (`/orders/:id`) and the query dropped. */
  route: string;
  /** Seconds from the first byte read to the last byte sent, when the format logs it. */
  seconds?: number;
  /** The servers it was passed to, in the order tried, when the format logs `upstream_addr`. */
  upstreams?: UpstreamTry[];
  /** The upstream group's name, where the format logs it (ingress-nginx's `proxy_upstream_name`). */
  upstreamName?: string;
}

// A trace id in a log line: `trace_id=<hex>` as the importers append it, or the application's own
// `TraceID: <hex>` or `"traceId":"<hex>"` (W3C and Zipkin ids are 16 or 32 hex digits).
const TRACE_ID = /\btrace[_-]?id["']?\s*[:=]\s*["']?([0-9a-f]{16,32})\b/i;
// A source location written by the logger (logback's `%C{1}#%L`): the statement itself, a sharper
// identity than a mined template, whose variable parts may split one statement into several.
const SOURCE_LOCATION = /\b[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+#\d{1,5}\b/;

// nginx's `combined` format; what follows it is read apart (REQUEST_TIME, UPSTREAM_INFO).
const COMBINED = /^\S+ \S+ \S+ \[[^\]]+\] "(\S+) (\S+)[^"]*" (\d{3}) \S+(?: "[^"]*" "[^"]*")?/;
// After it, a request time (a common extension) ...
const REQUEST_TIME = /^ (\d+(?:\.\d+)?)(?:\s|$)/;
// ... or ingress-nginx's `upstreaminfo` tail: `$request_length $request_time [$proxy_upstream_name]
// [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length
// $upstream_response_time $upstream_status $req_id`.
const UPSTREAM_INFO = /^ \d+ (\d+(?:\.\d+)?) \[([^\]]*)\] \[[^\]]*\] (.+) \S+$/;
// A path segment that names one object rather than a route: a number, a hex id or a UUID.
const ID_SEGMENT = /^(\d+|[0-9a-f]{8,}|[0-9a-f]{8}-[0-9a-f-]{27,})$/i;

// nginx joins the values of the servers it tried with ", " and those of successive upstream groups
// (an internal redirect) with " : " (ngx_http_upstream_module, $upstream_addr). An address's own
// colon (`10.0.0.1:80`, `unix:/run/app.sock`) has no space around it.
const UPSTREAM_SEPARATOR = /\s*,\s*|\s+:\s+/;
const NUMBER = /^\d+(?:\.\d+)?$/;

function listOf(v: unknown): string[] {
  if (typeof v === 'number') return [String(v)];
  if (typeof v !== 'string') return [];
  const t = v.trim();
  return t === '' ? [] : t.split(UPSTREAM_SEPARATOR);
}

function numberOf(v: string | undefined): number {
  return v !== undefined && NUMBER.test(v) ? Number(v) : Number.NaN;
}

/**
 * The servers a request was passed to, from the log's upstream variables (one value per server
 * tried, in order): none when nginx answered itself (`upstream_addr` absent, empty or `-`).
 */
function upstreamTries(addr: unknown, time: unknown, connect: unknown, status: unknown): UpstreamTry[] {
  const addresses = listOf(addr);
  const times = listOf(time);
  const connects = listOf(connect);
  const statuses = listOf(status);
  const out: UpstreamTry[] = [];
  addresses.forEach((address, i) => {
    if (address === '-' || address === '') return;
    const s = numberOf(statuses[i]);
    out.push({
      address,
      seconds: numberOf(times[i]),
      connect: numberOf(connects[i]),
      status: Number.isInteger(s) ? s : 0,
    });
  });
  return out;
}

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
    const tries = upstreamTries(
      o['upstream_addr'],
      o['upstream_response_time'],
      o['upstream_connect_time'],
      o['upstream_status'],
    );
    const name = o['proxy_upstream_name'] ?? o['upstream_name'];
    return {
      status,
      route: routeOf(method, uri),
      ...(Number.isFinite(rt) ? { seconds: rt } : {}),
      ...(tries.length > 0 ? { upstreams: tries } : {}),
      ...(typeof name === 'string' && name !== '' && name !== '-' ? { upstreamName: name } : {}),
    };
  }
  const m = COMBINED.exec(text);
  if (!m) return undefined;
  const rest = text.slice(m[0].length);
  const record: AccessRecord = { status: Number(m[3]), route: routeOf(m[1] as string, m[2] as string) };
  const info = UPSTREAM_INFO.exec(rest);
  if (info) {
    record.seconds = Number(info[1]);
    const name = info[2] as string;
    if (name !== '' && name !== '-') record.upstreamName = name;
    const [addr, , time, status] = spacedLists(info[3] as string);
    const tries = upstreamTries(addr, time, undefined, status);
    if (tries.length > 0) record.upstreams = tries;
    return record;
  }
  const rt = REQUEST_TIME.exec(rest);
  if (rt) record.seconds = Number(rt[1]);
  return record;
}

/**
 * Space-separated fields whose values may be lists (`10.0.0.1:80, 10.0.0.2:80 0.012, 0.034`), each
 * field's values joined back with ", " for {@link upstreamTries}.
 */
function spacedLists(text: string): string[] {
  const fields: string[][] = [];
  let open = false;
  for (const token of text.split(' ')) {
    if (token === '') continue;
    if (token === ':') {
      open = true;
      continue;
    }
    const value = token.endsWith(',') ? token.slice(0, -1) : token;
    if (open && fields.length > 0) (fields[fields.length - 1] as string[]).push(value);
    else fields.push([value]);
    open = token.endsWith(',');
  }
  return fields.map((f) => f.join(', '));
}

// A log is an access log when most of its first lines parse as requests.
const SNIFF_LINES = 20;
const SNIFF_SHARE = 0.6;

/**
 * The requests of one log file, when it is an access log: most of its first SNIFF_LINES lines
 * parse as requests. Given every line of the file in order; keeps those in the window or the
 * bundle's baseline period.
 */
export class AccessReader {
  private seen = 0;
  private parsed = 0;
  private verdict: boolean | undefined;
  private readonly out: AccessFile;
  private readonly routeIds = new Map<string, number>();
  private readonly upstreamIds = new Map<string, number>();

  constructor(file: number, pod: string, container: string) {
    this.out = {
      file,
      pod,
      container,
      time: [],
      status: [],
      route: [],
      seconds: [],
      routes: [],
      firstTry: [],
      tryUpstream: [],
      trySeconds: [],
      tryConnect: [],
      tryStatus: [],
      upstreamName: [],
      upstreams: [],
    };
  }

  /** `keep`: the line is in the window or the bundle's baseline period (a reference for latency). */
  add(time: number, text: string, keep: boolean): void {
    if (this.verdict === false) return;
    let r: AccessRecord | undefined;
    if (this.verdict === undefined) {
      this.seen += 1;
      r = parseAccessLine(text);
      if (r) this.parsed += 1;
      if (this.seen >= SNIFF_LINES && !this.decide()) return;
    } else if (keep) r = parseAccessLine(text);
    if (!r || !keep) return;
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
    this.out.firstTry.push(this.out.tryUpstream.length);
    for (const t of r.upstreams ?? []) {
      this.out.tryUpstream.push(this.upstreamId(t.address));
      this.out.trySeconds.push(t.seconds);
      this.out.tryConnect.push(t.connect);
      this.out.tryStatus.push(t.status);
    }
    this.out.upstreamName.push(r.upstreamName === undefined ? -1 : this.upstreamId(r.upstreamName));
  }

  private upstreamId(name: string): number {
    let id = this.upstreamIds.get(name);
    if (id === undefined) {
      id = this.out.upstreams.length;
      this.upstreamIds.set(name, id);
      this.out.upstreams.push(name);
    }
    return id;
  }

  private decide(): boolean {
    this.verdict = this.seen > 0 && this.parsed / this.seen >= SNIFF_SHARE;
    if (!this.verdict) {
      const o = this.out;
      o.time = o.status = o.route = o.seconds = o.firstTry = o.upstreamName = [];
      o.tryUpstream = o.trySeconds = o.tryConnect = o.tryStatus = [];
    }
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
