import { shiftCheck, type CheckSpec } from '../checks.js';
import { median, runsOf } from '../stats.js';
import { seriesEvidence } from '../evidence.js';
import { bucketOf, type PreparedSeries } from '../data.js';
import type { AccessFile } from '../log-model.js';
import type { AccessRecord } from '../request-lines.js';
import type { AnalyzerContext, Finding } from '../types.js';
import { withoutProbes } from './nginx-access-probes.js';
import { upstreamFindings } from './nginx-access-upstreams.js';

// Below this many requests in a bucket a share says nothing (one 401 in two requests is not 50%).
const MIN_VOLUME = 3;
// A status that was absent and then answered at least this share of a bucket's requests is news.
const MIN_SHARE = 0.02;
// Routes with fewer requests over the window are folded into the statuses' totals only.
const MIN_ROUTE_REQUESTS = 50;
// How many routes are followed on their own (the busiest), so a crawler's URLs do not explode it.
const MAX_ROUTES = 30;
// What a share of requests is worth as evidence: an authentication or authorisation refusal is
// nearly always the user's failure; a conflict or a client error less surely.
const STATUS_STRENGTH: Record<number, number> = { 401: 0.8, 403: 0.8, 429: 0.7 };
const STATUS_DEFAULT = 0.6;

/** Requests per bucket: in all, per status and per route, with each route's times. */
interface Tally {
  total: Float64Array;
  status: Map<number, Float64Array>;
  /** Per status, when it was first answered in each bucket (NaN where it was not). */
  firstAt: Map<number, Float64Array>;
  routes: Map<string, { n: Float64Array; errors: Float64Array; times: number[][] }>;
  routeTotal: Map<string, number>;
  /** Per status, its answers per bucket on each followed route (the others as `other routes`). */
  statusRoutes: Map<number, Map<string, Float64Array>>;
  records: number;
}

function tally(files: AccessFile[], ctx: AnalyzerContext): Tally {
  const n = ctx.data.buckets;
  const t: Tally = {
    total: new Float64Array(n),
    status: new Map(),
    routes: new Map(),
    routeTotal: new Map(),
    statusRoutes: new Map(),
    firstAt: new Map(),
    records: 0,
  };
  const all: Array<{ i: number; time: number; r: AccessRecord }> = [];
  for (const f of files) {
    for (let k = 0; k < f.time.length; k++) {
      const time = f.time[k] as number;
      const i = bucketOf(time, ctx.window.from, ctx.bucketMs, n);
      // Requests of the baseline period are the upstream analysis' reference, not the window's.
      if (i < 0) continue;
      const seconds = f.seconds[k] as number;
      const r: AccessRecord = {
        status: f.status[k] as number,
        route: f.routes[f.route[k] as number] as string,
        ...(Number.isNaN(seconds) ? {} : { seconds }),
      };
      all.push({ i, time, r });
      t.routeTotal.set(r.route, (t.routeTotal.get(r.route) ?? 0) + 1);
    }
  }
  const followed = new Set(
    [...t.routeTotal]
      .filter(([, c]) => c >= MIN_ROUTE_REQUESTS)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_ROUTES)
      .map(([route]) => route),
  );
  for (const { i, time, r } of all) {
    t.records += 1;
    t.total[i] = (t.total[i] as number) + 1;
    const s = t.status.get(r.status) ?? new Float64Array(n);
    s[i] = (s[i] as number) + 1;
    t.status.set(r.status, s);
    const first = t.firstAt.get(r.status) ?? new Float64Array(n).fill(Number.NaN);
    if (!(time >= (first[i] as number))) first[i] = time;
    t.firstAt.set(r.status, first);
    const byRoute = t.statusRoutes.get(r.status) ?? new Map<string, Float64Array>();
    t.statusRoutes.set(r.status, byRoute);
    const routeKey = followed.has(r.route) ? r.route : 'other routes';
    const sr = byRoute.get(routeKey) ?? new Float64Array(n);
    sr[i] = (sr[i] as number) + 1;
    byRoute.set(routeKey, sr);
    if (!followed.has(r.route)) continue;
    let ro = t.routes.get(r.route);
    if (!ro) {
      ro = {
        n: new Float64Array(n),
        errors: new Float64Array(n),
        times: Array.from({ length: n }, () => []),
      };
      t.routes.set(r.route, ro);
    }
    ro.n[i] = (ro.n[i] as number) + 1;
    if (r.status >= 400) ro.errors[i] = (ro.errors[i] as number) + 1;
    if (r.seconds !== undefined) (ro.times[i] as number[]).push(r.seconds);
  }
  return t;
}

