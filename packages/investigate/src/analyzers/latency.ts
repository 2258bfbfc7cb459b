import { INCIDENT_SLACK_MS } from '../incident.js';
import type { Analyzer, AnalyzerContext, Evidence, Finding } from '../types.js';
import { baselineValues, compare, type LatencyParams, type Move, type Periods } from './latency-compare.js';
import { pairKey, spanModel, splitKey, type Observations, type SpanModel } from './latency-model.js';
import { fmt } from '../evidence.js';

/**
 * The thresholds: the point of bench/rca.ts's grid with the most top-1 and top-3 hits on the 22
 * faults of both systems, also the point chosen on each system alone and on every
 * leave-one-fault-out fold. bench/RESULTS.md `## rca` has the fitted, leave-one-fault-out and
 * cross-system figures side by side.
 */
export const DEFAULT_LATENCY_PARAMS: LatencyParams = {
  z: 6,
  ratio: 1.5,
  full: 8,
  horizonMs: 180_000,
};

// A pooled reference needs as many values as a signal's own (latency-compare's minimum).
const MIN_POOLED = 5;

/** One call edge's moves, from spans and from caller-to-callee series. */
interface EdgeMoves {
  caller: string;
  callee: string;
  moves: Array<{
    what: string;
    move: Move;
    unit: string;
    labels?: Record<string, string>;
    /** Measured whole, the callee's own calls included (a caller-side series), not outside the server span. */
    whole?: boolean;
  }>;
  samples: Observations['samples'];
}

function edgeMoved(e: EdgeMoves): boolean {
  return e.moves.some((m) => m.move.moved);
}

/** The periods to compare: the incident's time splits the window when given. */
export function periodsOf(
  bundleBaseline: { from: number; to: number } | undefined,
  ctx: AnalyzerContext,
  params: LatencyParams,
): Periods {
  const { window } = ctx;
  const split =
    ctx.incidentAt !== undefined
      ? Math.max(window.from, ctx.incidentAt - INCIDENT_SLACK_MS)
      : bundleBaseline
        ? window.from
        : window.from + (window.to - window.from) / 3;
  const at = ctx.incidentAt;
  const testFrom = at !== undefined ? Math.max(split, Math.min(at, window.to)) : split;
  const until = at !== undefined ? Math.min(window.to, testFrom + params.horizonMs) : window.to;
  return {
    window,
    split,
    testFrom,
    until,
    ...(ctx.incidentAt !== undefined ? { incidentAt: ctx.incidentAt } : {}),
    bucketMs: ctx.bucketMs,
    ...(bundleBaseline ? { baseline: bundleBaseline } : {}),
  };
}

function addEdge(
  edges: Map<string, EdgeMoves>,
  caller: string,
  callee: string,
  entry: EdgeMoves['moves'][number],
  samples: Observations['samples'] = [],
): void {
  const key = pairKey(caller, callee);
  let e = edges.get(key);
  if (!e) edges.set(key, (e = { caller, callee, moves: [], samples: [] }));
  e.moves.push(entry);
  e.samples.push(...samples);
}

/**
 * The baseline's values of one kind of call measure, pooled: per callee (every caller's calls into
 * it), and over all calls. A call too rare in the baseline to have a reference of its own (on Train
 * Ticket's fault-free minute, 12 of 42 call edges have fewer than 5 calls, one service is called
 * once) is compared with the calls into its callee, or with every call's time on the wire.
 */
function pools(measure: Map<string, Observations>, p: Periods): (key: string) => number[] {
  const byCallee = new Map<string, number[]>();
  const all: number[] = [];
  for (const [key, o] of measure) {
    const values = baselineValues(o, p);
    const callee = splitKey(key)[1];
    byCallee.set(callee, [...(byCallee.get(callee) ?? []), ...values]);
    all.push(...values);
  }
  return (key) => {
    const mine = byCallee.get(splitKey(key)[1]) ?? [];
    return mine.length >= MIN_POOLED ? mine : all;
  };
}

/**
 * Tests each call edge of one measure; the edges into a callee too thin to test alone (fewer
 * calls than a median needs, before or after) are tested together, and a move of theirs is each
 * one's: on Train Ticket a service called ten times in three minutes by three callers has no edge
 * with five calls.
 */
