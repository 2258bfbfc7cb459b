import type { AccessFile } from '../log-model.js';
import type { AnalyzerContext, Evidence, Finding } from '../types.js';
import { compare, type LatencyParams, type Move, type Periods } from './latency-compare.js';
import type { Observations } from './latency-model.js';
import { DEFAULT_LATENCY_PARAMS, periodsOf, size, standingWeight } from './latency.js';
import { upstreamNamer } from './nginx-access-addresses.js';

// A bucket's tail is its 95th percentile; fewer requests than this in a bucket have none.
const TAIL = 0.95;
const MIN_TAIL_VALUES = 3;
// Slowest requests kept per upstream as evidence.
const SAMPLES = 3;
// nginx logs times to the millisecond: every time is compared with this added, so that 1 ms against
// 0 ms (a proxy's own time, a connect on a kept-alive connection) is no move of 1000 times.
const RESOLUTION_S = 0.005;

/** A request kept as evidence: the access log line's place and what it said. */
interface Sample {
  time: number;
  pod: string;
  container: string;
  text: string;
  value: number;
}

/** One server behind the proxy as the analysis names it: a pod where the bundle knows the address. */
interface Unit {
  /** The pod, else the address (or the group name nginx wrote when it could choose no server). */
  label: string;
  pod?: string;
  service: string;
  response: Observations;
  connect: Observations;
  routes: Map<string, Observations>;
  samples: Sample[];
}

/** How one upstream's response time moved: its median and its tail. */
interface Judged {
  median?: Move;
  tail?: Move;
  tested: boolean;
  moved: boolean;
}

function observe(o: Observations, time: number, seconds: number): void {
  o.times.push(time);
  o.values.push(seconds + RESOLUTION_S);
}

/** Seconds as nginx logs them: to the millisecond below a second, to a tenth above. */
function secs(v: number): string {
  if (v >= 100) return String(Math.round(v));
  return v >= 1 ? v.toFixed(1) : Math.max(0, v).toFixed(3);
}

/** A move as measured, without {@link RESOLUTION_S}. */
function shown(m: Move): Move {
  return {
    ...m,
    before: m.before - RESOLUTION_S,
    after: m.after - RESOLUTION_S,
    points: m.points.map(([t, v]) => [t, Math.round((v - RESOLUTION_S) * 1e4) / 1e4] as [number, number]),
  };
}

const empty = (): Observations => ({ times: [], values: [], samples: [] });

/** The upstreams' observations and the proxy's own time, from one proxy's access logs. */
interface Read {
  units: Map<string, Unit>;
  /** The proxy's own time per request: its request time less its upstreams'. */
  own: Observations;
}

/**
 * One try's time. Where nginx logged none (`-`: the upstream timed out, or the client gave up
 * first) it lasted at least the request's time less the other tries': counted as that.
 */
function tryTime(f: AccessFile, j: number, k: number, known: number, gaps: number): number {
  const v = f.trySeconds[j] as number;
  if (Number.isFinite(v)) return v;
  const status = f.tryStatus[j] as number;
  const request = f.seconds[k] as number;
  if (gaps !== 1 || !Number.isFinite(request) || (status !== 0 && status !== 504)) return Number.NaN;
  return Math.max(0, request - known);
}

function sample(u: Unit, f: AccessFile, k: number, j: number, value: number, route: string): void {
  const s = u.samples;
  if (s.length >= SAMPLES && value <= (s[s.length - 1] as Sample).value) return;
  const status = f.tryStatus[j] as number;
  const text =
    `${route} ${f.status[k] as number}: upstream ${f.upstreams[f.tryUpstream[j] as number] as string}` +
    `${u.pod ? ` (${u.pod})` : ''} ${status === 0 ? '-' : status} in ${value.toFixed(3)} s` +
    ` (request ${Number.isFinite(f.seconds[k]) ? (f.seconds[k] as number).toFixed(3) : '-'} s)`;
  s.push({ time: f.time[k] as number, pod: f.pod, container: f.container, text, value });
  s.sort((a, b) => b.value - a.value);
  if (s.length > SAMPLES) s.pop();
}

type Namer = (address: string, group: string | undefined) => { pod?: string; service: string };