/** A series on the analysis grid: `part / whole` per bucket, NaN where `whole` is too small to say. */
function shareSeries(
  ctx: AnalyzerContext,
  component: string,
  name: string,
  labels: Record<string, string>,
  values: Float64Array,
  unit: string,
): PreparedSeries {
  const points: Array<[number, number]> = [];
  for (let i = 0; i < values.length; i++)
    if (Number.isFinite(values[i])) points.push([ctx.data.timeOf(i), values[i] as number]);
  const key = `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`;
  return { key, name, labels, kind: 'gauge', unit, component, points, values };
}

function ratio(part: Float64Array, whole: Float64Array): Float64Array {
  return part.map((p, i) => ((whole[i] as number) >= MIN_VOLUME ? p / (whole[i] as number) : Number.NaN));
}

/** The 95th percentile of each bucket's times (nearest rank), NaN where too few requests. */
function p95(times: number[][]): Float64Array {
  return Float64Array.from(times, (ts) => {
    if (ts.length < MIN_VOLUME) return Number.NaN;
    const s = [...ts].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)] as number;
  });
}

/** One status' answers on the analysis grid: its share of requests, and the counts it comes from. */
interface StatusShare {
  s: PreparedSeries;
  counts: Float64Array;
  total: Float64Array;
  /** When it was first answered in each bucket (NaN where it was not). */
  firstAt: Float64Array;
}

/**
 * Episodes of a status answered far more often than usual: buckets whose count passes what the
 * window's median share predicts by three standard deviations (a binomial count's) and two
 * answers, and whose share is MIN_SHARE above the median. A trickle that follows the traffic is
 * never hot; a status from none is hot as soon as it is a share.
 */
function bursts(
  ctx: AnalyzerContext,
  { s, counts, total, firstAt }: StatusShare,
  spec: CheckSpec,
): Finding[] {
  const usual = median(s.points.map(([, v]) => v));
  const hot: Array<[number, number, number]> = [];
  for (let i = 0; i < counts.length; i++) {
    const n = total[i] as number;
    const share = s.values[i] as number;
    if (!Number.isFinite(share)) continue;
    const expected = usual * n;
    const c = counts[i] as number;
    if (share >= usual + MIN_SHARE && c > expected + 3 * Math.sqrt(expected * (1 - usual)) + 2)
      hot.push([ctx.data.timeOf(i), share, i]);
  }
  return runsOf(hot, ([t]) => t, 2 * ctx.bucketMs).map((run) => {
    // Dated at its first answer, not its bucket's start: a proxy's refusal follows what the
    // application logged about it, and is not to be read as coming first.
    const [bucketStart, , i0] = run[0] as [number, number, number];
    const start = Number.isFinite(firstAt[i0]) ? (firstAt[i0] as number) : bucketStart;
    return {
      id: `${spec.analyzer}:${s.key}@${start}`,
      analyzer: spec.analyzer,
      kind: 'health',
      component: s.component,
      signal: s.key,
      title: `${spec.what} up from ${pct(usual)} usually`,
      time: start,
      end: (run.at(-1) as [number, number, number])[0],
      strength: Math.min(1, spec.strength * (0.6 + 0.4 * Math.min(1, run.length / 10))),
      direction: 'up',
      userFacing: true,
      evidence: [seriesEvidence(ctx, s, usual, median(run.map(([, v]) => v)))],
    } satisfies Finding;
  });
}

/** Shares that rose: a level shift that lasts, else each burst. */
function rises(ctx: AnalyzerContext, share: StatusShare, spec: CheckSpec): Finding[] {
  const shifted = shiftCheck(ctx, share.s, spec, { direction: 'up' });
  return shifted.length > 0 ? shifted : bursts(ctx, share, spec);
}

function pct(v: number): string {
  return `${(100 * v).toFixed(v < 0.1 ? 1 : 0)}%`;
}

/** The routes that answered `status` most over an episode, for the finding's title. */
function routesOf(lines: Array<{ route: string; n: number }>): string {
  const top = lines.slice(0, 3).map((l) => `${l.route} x${l.n}`);
  return top.length > 0 ? ` (most on ${top.join(', ')})` : '';
}