function measureEdges(
  measure: Map<string, Observations>,
  what: string,
  skip: (key: string) => boolean,
  p: Periods,
  params: LatencyParams,
  edges: Map<string, EdgeMoves>,
): void {
  const pool = pools(measure, p);
  const thin = new Map<string, string[]>();
  for (const [key, o] of measure) {
    if (skip(key)) continue;
    const move = compare(o, p, params, pool(key));
    const [caller, callee] = splitKey(key);
    if (move) addEdge(edges, caller, callee, { what, move, unit: 'ms' }, o.samples);
    else thin.set(callee, [...(thin.get(callee) ?? []), caller]);
  }
  for (const [callee, callers] of thin) {
    if (callers.length < 2) continue;
    const together: Observations = { times: [], values: [], samples: [] };
    for (const c of callers) {
      const o = measure.get(pairKey(c, callee)) as Observations;
      together.times.push(...o.times);
      together.values.push(...o.values);
      together.samples.push(...o.samples);
    }
    const move = compare(together, p, params, pool(pairKey(callers[0] as string, callee)));
    if (!move) continue;
    const label = `${what} (${callers.length} callers' calls together)`;
    callers.forEach((c, i) =>
      addEdge(edges, c, callee, { what: label, move, unit: 'ms' }, i === 0 ? together.samples : []),
    );
  }
}

function spanEdges(model: SpanModel, p: Periods, params: LatencyParams, edges: Map<string, EdgeMoves>): void {
  measureEdges(model.network, 'time outside the server span', () => false, p, params, edges);
  // Where no client span wraps the call alone, the start delay is the edge's only measure.
  measureEdges(
    model.gap,
    'delay before the server span began',
    (key) => model.network.has(key),
    p,
    params,
    edges,
  );
}

async function seriesEdges(
  ctx: AnalyzerContext,
  p: Periods,
  params: LatencyParams,
  edges: Map<string, EdgeMoves>,
): Promise<void> {
  const { baseline: _unused, ...windowOnly } = p;
  for (const s of await ctx.data.series()) {
    const caller = s.labels['caller'];
    const callee = s.labels['callee'];
    if (!caller || !callee || caller === callee) continue;
    const o: Observations = {
      times: s.points.map((x) => x[0]),
      values: s.points.map((x) => x[1]),
      samples: [],
    };
    // Series carry no baseline of their own here: their reference is the window's past.
    const move = compare(o, windowOnly, params);
    if (move)
      addEdge(edges, caller, callee, { what: s.name, move, unit: s.unit, labels: s.labels, whole: true });
  }
}

/** How many of a component's tested edges moved, per direction. */
interface Share {
  moved: number;
  tested: number;
}

function sharesOf(edges: Iterable<EdgeMoves>): { into: Map<string, Share>; out: Map<string, Share> } {
  const into = new Map<string, Share>();
  const out = new Map<string, Share>();
  const add = (m: Map<string, Share>, c: string, moved: boolean): void => {
    const s = m.get(c) ?? { moved: 0, tested: 0 };
    m.set(c, { moved: s.moved + (moved ? 1 : 0), tested: s.tested + 1 });
  };
  for (const e of edges) {
    add(into, e.callee, edgeMoved(e));
    add(out, e.caller, edgeMoved(e));
  }
  return { into, out };
}

const ratioOf = (s: Share | undefined): number => (s ? s.moved / s.tested : 0);

/**
 * Which component each moved edge is blamed on. When a component (or the network into it) is slow,
 * the calls into it slow down together, whoever makes them; a caller sees one of its calls out
 * slow down. So the edge goes to the callee when at least as large a share of the calls into it
 * moved as of the caller's calls out, else to the caller (whose calls out all slowed together).
 * A call into C is left out when a call out of C is blamed on C's callee: measured whole, the call
 * into C also slowed because C waited.
 */