/** The units, and the one an address (with its group's name) belongs to, named once per address. */
function unitsBy(name: Namer): {
  units: Map<string, Unit>;
  unitOf: (address: string, group: string | undefined) => Unit;
} {
  const units = new Map<string, Unit>();
  const named = new Map<string, Unit>();
  const unitOf = (address: string, group: string | undefined): Unit => {
    const seen = group === undefined ? address : `${address}\u0000${group}`;
    let u = named.get(seen);
    if (u) return u;
    const { pod, service } = name(address, group);
    const key = `${service}\u0000${pod ?? address}`;
    u = units.get(key);
    if (!u) {
      u = {
        label: pod ?? address,
        service,
        response: empty(),
        connect: empty(),
        routes: new Map(),
        samples: [],
      };
      if (pod) u.pod = pod;
      units.set(key, u);
    }
    named.set(seen, u);
    return u;
  };
  return { units, unitOf };
}

function readUpstreams(files: AccessFile[], name: Namer, split: number): Read {
  const { units, unitOf } = unitsBy(name);
  const own = empty();
  for (const f of files) {
    for (let k = 0; k < f.time.length; k++) {
      const a = f.firstTry[k] as number;
      const b = k + 1 < f.time.length ? (f.firstTry[k + 1] as number) : f.tryUpstream.length;
      if (a === b) continue;
      const time = f.time[k] as number;
      const route = f.routes[f.route[k] as number] as string;
      const group = (f.upstreamName[k] as number) >= 0 ? f.upstreams[f.upstreamName[k] as number] : undefined;
      let known = 0;
      let gaps = 0;
      for (let j = a; j < b; j++) {
        const v = f.trySeconds[j] as number;
        if (Number.isFinite(v)) known += v;
        else gaps += 1;
      }
      for (let j = a; j < b; j++) {
        const address = f.upstreams[f.tryUpstream[j] as number] as string;
        const u = unitOf(address, group);
        const v = tryTime(f, j, k, known, gaps);
        if (Number.isFinite(f.tryConnect[j])) observe(u.connect, time, f.tryConnect[j] as number);
        if (!Number.isFinite(v)) continue;
        observe(u.response, time, v);
        let r = u.routes.get(route);
        if (!r) u.routes.set(route, (r = empty()));
        observe(r, time, v);
        if (time >= split) sample(u, f, k, j, v, route);
      }
      const request = f.seconds[k] as number;
      if (gaps === 0 && Number.isFinite(request)) observe(own, time, Math.max(0, request - known));
    }
  }
  return { units, own };
}

/** Each bucket's 95th percentile (nearest rank), dated at the bucket's start: the tail as a signal. */
function tailOf(o: Observations, p: Periods): Observations {
  const buckets = new Map<number, number[]>();
  for (let i = 0; i < o.times.length; i++) {
    const b = p.window.from + Math.floor(((o.times[i] as number) - p.window.from) / p.bucketMs) * p.bucketMs;
    const list = buckets.get(b);
    if (list) list.push(o.values[i] as number);
    else buckets.set(b, [o.values[i] as number]);
  }
  const out = empty();
  for (const [b, vs] of [...buckets].sort((x, y) => x[0] - y[0])) {
    if (vs.length < MIN_TAIL_VALUES) continue;
    vs.sort((x, y) => x - y);
    out.times.push(b);
    out.values.push(vs[Math.min(vs.length - 1, Math.ceil(TAIL * vs.length) - 1)] as number);
  }
  return out;
}

function judge(response: Observations, p: Periods, params: LatencyParams): Judged {
  const median = compare(response, p, params);
  const tail = compare(tailOf(response, p), p, params);
  return {
    ...(median ? { median: shown(median) } : {}),
    ...(tail ? { tail: shown(tail) } : {}),
    tested: median !== undefined || tail !== undefined,
    moved: median?.moved === true || tail?.moved === true,
  };
}

/** Several signals' values as one (concatenated: a spread of a million values would overflow the stack). */
function pooled(list: Observations[]): Observations {
  return {
    times: ([] as number[]).concat(...list.map((o) => o.times)),
    values: ([] as number[]).concat(...list.map((o) => o.values)),
    samples: [],
  };
}

function slowest(units: Unit[]): Sample[] {
  return units
    .flatMap((u) => u.samples)
    .sort((a, b) => b.value - a.value)
    .slice(0, SAMPLES);
}