/**
 * What users got from the proxy, from its access logs: each error status (4xx and 5xx, and 499)
 * as a share of all requests, and each busy route's error share and 95th-percentile time, with the
 * route's own requests as the denominator. An application may log nothing when it refuses a user
 * (a 401 is a normal answer to it); the proxy sees every refusal. `covered` says which statuses
 * of a component other series already follow (the collected per-second 5xx series), so that one
 * signal is not counted twice. The kubelet's probes of the proxy's pod are left out (see
 * withoutProbes). Where the log names upstreams, each upstream's response time too
 * (see upstreamFindings), against the bundle's `baseline` period when it has one.
 */
export async function accessLogFindings(
  ctx: AnalyzerContext,
  covered: (component: string, status: number) => boolean = () => false,
  baseline?: { from: number; to: number },
): Promise<Finding[]> {
  const pods = new Map((await ctx.data.pods()).map((p) => [p.name, p]));
  const byComponent = new Map<string, AccessFile[]>();
  for (const read of (await ctx.data.requestLines()).access) {
    const f = withoutProbes(read, pods.get(read.pod));
    const component = ctx.data.componentOf(f.pod);
    byComponent.set(component, [...(byComponent.get(component) ?? []), f]);
  }
  const out: Finding[] = [];
  for (const [component, files] of [...byComponent].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const t = tally(files, ctx);
    if (t.records === 0) continue;
    for (const [status, counts] of [...t.status].sort((a, b) => a[0] - b[0])) {
      if (status < 400 || covered(component, status)) continue;
      const s = shareSeries(
        ctx,
        component,
        'access_status_share',
        { component, status: String(status) },
        ratio(counts, t.total),
        'share',
      );
      const spec = {
        analyzer: 'nginx',
        what: `${component}: ${status} answers`,
        strength: STATUS_STRENGTH[status] ?? STATUS_DEFAULT,
        userFacing: true,
      };
      const share = { s, counts, total: t.total, firstAt: t.firstAt.get(status) as Float64Array };
      for (const f of rises(ctx, share, spec)) out.push(titled(f, s, t, status, ctx));
    }
    out.push(...routeFindings(ctx, component, t));
    out.push(...(await upstreamFindings(ctx, component, files, baseline)));
  }
  return out;
}

/** Each busy route's errors and p95 time, as shares of the route's own requests, where they rose. */
function routeFindings(ctx: AnalyzerContext, component: string, t: Tally): Finding[] {
  const out: Finding[] = [];
  const rose = (
    name: string,
    labels: Record<string, string>,
    values: Float64Array,
    unit: string,
    what: string,
  ) =>
    shiftCheck(
      ctx,
      shareSeries(ctx, component, name, labels, values, unit),
      { analyzer: 'nginx', what: `${component}: ${what}`, strength: 0.6, userFacing: true },
      { direction: 'up' },
    );
  for (const [route, ro] of [...t.routes].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const labels = { component, route };
    out.push(
      ...rose(
        'access_route_error_share',
        labels,
        ratio(ro.errors, ro.n),
        'share',
        `${route} errors (share of its requests)`,
      ),
      ...rose('access_route_time_p95', labels, p95(ro.times), 's', `${route} time p95`),
    );
  }
  return out;
}

/** A status finding titled with its peak share and the routes that answered it most over its episode. */
function titled(f: Finding, s: PreparedSeries, t: Tally, status: number, ctx: AnalyzerContext): Finding {
  const to = f.end ?? ctx.window.to;
  let peak = 0;
  for (const [time, v] of s.points) if (time >= f.time && time <= to && v > peak) peak = v;
  const from = bucketOf(f.time, ctx.window.from, ctx.bucketMs, ctx.data.buckets);
  const end = bucketOf(to, ctx.window.from, ctx.bucketMs, ctx.data.buckets);
  const last = end < 0 ? ctx.data.buckets - 1 : end;
  const lines: Array<{ route: string; n: number }> = [];
  for (const [route, counts] of t.statusRoutes.get(status) ?? []) {
    let c = 0;
    for (let i = Math.max(0, from); i <= last && i < counts.length; i++) c += counts[i] as number;
    if (c > 0) lines.push({ route, n: c });
  }
  lines.sort((a, b) => b.n - a.n || (a.route < b.route ? -1 : 1));
  return { ...f, title: `${f.title}: up to ${pct(peak)} of requests${routesOf(lines)}` };
}