export function attributeEdges(edges: Iterable<EdgeMoves>): Map<string, EdgeMoves[]> {
  const list = [...edges];
  const { into, out } = sharesOf(list);
  const on = new Map<EdgeMoves, string>();
  for (const e of list.filter(edgeMoved)) {
    on.set(e, ratioOf(into.get(e.callee)) >= ratioOf(out.get(e.caller)) ? e.callee : e.caller);
  }
  // A call measured whole (a caller-side latency series) also slows when its callee waits on a
  // slow callee of its own: a call into C is C's wait when a call out of C is blamed further on.
  let changed = true;
  while (changed) {
    changed = false;
    for (const [e, c] of on) {
      const further = [...on].some(([f, d]) => f.caller === c && d === f.callee && d !== c);
      // Only a move measured whole: time outside the server span leaves the callee's waits out.
      const whole = e.moves.every((m) => !m.move.moved || m.whole === true);
      if (c === e.callee && further && whole) {
        on.delete(e);
        changed = true;
      }
    }
  }
  // A callee with no other caller says nothing by its share: one caller whose calls into several
  // such callees slowed together (waits on further callees aside; callees that other callers also
  // saw slow are theirs) is one cause, not several
  // (Online Boutique's front end short of CPU: its calls into checkout and ads both slowed, each
  // callee's only caller).
  const only = (e: EdgeMoves): boolean => (into.get(e.callee)?.tested ?? 0) <= 1;
  const movedOut = new Map<string, number>();
  for (const e of on.keys()) if (only(e)) movedOut.set(e.caller, (movedOut.get(e.caller) ?? 0) + 1);
  for (const e of on.keys()) if (only(e) && (movedOut.get(e.caller) ?? 0) >= 2) on.set(e, e.caller);
  const blamed = new Map<string, EdgeMoves[]>();
  for (const [e, c] of on) {
    const l = blamed.get(c);
    if (l) l.push(e);
    else blamed.set(c, [e]);
  }
  return blamed;
}

function strongest(e: EdgeMoves): {
  what: string;
  move: Move;
  unit: string;
  labels?: Record<string, string>;
} {
  // A move judged against the baseline is firmer than one against the window's past (which may
  // hold an earlier incident): it speaks for the edge when both moved.
  return [...e.moves].sort(
    (a, b) =>
      Number(b.move.moved) - Number(a.move.moved) ||
      Number(b.move.baseline) - Number(a.move.baseline) ||
      b.move.z - a.move.z,
  )[0] as EdgeMoves['moves'][number];
}

// A move already there before the incident's time is a standing difference from the reference (a
// busier hour than the baseline's, a cache warm or cold), more likely than the incident's onset. Half,
// chosen a priori: on Train Ticket spans, a served operation 7 times faster than the fault-free
// minute from the first second of the window outranked a delay that began at the incident.
const STANDING_WEIGHT = 0.5;

export function standingWeight(m: Move | undefined): number {
  return m?.standing ? STANDING_WEIGHT : 1;
}

/** A move's size from 0 to 1: how many times slower, on a log scale, full at `params.full` times. */
export function size(ratio: number, params: LatencyParams): number {
  return Math.min(1, Math.max(0, Math.log(ratio) / Math.log(params.full)));
}

function sampleEvidence(samples: Observations['samples']): Evidence[] {
  const top = [...samples].sort((a, b) => b.value - a.value).slice(0, 3);
  if (top.length === 0) return [];
  return [
    {
      type: 'lines',
      template: 'slowest spans after the split',
      lines: top.map((s) => ({
        time: s.time,
        pod: s.pod,
        container: 'span',
        text: `${s.text} trace ${s.trace}`,
      })),
    },
  ];
}

function moveEvidence(name: string, labels: Record<string, string>, unit: string, m: Move): Evidence {
  return { type: 'series', name, labels, unit, points: m.points, before: m.before, after: m.after };
}

/** Components whose served time rose while their own work did not: they only waited. */
function bystanders(served: Map<string, Move>, selfMoved: Set<string>, culprits: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const [key, m] of served) {
    const [component] = splitKey(key);
    if (m.moved && !selfMoved.has(component) && !culprits.has(component)) out.add(component);
  }
  return out;
}

