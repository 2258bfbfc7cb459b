// GET /api/calls: the call graph the bundle's spans draw, and how long each call took over the
// window, for the view of a slow edge (which edge moved, and by how much, is the report's).
import { spanStartMs, type Bundle } from '@hindsight/core';

/** One call edge: `caller` called `callee` (a server span whose parent is a span of the caller). */
export interface CallEdgeView {
  caller: string;
  callee: string;
  calls: number;
  /** Median of the callee's server spans on this edge, in ms. */
  medianMs: number;
  /** The same per time bucket over the window: `[bucket start ms, median ms]`. */
  points: Array<[number, number]>;
  /**
   * The call as the caller waited for it (its client span, where one wraps calls into this callee
   * alone), median per bucket: a delay on the network shows here and not in the callee's spans.
   */
  waited: Array<[number, number]>;
  /**
   * Medians over the bundle's baseline period (a fault-free reference kept apart from the window),
   * when it declares one and has spans on this edge: the "before" of a window that begins at the fault.
   */
  baseline?: { medianMs: number; waitedMs?: number };
}

/** The body of `/api/calls`. */
export interface CallGraphView {
  /** Spans read; 0 when the bundle has none. */
  spans: number;
  bucketMs: number;
  edges: CallEdgeView[];
}

// Spans are joined to their parents trace by trace, with this many traces open at once (as the
// latency analyzer does): a writer that keeps a trace's spans together loses no link.
const MAX_OPEN_TRACES = 2_000;

interface Call {
  caller: string;
  callee: string;
  at: number[];
  ms: number[];
  /** The caller's client span per call; NaN where none wraps the call alone. */
  waited: number[];
  /** Which calls began in the baseline period (the rest are the window's). */
  base: boolean[];
}

interface Lite {
  id: string;
  parent: string | undefined;
  component: string;
  start: number;
  durationMs: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The median per time bucket of the values that are numbers. */
function perBucket(at: number[], values: number[], bucketMs: number): Array<[number, number]> {
  const buckets = new Map<number, number[]>();
  at.forEach((t, i) => {
    const v = values[i] as number;
    if (Number.isNaN(v)) return;
    const b = Math.floor(t / bucketMs) * bucketMs;
    let list = buckets.get(b);
    if (!list) buckets.set(b, (list = []));
    list.push(v);
  });
  return [...buckets].sort((a, b) => a[0] - b[0]).map(([t, v]) => [t, median(v)]);
}

/** Reads the spans once and groups each call by its edge. */
export async function callGraph(bundle: Bundle, bucketMs: number): Promise<CallGraphView> {
  const calls = new Map<string, Call>();
  const win = bundle.windowMs;
  const base = bundle.baselineMs;
  const inBaseline = (t: number): boolean => base !== undefined && t >= base.from && t <= base.to;
  const open = new Map<string, Lite[]>();
  const close = (trace: string): void => {
    const list = open.get(trace) ?? [];
    open.delete(trace);
    const byId = new Map(list.map((s) => [s.id, s]));
    // The components each span's children belong to: a client span wraps one callee's calls alone.
    const childIn = new Map<string, Set<string>>();
    for (const s of list) {
      if (s.parent === undefined) continue;
      let set = childIn.get(s.parent);
      if (!set) childIn.set(s.parent, (set = new Set()));
      set.add(s.component);
    }
    for (const s of list) {
      const parent = s.parent === undefined ? undefined : byId.get(s.parent);
      if (!parent || parent.component === s.component) continue;
      const key = `${parent.component}\u0000${s.component}`;
      let e = calls.get(key);
      if (!e)
        calls.set(
          key,
          (e = { caller: parent.component, callee: s.component, at: [], ms: [], waited: [], base: [] }),
        );
      e.at.push(s.start);
      e.ms.push(s.durationMs);
      e.waited.push(childIn.get(parent.id)?.size === 1 ? parent.durationMs : Number.NaN);
      e.base.push(inBaseline(s.start));
    }
  };
  let spans = 0;
  for await (const s of bundle.spans()) {
    spans += 1;
    let list = open.get(s.trace);
    if (!list) {
      if (open.size >= MAX_OPEN_TRACES) close(open.keys().next().value as string);
      open.set(s.trace, (list = []));
    }
    list.push({
      id: s.span,
      parent: s.parent,
      component: s.component,
      start: spanStartMs(s),
      durationMs: s.durationMs,
    });
  }
  for (const trace of [...open.keys()]) close(trace);
  const edges = [...calls.values()].map((e): CallEdgeView => {
    // Charts show the window; a call in the baseline period is the reference, not a point of it.
    const inWin = e.at.map((t, i) => !e.base[i] && t >= win.from && t <= win.to);
    const pick = <T>(xs: T[], keep: boolean[]): T[] => xs.filter((_, i) => keep[i]);
    const view: CallEdgeView = {
      caller: e.caller,
      callee: e.callee,
      calls: e.ms.length,
      medianMs: median(e.ms),
      points: perBucket(pick(e.at, inWin), pick(e.ms, inWin), bucketMs),
      waited: perBucket(pick(e.at, inWin), pick(e.waited, inWin), bucketMs),
    };
    if (e.base.some(Boolean)) {
      const waited = pick(e.waited, e.base).filter((v) => !Number.isNaN(v));
      view.baseline = {
        medianMs: median(pick(e.ms, e.base)),
        ...(waited.length > 0 ? { waitedMs: median(waited) } : {}),
      };
    }
    return view;
  });
  edges.sort((a, b) => a.callee.localeCompare(b.callee) || a.caller.localeCompare(b.caller));
  return { spans, bucketMs, edges };
}

const cache = new WeakMap<Bundle, Promise<CallGraphView>>();

/** {@link callGraph}, read once per bundle: a minute of a busy system holds tens of thousands of spans. */
export function callsOf(bundle: Bundle, bucketMs: number): Promise<CallGraphView> {
  let graph = cache.get(bundle);
  if (!graph) cache.set(bundle, (graph = callGraph(bundle, bucketMs)));
  return graph;
}
