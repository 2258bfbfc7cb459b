import { spanStartMs, type Bundle, type Span } from '@hindsight/core';

// Spans of one trace are joined in memory; traces are closed in arrival order once this many are
// open. A writer that keeps a trace's spans together (docs/bundle.md) loses nothing; one that
// interleaves them loses only the links between spans written further apart than this.
const MAX_OPEN_TRACES = 2_000;
// Slowest spans kept per signal as evidence.
const SAMPLES = 3;

/** One sample span kept as evidence. */
export interface SpanSample {
  time: number;
  trace: string;
  pod: string;
  text: string;
  value: number;
}

/** The values of one signal (an operation's self time, a call edge's time) with their times. */
export interface Observations {
  times: number[];
  values: number[];
  /** The largest values at or after the split time, with the span that gave them. */
  samples: SpanSample[];
}

/** What the spans of a bundle say, per signal. */
export interface SpanModel {
  /** Self time (duration less the children's) per `component\u0000operation`; spans that only call out left out. */
  self: Map<string, Observations>;
  /** Duration of the spans that begin a component's part of a request (server and root spans). */
  served: Map<string, Observations>;
  /** Per `caller\u0000callee`: the client span's time not covered by its server spans, per call (network, queues). */
  network: Map<string, Observations>;
  /** Per `caller\u0000callee`: how much later the server span began than its client span. */
  gap: Map<string, Observations>;
  /** Root operations: what the request's first component answered, as users wait for it. */
  roots: Set<string>;
  spans: number;
}

interface Lite {
  id: string;
  parent: string | undefined;
  component: string;
  pod: string;
  operation: string;
  start: number;
  duration: number;
}

/** The key of a pair of names. */
export function pairKey(a: string, b: string): string {
  return `${a}\u0000${b}`;
}

/** Splits a {@link pairKey}. */
export function splitKey(key: string): [string, string] {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1)];
}

function observe(map: Map<string, Observations>, key: string, s: Lite, value: number, split: number): void {
  let o = map.get(key);
  if (!o) map.set(key, (o = { times: [], values: [], samples: [] }));
  o.times.push(s.start);
  o.values.push(value);
  if (s.start < split) return;
  if (o.samples.length < SAMPLES || value > (o.samples[o.samples.length - 1] as SpanSample).value) {
    const text = `${s.component} ${s.operation || '(unnamed)'} ${value.toFixed(1)} ms (span ${s.id})`;
    o.samples.push({ time: s.start, trace: '', pod: s.pod, text, value });
    o.samples.sort((a, b) => b.value - a.value);
    if (o.samples.length > SAMPLES) o.samples.pop();
  }
}

/** The time a span's children cover within it, overlaps counted once (parallel calls). */
function coveredByChildren(s: Lite, kids: Lite[]): number {
  const end = s.start + s.duration;
  const parts = kids
    .map((k) => [Math.max(s.start, k.start), Math.min(end, k.start + k.duration)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let curA = Number.NEGATIVE_INFINITY;
  let curB = Number.NEGATIVE_INFINITY;
  for (const [a, b] of parts) {
    if (a > curB) {
      if (curB > curA) covered += curB - curA;
      curA = a;
      curB = b;
    } else if (b > curB) curB = b;
  }
  if (curB > curA) covered += curB - curA;
  return covered;
}

function addTrace(model: SpanModel, trace: string, spans: Lite[], split: number): void {
  const byId = new Map<string, Lite>();
  const kids = new Map<string, Lite[]>();
  for (const s of spans) byId.set(s.id, s);
  for (const s of spans) {
    if (s.parent === undefined || !byId.has(s.parent)) continue;
    const list = kids.get(s.parent);
    if (list) list.push(s);
    else kids.set(s.parent, [s]);
  }
  const callers = new Set<Lite>();
  for (const s of spans) {
    const callees = new Set((kids.get(s.id) ?? []).map((k) => k.component));
    if (callees.size === 1 && !callees.has(s.component)) callers.add(s);
  }
  const callsOut = (s: Lite): boolean => callers.has(s);
  for (const s of spans) {
    const children = kids.get(s.id) ?? [];
    const parent = s.parent === undefined ? undefined : byId.get(s.parent);
    const op = pairKey(s.component, s.operation);
    // A span whose children all run in one other component only calls it (a client span, or a
    // loop of calls): its own time is the calls' time on the wire and in queues, not its work.
    const caller = callsOut(s);
    // Calls out that its component made alongside it (a sibling client span, as Train Ticket's
    // gateway handler beside its HTTP client span) are waits too, not its own work.
    const alongside =
      caller || s.parent === undefined
        ? []
        : (kids.get(s.parent) ?? []).filter((k) => k !== s && k.component === s.component && callsOut(k));
    const uncovered = Math.max(0, s.duration - coveredByChildren(s, [...children, ...alongside]));
    const callees = new Set(children.map((k) => k.component));
    if (caller) {
      const edge = pairKey(s.component, (children[0] as Lite).component);
      observe(model.network, edge, s, uncovered / children.length, split);
      if (children.length === 1) {
        const child = children[0] as Lite;
        observe(model.gap, edge, child, Math.max(0, child.start - s.start), split);
      }
    } else if (![...callees].some((c) => c !== s.component)) {
      // Mixed spans (own children and calls out) are left out: their uncovered time mixes both.
      observe(model.self, op, s, uncovered, split);
    }
    if (parent === undefined && s.parent === undefined) {
      model.roots.add(op);
      observe(model.served, op, s, s.duration, split);
    } else if (parent && parent.component !== s.component) {
      observe(model.served, op, s, s.duration, split);
    }
  }
  for (const o of [model.network, model.gap, model.self, model.served])
    for (const obs of o.values()) for (const x of obs.samples) if (x.trace === '') x.trace = trace;
}

/**
 * Streams the bundle's spans into per-signal observations: self time per component and operation,
 * served duration, and per call edge the time the call spent outside its server span and the
 * delay before the server span began. Only numbers are kept, never the spans of the bundle.
 * `split` is the time from which the slowest spans are kept as evidence.
 */
export async function spanModel(bundle: Bundle, split: number, signal?: AbortSignal): Promise<SpanModel> {
  const model: SpanModel = {
    self: new Map(),
    served: new Map(),
    network: new Map(),
    gap: new Map(),
    roots: new Set(),
    spans: 0,
  };
  const open = new Map<string, Lite[]>();
  const close = (trace: string): void => {
    addTrace(model, trace, open.get(trace) as Lite[], split);
    open.delete(trace);
  };
  for await (const s of bundle.spans()) {
    if (signal?.aborted) break;
    model.spans += 1;
    let list = open.get(s.trace);
    if (!list) {
      if (open.size >= MAX_OPEN_TRACES) close(open.keys().next().value as string);
      open.set(s.trace, (list = []));
    }
    list.push(lite(s));
  }
  for (const trace of [...open.keys()]) close(trace);
  return model;
}

function lite(s: Span): Lite {
  return {
    id: s.span,
    parent: s.parent,
    component: s.component,
    pod: s.pod ?? s.component,
    operation: s.operation,
    start: spanStartMs(s),
    duration: s.durationMs,
  };
}