function edgeFinding(
  component: string,
  blamed: EdgeMoves[],
  all: Iterable<EdgeMoves>,
  waited: string[],
  userFacing: boolean,
  params: LatencyParams,
): Finding {
  const shares = sharesOf(all);
  const inbound = blamed.some((e) => e.callee === component);
  const { moved, tested } = (inbound ? shares.into : shares.out).get(component) ?? { moved: 0, tested: 1 };
  const ranked = blamed
    .map((e) => ({ e, m: strongest(e) }))
    .sort((a, b) => b.m.move.after - b.m.move.before - (a.m.move.after - a.m.move.before));
  const first = onsetOf(blamed);
  const ratioMax = ranked.reduce((x, r) => Math.max(x, r.m.move.ratio), 1);
  const parts = ranked
    .slice(0, 3)
    .map(
      ({ e, m }) =>
        `${e.caller} -> ${e.callee} ${m.what} ${fmt(m.move.before)} -> ${fmt(m.move.after)} ${m.unit}`,
    );
  const others = [...waited].sort();
  const title =
    `${inbound ? `calls into ${component}` : `${component}'s calls out`} slowed: ${moved} of ${tested} ${inbound ? 'callers' : 'callees'} saw it (${parts.join('; ')})` +
    (others.length > 0 ? `; ${others.join(', ')} only waited on it (own work unchanged)` : '');
  return {
    id: `latency:edges:${component}`,
    analyzer: 'latency',
    kind: 'anomaly',
    component,
    signal: `latency:edges:${component}`,
    title,
    time: first,
    strength:
      Math.round(
        (moved / Math.max(1, tested)) * size(ratioMax, params) * standingWeight(ranked[0]?.m.move) * 1000,
      ) / 1000,
    direction: 'up',
    userFacing,
    baseline: ranked.some((r) => r.m.move.moved && r.m.move.baseline),
    ...(others.length > 0 ? { bystanders: others } : {}),
    evidence: [
      ...ranked
        .slice(0, 3)
        .map(({ e, m }) =>
          moveEvidence(m.what, m.labels ?? { caller: e.caller, callee: e.callee }, m.unit, m.move),
        ),
      ...sampleEvidence(ranked.flatMap((r) => r.e.samples)),
    ],
  };
}

function selfFindings(model: SpanModel, p: Periods, params: LatencyParams, userFacing: boolean): Finding[] {
  const best = new Map<string, { op: string; m: Move; o: Observations }>();
  for (const [key, o] of model.self) {
    const m = compare(o, p, params);
    if (!m?.moved) continue;
    const [component, op] = splitKey(key);
    const cur = best.get(component);
    if (!cur || m.z > cur.m.z) best.set(component, { op, m, o });
  }
  return [...best].map(([component, { op, m, o }]) => ({
    id: `latency:self:${component}`,
    analyzer: 'latency',
    kind: 'anomaly',
    component,
    signal: `latency:self:${component}`,
    title: `${component}'s own work slowed: self time of ${op || '(unnamed)'} ${fmt(m.before)} -> ${fmt(m.after)} ms (median of ${m.n} spans)`,
    time: m.onset,
    strength: Math.round(size(m.ratio, params) * standingWeight(m) * 1000) / 1000,
    direction: 'up',
    userFacing,
    baseline: m.baseline,
    evidence: [
      moveEvidence('span_self_time_ms', { component, operation: op }, 'ms', m),
      ...sampleEvidence(o.samples),
    ],
  }));
}

/**
 * Components whose served operations became much faster while none of the components they call
 * did: they answer without doing their work (an early return, an error answered at once). When a
 * callee fails fast its callers' served time falls too; that fall is the callee's, not theirs.
 */
function shortCircuits(model: SpanModel, served: Map<string, Move>, params: LatencyParams): Finding[] {
  const fell = [...served].filter(([, m]) => m.fell);
  const fallen = new Set(fell.map(([k]) => splitKey(k)[0]));
  const calls = new Set([...model.network.keys(), ...model.gap.keys()]);
  const best = new Map<string, { op: string; m: Move }>();
  for (const [key, m] of fell) {
    const [component, op] = splitKey(key);
    if ([...fallen].some((c) => c !== component && calls.has(pairKey(component, c)))) continue;
    const cur = best.get(component);
    if (!cur || m.ratio < cur.m.ratio) best.set(component, { op, m });
  }
  return [...best].map(([component, { op, m }]) => ({
    id: `latency:short:${component}`,
    analyzer: 'latency',
    kind: 'anomaly',
    component,
    signal: `latency:short:${component}`,
    title: `${component} answers without its work: ${op || '(unnamed)'} took ${fmt(m.before)} -> ${fmt(m.after)} ms (median of ${m.n} spans)`,
    time: m.onset,
    strength: Math.round(size(1 / Math.max(m.ratio, 1e-6), params) * standingWeight(m) * 1000) / 1000,
    direction: 'down',
    baseline: m.baseline,
    evidence: [moveEvidence('span_duration_ms', { component, operation: op }, 'ms', m)],
  }));
}

