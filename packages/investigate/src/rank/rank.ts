import type { TopologyGraph } from '../topology.js';
import type { BundleData } from '../data.js';
import type { Finding, Hypothesis, Report } from '../types.js';
import { mergeFindings } from './merge.js';
import { anomalyCandidate, changeCandidates, revertOf } from './candidates.js';
import { affinityFor } from './affinity.js';
import { decide, scoreCandidates } from './verdict.js';
import { rankWeights, type RankWeights } from './weights.js';

export { iso } from './common.js';
export { compareFindings, mergeFindings } from './merge.js';

/** What ranking needs besides the findings. */
export interface RankInput {
  findings: Finding[];
  data: BundleData;
  graph: TopologyGraph;
  known: Set<string>;
  window: { from: number; to: number };
  bucketMs: number;
  /** When the incident was known to be under way (unix ms), if given. */
  incidentAt?: number;
  /** Weights other than the defaults, for the benchmark that chooses them (see weights.ts). */
  weights?: Partial<RankWeights>;
}

/** The outcome of ranking. */
export interface RankResult {
  hypotheses: Hypothesis[];
  verdict: Report['verdict'];
  summary: string;
  /** The findings after merging the same signal seen by two analyzers, in their total order. */
  findings: Finding[];
}

// An anomaly below this strength is too weak to be anyone's evidence on its own.
const MIN_EVIDENCE = 0.1;
// Below this strength nothing is said to have moved.
const MIN_MOVED = 0.25;

/**
 * Ranks candidate causes. Every change is a candidate, and so is the earliest anomaly that no
 * change explains. Each anomaly lends its strength to the changes before it, by time (nearer is
 * stronger), by topology (the change touches the anomaly's component or one it calls or is called
 * by) and by the change's prior; an anomaly's credit is shared among the changes that could
 * explain it, so the last change before a failure takes it from an earlier, unrelated one.
 * The steps: merge (one finding per signal), candidates, affinity, then scores and the verdict.
 */
export function rank(input: RankInput): RankResult {
  const { window, bucketMs } = input;
  const merged = mergeFindings(input.findings, bucketMs);
  const changes = merged
    .filter((f) => f.kind === 'change' && f.change)
    .sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1));
  const anomalies = merged.filter((f) => f.kind !== 'change' && f.strength >= MIN_EVIDENCE);
  const moved = anomalies.filter((f) => f.strength >= MIN_MOVED);
  const tau = Math.min(15 * 60_000, Math.max(2 * 60_000, (window.to - window.from) / 10));

  const weights = rankWeights(input.weights);
  const changeCands = changeCandidates(changes, input.data, input.known, weights);
  // Each candidate's effects are judged until it was reverted, else until the end of the window.
  const until = new Map<string, number>();
  for (const c of changeCands) {
    const rev = revertOf(c, changeCands);
    if (rev) until.set(c.id, rev.time);
  }
  const affinity = affinityFor({
    graph: input.graph,
    window,
    bucketMs,
    tau,
    changes: changeCands,
    until,
    weights,
  });
  const unexplained = anomalyCandidate(moved, changeCands, affinity.affinity, bucketMs, weights);
  const candidates = unexplained ? [...changeCands, unexplained] : changeCands;

  const hypotheses =
    candidates.length > 0 && moved.length > 0
      ? scoreCandidates({ candidates, anomalies, merged, changes, affinity })
      : [];
  const decided = decide({
    hypotheses,
    candidates,
    moved,
    changes,
    tau,
    graph: input.graph,
    ...(input.incidentAt === undefined ? {} : { incidentAt: input.incidentAt }),
  });
  return { ...decided, findings: merged };
}
