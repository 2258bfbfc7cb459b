import type { Finding } from '../types.js';

/**
 * Kinds of mechanism: what a setting controls, and so what it can break when set wrong. See
 * docs/mechanisms.md for the table and why each pair is there.
 */
export type Mechanism =
  | 'memory'
  | 'cpu'
  | 'timeout'
  | 'expiry'
  | 'connections'
  | 'pool'
  | 'credential'
  | 'replicas'
  | 'replication'
  | 'probe'
  | 'cache'
  | 'proxy';

/** What a setting's words say it controls. Read from the setting's name, not from one chart's. */
const SETTING: Array<{ kind: Mechanism; name: RegExp }> = [
  { kind: 'memory', name: /mem(ory)?|heap|oom/ },
  { kind: 'cpu', name: /cpu|millicore/ },
  { kind: 'timeout', name: /timeout|deadline|grace/ },
  { kind: 'expiry', name: /ttl|expir|max ?age|lifetime/ },
  {
    kind: 'connections',
    name: /max ?(conn|connections|clients)|connection ?limit|(^| )(conns?|clients)( |$)/,
  },
  { kind: 'pool', name: /pool/ },
  { kind: 'credential', name: /secret|password|passwd|token|credential|auth|api ?key|cert|(^| )key$/ },
  { kind: 'replicas', name: /replicas?|replica ?count|instances|workers|(^| )scale/ },
  { kind: 'replication', name: /repl|backlog|(^| )sync/ },
  { kind: 'probe', name: /probe|readiness|liveness|startup|health ?check|initial ?delay|failure ?threshold/ },
  { kind: 'cache', name: /evict|cache|policy/ },
  { kind: 'proxy', name: /keepalive|keep ?alive|upstream|proxy/ },
];

/** What a symptom's words say happened. Read from the finding's signal and title. */
const EFFECT: Array<{ kind: Mechanism; text: RegExp }> = [
  { kind: 'memory', text: /oom|out of memory|killed for memory|used.?memory|memory/ },
  { kind: 'cpu', text: /cpu|throttl/ },
  {
    kind: 'timeout',
    text: /time ?out|timed out|deadline|cancel|\b(499|504)\b|status=(499|504)|time p\d\d|latency|slow|duration/,
  },
  { kind: 'expiry', text: /expir|ttl|missing|not found|\bmiss(es|ed)?\b|\b401\b|status=401/ },
  {
    kind: 'connections',
    text: /too many (clients|connections)|refused|max.?clients|rejected.?conn|connected.?clients|connections|\b(502|503)\b|status=(502|503)/,
  },
  { kind: 'pool', text: /pool|idle in transaction|waiting for a connection|connections/ },
  {
    kind: 'credential',
    text: /\b(401|403)\b|status=(401|403)|unauthori[sz]ed|forbidden|auth|wrongpass|noauth|password|denied/,
  },
  { kind: 'replicas', text: /replica|slave|connected.?replicas/ },
  { kind: 'replication', text: /repl|replica|slave|sync|lag/ },
  { kind: 'probe', text: /probe|unhealthy|readiness|liveness|not ready/ },
  { kind: 'cache', text: /evict|keyspace.?miss|expired.?keys|cache/ },
  { kind: 'proxy', text: /upstream|\b(502|504)\b|status=(502|504)/ },
];

// A quantity of bytes (`13Mi`, `1200kb`, `512M`) or of CPU (`500m`): the unit says what the setting
// is when its name does not (a `limit` of 256Mi is memory).
const BYTES = /^\d+(\.\d+)?\s*(ki|mi|gi|ti|kb|mb|gb|k|m|g)b?$/i;
const MILLICORES = /^\d+m$/;

// Limits that starve what they bound when lowered (memory, CPU, time, lifetime, a server's
// connections): raised, or set to 0 (off, in most software), they cannot cause the shortage. A
// client's pool is not one of them: raised, it can exhaust the server's connections.
const LIMITS = new Set<Mechanism>(['memory', 'cpu', 'timeout', 'expiry', 'connections']);
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

/** A number with an optional unit (`13Mi`, `1s`, `500`), in one scale per kind of unit, or NaN. */
function magnitude(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return Number.NaN;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  const scale = m ? UNIT[(m[2] as string).toLowerCase()] : undefined;
  return m && scale !== undefined ? Number(m[1]) * scale : Number.NaN;
}

/**
 * Which way a numeric setting moved: `raised` (or turned off: 0, in most software, is no limit),
 * `lowered`, or `unknown` when either side is not a number (a value set for the first time, over
 * a chart default the diff does not show).
 */
function direction(from: unknown, to: unknown): 'raised' | 'lowered' | 'unknown' {
  const a = magnitude(from);
  const b = magnitude(to);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return 'unknown';
  return b > a || (b === 0 && a > 0) ? 'raised' : 'lowered';
}

// How sure a limit's kind is when its direction is unknown: it may as well have been raised.
const UNKNOWN_DIRECTION = 0.5;

/** A setting path as words: `redis.master.memoryLimit` -> `redis master memory limit`. */
function words(path: string): string {
  return path
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[._\-[\]/]+/g, ' ')
    .toLowerCase()
    .trim();
}

/** What a change's settings control, each kind with how sure it is (1, or UNKNOWN_DIRECTION). */
export type Mechanisms = Map<Mechanism, number>;

/**
 * What a change's settings control, from each diff entry's name (its last three path segments,
 * which name the setting and what it belongs to) and its value's unit. A workload's replica count
 * (`spec.replicas` of a scale change) is `replicas`; a container's `resources.limits.memory` is
 * `memory`, as a values file's `memoryLimit: 13Mi` is. A limit raised is left out; one whose
 * direction is unknown counts UNKNOWN_DIRECTION.
 */
export function changeMechanisms(diff: Array<{ path: string; from?: unknown; to?: unknown }>): Mechanisms {
  const out: Mechanisms = new Map();
  for (const d of diff) {
    const name = words(d.path.split('.').slice(-3).join('.'));
    const dir = direction(d.from, d.to);
    const add = (kind: Mechanism): void => {
      if (!LIMITS.has(kind)) return void out.set(kind, 1);
      if (dir === 'raised') return;
      const sure = dir === 'lowered' ? 1 : UNKNOWN_DIRECTION;
      out.set(kind, Math.max(out.get(kind) ?? 0, sure));
    };
    for (const s of SETTING) if (s.name.test(name)) add(s.kind);
    const values = [d.from, d.to].filter((v): v is string => typeof v === 'string');
    if (/limit|request|resources/.test(name) && values.some((v) => BYTES.test(v) && !MILLICORES.test(v)))
      add('memory');
    if (/cpu|limit|request/.test(name) && values.some((v) => MILLICORES.test(v)) && !out.has('memory'))
      add('cpu');
  }
  return out;
}

const effectCache = new WeakMap<Finding, Set<Mechanism>>();

/** What kinds of mechanism could have produced a finding, from its signal and title. */
export function effectMechanisms(f: Finding): Set<Mechanism> {
  let out = effectCache.get(f);
  if (out) return out;
  const text = `${f.signal} ${f.title}`.toLowerCase();
  out = new Set(EFFECT.filter((e) => e.text.test(text)).map((e) => e.kind));
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