/** When the first of some edges began to move. */
function onsetOf(list: EdgeMoves[]): number {
  return list.reduce((t, e) => Math.min(t, strongest(e).move.onset), Number.POSITIVE_INFINITY);
}

/** Every component that calls `component`, directly or through others. */
function upstreamOf(component: string, edges: Iterable<EdgeMoves>): Set<string> {
  const list = [...edges];
  const seen = new Set<string>();
  const todo = [component];
  while (todo.length > 0) {
    const c = todo.pop() as string;
    for (const e of list) {
      if (e.callee !== c || seen.has(e.caller) || e.caller === component) continue;
      seen.add(e.caller);
      todo.push(e.caller);
    }
  }
  return seen;
}

/**
 * Whether a component's slower own work is its wait on a slow callee whose spans are missing (an
 * untraced service: the caller's span of the call is then a leaf, its whole time counted as its
 * own): it calls a component blamed for slow calls into it, and began within two buckets of it.
 */
function waitsOn(
  f: Finding,
  onsets: Map<string, number>,
  edges: Iterable<EdgeMoves>,
  bucketMs: number,
): boolean {
  for (const e of edges) {
    if (e.caller !== f.component) continue;
    const t = onsets.get(e.callee);
    if (t !== undefined && Math.abs(t - f.time) <= 2 * bucketMs) return true;
  }
  return false;
}

/**
 * Latency along the call graph: from spans, each operation's self time and each call edge's time
 * outside its server span (and the server span's late start), judged against the bundle's baseline
 * or the window's past; from caller-to-callee series (labels `caller`, `callee`), each edge's level.
 * A moved edge is blamed on the endpoint most of whose edges moved, so a slow callee is the cause
 * and its callers, whose own work did not slow, are named as bystanders and get no finding.
 */
export function latencyAnalyzer(params: LatencyParams = DEFAULT_LATENCY_PARAMS): Analyzer {
  return {
    name: 'latency',
    needs: ['series'],
    async analyze(bundle, ctx) {
      const p = periodsOf(bundle.baselineMs, ctx, params);
      const model = await spanModel(bundle, p.split, ctx.signal);
      const edges = new Map<string, EdgeMoves>();
      spanEdges(model, p, params, edges);
      await seriesEdges(ctx, p, params, edges);
      const served = new Map<string, Move>();
      for (const [key, o] of model.served) {
        const m = compare(o, p, params);
        if (m) served.set(key, m);
      }
      // Users feel it when a request's first component answered more slowly.
      const felt = [...model.roots].some((r) => served.get(r)?.moved === true);
      const blamed = attributeEdges(edges.values());
      const onsets = new Map([...blamed].map(([c, list]) => [c, onsetOf(list)]));
      const self: Finding[] = [];
      const waitedOn = new Set<string>();
      for (const f of selfFindings(model, p, params, felt)) {
        if (waitsOn(f, onsets, edges.values(), ctx.bucketMs)) waitedOn.add(f.component as string);
        else self.push(f);
      }
      const culprits = new Set([...blamed.keys(), ...self.map((f) => f.component as string)]);
      const waited = bystanders(served, new Set(self.map((f) => f.component as string)), culprits);
      for (const c of waitedOn) if (!culprits.has(c)) waited.add(c);
      const out = [...self, ...shortCircuits(model, served, params)];
      for (const [component, list] of blamed) {
        const callers = upstreamOf(component, edges.values());
        const theirs = [...waited].filter((c) => callers.has(c));
        out.push(edgeFinding(component, list, edges.values(), theirs, felt, params));
      }
      return out;
    },
  };
}

/** The latency analyzer with its chosen thresholds. */
export const latency: Analyzer = latencyAnalyzer();