/** The routes whose upstream time rose most (by median, else by tail), for a finding's title. */
function routesOf(units: Unit[], p: Periods, params: LatencyParams): string {
  const routes = new Set(units.flatMap((u) => [...u.routes.keys()]));
  const moved: Array<{ route: string; stat: string; m: Move }> = [];
  for (const route of routes) {
    const o = pooled(units.map((u) => u.routes.get(route) ?? empty()));
    const median = compare(o, p, params);
    const m = median?.moved ? median : compare(tailOf(o, p), p, params);
    if (m?.moved) moved.push({ route, stat: m === median ? '' : 'p95 ', m: shown(m) });
  }
  moved.sort((a, b) => b.m.after - b.m.before - (a.m.after - a.m.before) || (a.route < b.route ? -1 : 1));
  const top = moved
    .slice(0, 2)
    .map(({ route, stat, m }) => `${route} (${stat}${secs(m.before)} -> ${secs(m.after)} s)`);
  return top.length > 0 ? `; most on ${top.join(', ')}` : '';
}

/** What the servers' connect time did, compared only where their response time moved. */
function connectOf(units: Unit[], p: Periods, params: LatencyParams): Move | undefined {
  const m = compare(pooled(units.map((u) => u.connect)), p, params);
  return m?.moved ? shown(m) : undefined;
}

/** What a finding on upstream `label` says and shows, from its moves. */
function upstreamFinding(
  proxy: string,
  what: { label: string; title: string; units: Unit[]; service: string; pod?: string; share: number },
  j: Judged,
  p: Periods,
  params: LatencyParams,
): Finding {
  const conn = connectOf(what.units, p, params);
  const evidence = slowest(what.units);
  const moves = [
    ['p95', j.tail],
    ['median', j.median],
  ].filter((x): x is [string, Move] => x[1] !== undefined);
  const moved = moves.filter(([, m]) => m.moved);
  const stats = moves.map(([stat, m]) => `${stat} ${secs(m.before)} -> ${secs(m.after)} s`).join(', ');
  const connect = conn
    ? `; connect time ${secs(conn.before)} -> ${secs(conn.after)} s: the network into it or its accept queue`
    : '';
  const ratio = moved.reduce((x, [, m]) => Math.max(x, m.ratio), 1);
  const series: Evidence[] = moves.map(([stat, m]) => ({
    type: 'series',
    name: 'nginx_upstream_response_time',
    labels: { proxy, upstream: what.label, stat },
    unit: 's',
    points: m.points,
    before: m.before,
    after: m.after,
  }));
  if (conn)
    series.push({
      type: 'series',
      name: 'nginx_upstream_connect_time',
      labels: { proxy, upstream: what.label, stat: 'median' },
      unit: 's',
      points: conn.points,
      before: conn.before,
      after: conn.after,
    });
  const lines: Evidence[] =
    evidence.length === 0
      ? []
      : [
          {
            type: 'lines',
            template: `slowest requests to ${what.label} after the split (${proxy}'s access log)`,
            lines: evidence.map(({ time, pod, container, text }) => ({ time, pod, container, text })),
          },
        ];
  return {
    id: `nginx:upstream:${proxy}:${what.label}`,
    analyzer: 'nginx',
    kind: 'anomaly',
    component: what.service,
    ...(what.pod ? { pod: what.pod } : {}),
    signal: `upstream_response_time{proxy=${proxy},upstream=${what.label}}`,
    title: `${what.title} response time ${stats}${routesOf(what.units, p, params)}${connect}`,
    time: moved.reduce((t, [, m]) => Math.min(t, m.onset), Number.POSITIVE_INFINITY),
    strength: Math.round(what.share * size(ratio, params) * standingWeight(moved[0]?.[1]) * 1000) / 1000,
    direction: 'up',
    userFacing: true,
    baseline: moved.some(([, m]) => m.baseline),
    evidence: [...series, ...lines],
  };
}

/**
 * Findings on one service's upstreams. When more than half of the servers it tested slowed
 * together (or only the pooled requests are enough to tell), the cause is the service, one
 * finding on it; when fewer did, each slowed server (a pod) is its own. More than half is chosen
 * a priori, as the span analyzer's "a larger share of the calls into it than of the caller's out".
 */
