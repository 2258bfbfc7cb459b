import type { Finding } from '../types.js';
import { DEFAULT_RANK_WEIGHTS } from './weights.js';

/**
 * Kinds of mechanism: what a setting controls, and so what it can break when set wrong. See
 * docs/mechanisms.md for the table and why each pair is there.
 */
export type Mechanism =
  | 'memory'
  | 'cpu'
  | 'disk'
  | 'timeout'
  | 'latency'
  | 'expiry'
  | 'shutdown'
  | 'connections'
  | 'pool'
  | 'keepalive'
  | 'credential'
  | 'tls'
  | 'replicas'
  | 'replication'
  | 'probe'
  | 'cache'
  | 'proxy'
  | 'buffer'
  | 'rate-limit';

/**
 * One kind of mechanism: the words of a setting that controls it, the words of an effect it can
 * cause, and whether it is a limit (lowered, it starves what it bounds; raised, it cannot).
 */
export interface MechanismKind {
  kind: Mechanism;
  /** The family it belongs to, as docs/mechanisms.md groups them. */
  family:
    | 'resources'
    | 'timeouts'
    | 'connections'
    | 'credentials'
    | 'replication'
    | 'caching'
    | 'proxy'
    | 'probes'
    | 'scaling';
  setting: RegExp;
  effect: RegExp;
  limit: boolean;
}

// Status codes as a finding says them: `status=502` in a series key, `502 answers` in a title.
const status = (...codes: number[]): string => `\\b(${codes.join('|')})\\b`;

/**
 * The catalogue. A setting is read as words (see `words`): the names any software gives it, in a
 * container's env and args, a configuration file's directives, a resource or a probe, never one
 * chart's value names. An effect is read from a finding's signal, title, log template and event.
 */
export const MECHANISMS: readonly MechanismKind[] = [
  {
    kind: 'memory',
    family: 'resources',
    setting: /mem(ory)?|heap|oom/,
    effect: /oom|out of memory|killed for memory|used.?memory|memory|exit(ed)? (code )?137/,
    limit: true,
  },
  // A CPU limit starves everything the container does: its calls and probes slow down and time out.
  {
    kind: 'cpu',
    family: 'resources',
    setting: /cpu|millicore/,
    effect: /cpu|throttl|latency|slow|time p\d\d|deadline exceeded/,
    limit: true,
  },
  {
    kind: 'disk',
    family: 'resources',
    setting: /disk|storage|ephemeral/,
    effect: /no space|disk|enospc|ephemeral.?storage|evicted/,
    limit: true,
  },
  {
    kind: 'timeout',
    family: 'timeouts',
    setting: /time ?out|deadline|time ?limit/,
    effect: new RegExp(
      `time ?out|timed out|deadline|cancel|${status(499, 504)}|time p\\d\\d|latency|slow|duration`,
    ),
    limit: true,
  },
  // An injected or simulated delay (a fault-injection delay, a netem or toxiproxy latency, a stub
  // provider's latency): callers wait, and past their timeouts they give up (504, timed out). Not a
  // limit but its mirror: raised it slows, lowered it cannot (see DELAYS).
  {
    kind: 'latency',
    family: 'timeouts',
    // "initial delay" is a probe's wait before its first check, not a delay of the calls.
    setting: /latency|(^|(?<!initial) )delay( |$)/,
    effect: new RegExp(`latency|slow|delay|time p\\d\\d|duration|timed? ?out|deadline|${status(504)}`),
    limit: false,
  },
  {
    kind: 'expiry',
    family: 'caching',
    setting: /ttl|expir|max ?age|lifetime/,
    effect: new RegExp(`expir|ttl|missing|not found|\\bmiss(es|ed)?\\b|${status(401)}`),
    limit: true,
  },
  {
    kind: 'shutdown',
    family: 'timeouts',
    setting: /grace|pre ?stop|termination|shutdown|drain/,
    effect: new RegExp(`reset|prematurely closed|sigkill|killing|terminat|${status(502)}`),
    limit: true,
  },
  {
    kind: 'connections',
    family: 'connections',
    setting:
      /max ?(conn|connections|clients)|connection ?limit|worker ?connections|(^| )(conns?|clients)( |$)/,
    effect: new RegExp(
      `too many (clients|connections)|refused|max.?clients|rejected.?conn|connected.?clients|connections|${status(502, 503)}`,
    ),
    limit: true,
  },
  {
    kind: 'pool',
    family: 'connections',
    setting: /pool/,
    effect: /pool|idle in transaction|waiting for a connection|trying to connect|connections/,
    limit: false,
  },
  {
    kind: 'keepalive',
    family: 'connections',
    setting: /keep ?alive/,
    effect: new RegExp(`keep ?alive|reset|prematurely closed|upstream|${status(502)}`),
    limit: false,
  },
  {
    kind: 'credential',
    family: 'credentials',
    setting: /secret|password|passwd|requirepass|token|credential|auth|api ?key|(^| )key$/,
    effect: new RegExp(
      `${status(401, 403)}|unauthori[sz]ed|forbidden|auth|wrongpass|noauth|password|denied|signature`,
    ),
    limit: false,
  },
  {
    kind: 'tls',
    family: 'credentials',
    setting: /tls|ssl|cert|(^| )ca( |$)/,
    effect: /certificate|x509|tls|ssl|handshake/,
    limit: false,
  },
  {
    kind: 'replicas',
    family: 'scaling',
    setting: /replicas?|replica ?count|instances|workers|worker processes|(^| )scale|concurrency/,
    effect: new RegExp(`replica|slave|no live upstreams|unavailable|vanished|${status(502, 503)}`),
    limit: false,
  },
  {
    kind: 'replication',
    family: 'replication',
    setting: /(^| )repl( |$)|replication|backlog|(^| )sync|replicaof|slaveof|master ?link/,
    effect: /repl|replica|slave|sync|lag|backlog|master.?link/,
    limit: false,
  },
  {
    kind: 'probe',
    family: 'probes',
    setting: /probe|readiness|liveness|startup|health ?check|initial ?delay|(failure|success) ?threshold/,
    effect: new RegExp(`probe|unhealthy|readiness|liveness|not ready|restart|${status(503)}`),
    limit: false,
  },
  {
    kind: 'cache',
    family: 'caching',
    setting: /evict|cache|policy/,
    effect: /evict|keyspace.?miss|expired.?keys|cache/,
    limit: false,
  },
  {
    kind: 'proxy',
    family: 'proxy',
    setting: /upstream|proxy/,
    effect: new RegExp(`upstream|${status(502, 504)}`),
    limit: false,
  },
  {
    kind: 'buffer',
    family: 'proxy',
    setting: /buffer/,
    effect: new RegExp(`buffer|too (big|large)|closing client|${status(413, 502)}`),
    limit: true,
  },
  {
    kind: 'rate-limit',
    family: 'proxy',
    setting: /rate ?limit|limit ?req|(^| )(rate|burst|qps|rps)( |$)/,
    effect: new RegExp(`rate.?limit|limiting requests|too many requests|${status(429, 503)}`),
    limit: true,
  },
];

