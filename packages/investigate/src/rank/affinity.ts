import type { TopologyGraph } from '../topology.js';
import type { Finding } from '../types.js';
import { median } from '../stats.js';
import type { Candidate } from './candidates.js';
import { mechanismCertainty } from './mechanism.js';
import type { RankWeights } from './weights.js';

// How far apart two clocks (a Helm client's and a node's) or a scrape and its sample may be.
const CLOCK_SKEW_MS = 5_000;

/** What the affinity of a candidate to an anomaly depends on besides the two. */
export interface AffinityContext {
  graph: TopologyGraph;
  window: { from: number; to: number };
  bucketMs: number;
  /** The time constant of nearness: an anomaly `tau` after a change keeps 1/e of its affinity. */
  tau: number;
  /** The change candidates, for screening. */
  changes: Candidate[];
  /** When each candidate was reverted, by id: its effects are judged until then. */
  until: Map<string, number>;
  /** The weights (rankWeights(): the defaults unless a benchmark varies them). */
  weights: RankWeights;
}

/** How candidates and anomalies relate: the affinity of one to the other, and how long an anomaly held. */
export interface Affinity {
  /** How well `c` explains `a`, from 0 (not at all: `a` came first, or is `c` itself). */
  affinity(c: Candidate, a: Finding): number;
  /** What an anomaly counts for in `c`'s favour, by how much of it still held when `c` was judged. */
  lastingFor(c: Candidate, a: Finding): number;
  /** How far an anomaly may precede a change and still follow it (a bucket and a clock skew). */
  slack: number;
}

/**
 * Affinity by time (nearer is stronger, and an anomaly must not precede the change), by topology
 * (the change touches the anomaly's component or one it calls or is called by), by the change's
 * prior, by mechanism (its kind of setting can cause this kind of effect: see mechanism.ts) and by
 * screening (a blip that ended belongs to the rollout it followed most closely).
 */
export function affinityFor(ctx: AffinityContext): Affinity {
  const { graph, window, bucketMs, tau, changes, until } = ctx;
  const { mechanism, transient, screened: screenedWeight } = ctx.weights;
  const slack = bucketMs + CLOCK_SKEW_MS;
  const lastMargin = Math.max(2 * bucketMs, (window.to - window.from) / 10);
  const untilOf = (c: Candidate): number => until.get(c.id) ?? window.to;
  // An anomaly may precede a change by a bucket (onsets are known to a bucket) and a clock skew.
  const precedes = (c: Candidate, a: Finding): boolean => a.time >= c.time - slack;
  // A blip that ended belongs to the rollout it followed most closely: a change made between an
  // earlier one and the blip screens the earlier one. What lasts can take time to develop, so it
  // is not screened.
  const screened = (c: Candidate, a: Finding): number => {
    const between = changes.some(
      (o) => o !== c && o.cause.type === 'change' && o.time > c.time && precedes(o, a),
    );
    if (!between) return 1;
    return screenedWeight + (1 - screenedWeight) * lasting(a, untilOf(c), lastMargin);
  };
  return {
    slack,
    affinity(c, a) {
      if (a.id === c.finding.id) return 0;
      if (!precedes(c, a)) return 0;
      const near = Math.exp(-Math.max(0, a.time - c.time) / tau);
      // A change whose kind can cause this effect explains it better than a nearer one that cannot
      // (an OOM kill once load grew under a lowered memory limit, a benign rollout just before it).
      const kind = 1 + mechanismCertainty(c.mechanisms, a) * (mechanism - 1);
      return near * topology(graph, c.components, a) * c.prior * kind * screened(c, a);
    },
    lastingFor(c, a) {
      return transient + (1 - transient) * lasting(a, untilOf(c), lastMargin);
    },
  };
}

/** How near the components a change touches are to an anomaly's, in the call graph. */
function topology(graph: TopologyGraph, components: string[], a: Finding): number {
  if (components.length === 0 || !a.component) return 0.6;
  let best = 0.3;
  for (const c of components) {
    const d = graph.distance(c, a.component);
    const v = d === 0 ? 1 : d === 1 ? 0.75 : d === 2 ? 0.55 : graph.known ? 0.3 : 0.5;
    best = Math.max(best, v);
  }
  return best;
}

/**
 * How much of an anomaly still holds at `to` (the end of the window, or the revert of the change
 * judged), from 0 (an episode that ended early) to 1 (it lasts, or nothing says it ended): an
 * episode with an end (a template's last line, a probe's last failure, a counter's last increase)
 * lasts when it ends within `margin` of `to`; a moved series lasts by how far its last points
 * (within `margin` of its last point) still stand from the level before towards the level after.
 */
function lasting(a: Finding, to: number, margin: number): number {
  if (a.end !== undefined) {
    const gap = to - a.end - margin;
    return gap <= 0 ? 1 : Math.max(0, 1 - gap / margin);
  }
  const ev = a.evidence.find((e) => e.type === 'series');
  if (!ev || ev.type !== 'series' || ev.before === undefined || ev.after === undefined) return 1;
  const span = ev.after - ev.before;
  const upTo = ev.points.filter(([t]) => t >= a.time && t <= to);
  const last = upTo.at(-1);
  if (!last || span === 0) return 1;
  const tail = upTo.filter(([t]) => t >= last[0] - margin).map(([, v]) => v);
  const level = median(tail);
  return Math.min(1, Math.max(0, (level - ev.before) / span));
}