function serviceFindings(
  proxy: string,
  service: string,
  units: Unit[],
  p: Periods,
  params: LatencyParams,
): Finding[] {
  const judged = units.map((u) => ({ u, j: judge(u.response, p, params) }));
  const tested = judged.filter((x) => x.j.tested);
  const moved = tested.filter((x) => x.j.moved);
  const together = moved.length * 2 > tested.length;
  if (moved.length > 0 && !together)
    return moved.map(({ u, j }) => {
      const title = `upstream ${u.pod ? `pod ${u.pod}` : u.label} of ${service} alone (${moved.length} of ${tested.length} servers slowed)`;
      const what = { label: u.label, title, units: [u], service, ...(u.pod ? { pod: u.pod } : {}), share: 1 };
      return upstreamFinding(proxy, what, j, p, params);
    });
  // The servers' requests together: a service whose servers are each too thin to judge alone.
  const all =
    units.length === 1
      ? (judged[0] as { j: Judged }).j
      : judge(pooled(units.map((u) => u.response)), p, params);
  if (!together && !all.moved) return [];
  const j = all.moved ? all : (moved[0] as { j: Judged }).j;
  const share = moved.length > 0 ? moved.length / tested.length : 1;
  const what = {
    label: service,
    title: `upstream ${service}${serversOf(service, units, moved.length, tested.length)}`,
    units,
    service,
    share,
  };
  return [upstreamFinding(proxy, what, j, p, params)];
}

/** A service's servers for a title: `(3 pods, 3 of 3 slowed)`, its addresses, or nothing when it is its one address. */
function serversOf(service: string, units: Unit[], moved: number, tested: number): string {
  const pods = units.filter((u) => u.pod).length;
  const parts: string[] = [];
  if (pods > 0) parts.push(`${pods} pod${pods === 1 ? '' : 's'}`);
  else if (units.length > 3) parts.push(`${units.length} addresses`);
  else if (units.length > 1 || units[0]?.label !== service) parts.push(units.map((u) => u.label).join(', '));
  if (tested > 1) parts.push(`${moved} of ${tested} slowed`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/**
 * Response time per upstream from one proxy's access logs (`upstream_addr`,
 * `upstream_response_time`, `upstream_connect_time`, `upstream_status`; every server a retried
 * request was passed to), before and after as the latency analyzer splits them: the bundle's
 * baseline, else the incident's time, else the window's own past. A service whose servers slowed
 * together is the cause, else the one pod that did; the proxy is a bystander while its own time
 * (request time less upstream time) holds, and a finding of its own when that rose.
 */
export async function upstreamFindings(
  ctx: AnalyzerContext,
  proxy: string,
  files: AccessFile[],
  baseline: { from: number; to: number } | undefined,
  params: LatencyParams = DEFAULT_LATENCY_PARAMS,
): Promise<Finding[]> {
  if (!files.some((f) => f.tryUpstream.length > 0)) return [];
  const p = periodsOf(baseline, ctx, params);
  const { units, own } = readUpstreams(files, await upstreamNamer(ctx, proxy), p.split);
  const byService = new Map<string, Unit[]>();
  for (const u of units.values()) byService.set(u.service, [...(byService.get(u.service) ?? []), u]);
  const out: Finding[] = [];
  for (const [service, list] of [...byService].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    out.push(...serviceFindings(proxy, service, list, p, params));
  const measured = compare(own, p, params);
  const mine = measured && shown(measured);
  if (mine?.moved) out.push(ownFinding(proxy, mine, params));
  else if (mine)
    for (const f of out) {
      f.title += `; ${proxy} only waited on it (its own time ${secs(mine.before)} -> ${secs(mine.after)} s)`;
      f.bystanders = [proxy];
    }
  return out;
}

function ownFinding(proxy: string, m: Move, params: LatencyParams): Finding {
  return {
    id: `nginx:own-time:${proxy}`,
    analyzer: 'nginx',
    kind: 'anomaly',
    component: proxy,
    signal: `proxy_own_time{proxy=${proxy}}`,
    title: `${proxy}'s own time (request time less upstream time) ${secs(m.before)} -> ${secs(m.after)} s (median of ${m.n} requests)`,
    time: m.onset,
    strength: Math.round(size(m.ratio, params) * standingWeight(m) * 1000) / 1000,
    direction: 'up',
    userFacing: true,
    baseline: m.baseline,
    evidence: [
      {
        type: 'series',
        name: 'nginx_own_time',
        labels: { proxy },
        unit: 's',
        points: m.points,
        before: m.before,
        after: m.after,
      },
    ],
  };
}