// A quantity of bytes (`13Mi`, `1200kb`, `512M`) or of CPU (`500m`): the unit says what the setting
// is when its name does not (a `limit` of 256Mi is memory).
const BYTES = /^\d+(\.\d+)?\s*(ki|mi|gi|ti|kb|mb|gb|k|m|g)b?$/i;
const MILLICORES = /^\d+m$/;

// Limits that starve what they bound when lowered (memory, CPU, time, lifetime, a server's
// connections, a buffer, a rate): raised, or set to 0 (off, in most software), they cannot cause
// the shortage. A client's pool is not one of them: raised, it can exhaust the server's connections.
const LIMITS = new Set<Mechanism>(MECHANISMS.filter((m) => m.limit).map((m) => m.kind));
// Kinds that harm whichever way they move: a pool raised exhausts the server's connections, a
// proxy's keep-alive held longer than its upstream's meets closed connections, more replicas load
// the master with syncs.
const EITHER_WAY = new Set<Mechanism>(['pool', 'keepalive', 'replicas']);
// Kinds that harm when raised: a delay lowered cannot slow anything.
const DELAYS = new Set<Mechanism>(['latency']);
const UNIT: Record<string, number> = {
  '': 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  ms: 1e-3,
  s: 1,
  h: 3600,
};

/**
 * A number with an optional unit (`13Mi`, `1s`, `500`), in one scale per kind of unit, or NaN. In
 * a CPU quantity `m` is a thousandth of a core (`100m`), elsewhere a million (`64m`, Redis' bytes).
 */
function magnitude(v: unknown, cpu = false): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return Number.NaN;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  const unit = m ? (m[2] as string).toLowerCase() : '';
  const scale = m ? (cpu && unit === 'm' ? 1e-3 : UNIT[unit]) : undefined;
  return m && scale !== undefined ? Number(m[1]) * scale : Number.NaN;
}

/**
 * Which way a numeric setting moved: `raised` (or turned off: 0, in most software, is no limit),
 * `lowered` (or turned on: from 0, or a resource limit where a container had none), or `unknown`
 * when either side is not a number (a value set for the first time, over a chart default the
 * diff does not show).
 */
function direction(name: string, from: unknown, to: unknown): 'raised' | 'lowered' | 'unknown' {
  const cpu = /cpu/.test(name);
  const a = magnitude(from, cpu);
  const b = magnitude(to, cpu);
  if (from === undefined && Number.isFinite(b) && /(^| )limits( |$)/.test(name)) return 'lowered';
  if (!Number.isFinite(a) || !Number.isFinite(b)) return 'unknown';
  if (a === 0 && b > 0) return 'lowered';
  return b > a || (b === 0 && a > 0) ? 'raised' : 'lowered';
}

/** A setting path as words: `redis.master.memoryLimit` -> `redis master memory limit`. */
function words(path: string): string {
  return path
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[._\-[\]/]+/g, ' ')
    .toLowerCase()
    .trim();
}

/** What a change's settings control, each kind with how sure it is (1, or less when its direction is unknown). */
export type Mechanisms = Map<Mechanism, number>;

/**
 * What a change's settings control, from each diff entry's name (its last three path segments,
 * which name the setting and what it belongs to) and its value's unit. Written for the objects a
 * revision rendered (see `renderedDiff` in collect): a workload's replica count (`spec.replicas`)
 * is `replicas`; a container's `resources.limits.memory` is `memory`, its env
 * `PG_STATEMENT_TIMEOUT_MS` a `timeout`, its arg `max_connections` a server's `connections`; a
 * ConfigMap's `nginx.conf` directive `proxy_read_timeout` a `timeout` and `proxy`. A limit raised
 * is left out; one whose direction is unknown counts `unknownDirection` (a value set over a chart
 * default the diff does not show may as well have been raised).
 */
export function changeMechanisms(
  diff: Array<{ path: string; from?: unknown; to?: unknown }>,
  unknownDirection = DEFAULT_RANK_WEIGHTS.unknownDirection,
): Mechanisms {
  const out: Mechanisms = new Map();
  for (const d of diff) {
    const name = words(d.path.split('.').slice(-3).join('.'));
    const dir = direction(name, d.from, d.to);
    const kinds = new Set(MECHANISMS.filter((m) => m.setting.test(name)).map((m) => m.kind));
    const values = [d.from, d.to].filter((v): v is string => typeof v === 'string');
    if (/limit|request|resources/.test(name) && values.some((v) => BYTES.test(v) && !MILLICORES.test(v)))
      kinds.add('memory');
    else if (/cpu|limit|request/.test(name) && values.some((v) => MILLICORES.test(v))) kinds.add('cpu');
    // A limit raised relaxes what it bounds, and whatever else its words name with it (a proxy's
    // connect timeout raised is no proxy fault); only what harms either way is kept.
    const relaxed = dir === 'raised' && [...kinds].some((k) => LIMITS.has(k));
    for (const kind of kinds) {
      if (relaxed && !EITHER_WAY.has(kind)) continue;
      if (DELAYS.has(kind)) {
        // A delay's 0 is no delay, not "no limit": 0 -> 2000 ms is raised.
        const grew = Number(magnitude(d.to)) - Number(magnitude(d.from));
        if (grew <= 0) continue;
        out.set(kind, Math.max(out.get(kind) ?? 0, Number.isFinite(grew) ? 1 : unknownDirection));
        continue;
      }
      const sure = !LIMITS.has(kind) || dir === 'lowered' ? 1 : unknownDirection;
      out.set(kind, Math.max(out.get(kind) ?? 0, sure));
    }
  }
  return out;
}

const effectCache = new WeakMap<Finding, Set<Mechanism>>();

/**
 * What a finding says happened: its signal and title, the template of the log lines it rests on
 * (a log finding's title names only where and how many) and the reason and message of its events.
 */
function effectText(f: Finding): string {
  const parts = [f.signal, f.title];
  for (const e of f.evidence) {
    if (e.type === 'lines') parts.push(e.template ?? e.lines[0]?.text ?? '');
    else if (e.type === 'event') parts.push(`${e.reason} ${e.message}`);
  }
  return parts.join(' ').toLowerCase();
}

/** What kinds of mechanism could have produced a finding, from what it says happened. */
export function effectMechanisms(f: Finding): Set<Mechanism> {
  let out = effectCache.get(f);
  if (out) return out;
  const text = effectText(f);
  out = new Set(MECHANISMS.filter((m) => m.effect.test(text)).map((m) => m.kind));
  effectCache.set(f, out);
  return out;
}

/** The kinds a change's mechanisms share with a finding's, in the table's order. */
export function sharedMechanisms(change: Mechanisms, f: Finding): Mechanism[] {
  if (change.size === 0) return [];
  const effect = effectMechanisms(f);
  return [...change.keys()].filter((k) => effect.has(k));
}

/** How surely a change's kind can cause a finding: the surest kind they share, 0 when none. */
export function mechanismCertainty(change: Mechanisms, f: Finding): number {
  let best = 0;
  for (const k of sharedMechanisms(change, f)) best = Math.max(best, change.get(k) ?? 0);
  return best;
}
