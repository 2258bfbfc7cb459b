/**
 * The weights ranking uses, in one place, so that a benchmark can choose each without the data it
 * is scored on (bench/diagnosis.ts, leave-one-mechanism-out; figures in bench/RESULTS.md
 * `## diagnosis`). Each default says why it is what it is.
 */
export interface RankWeights {
  /**
   * How much more a change explains an effect its kind of setting can cause (a memory limit and an
   * OOM kill). Set a priori: 2 lets a matching change 20 s before an effect outrank a non-matching
   * one 5 s before it at any tau, as a topology match (1 against 0.55) would.
   */
  mechanism: number;
  /**
   * What an anomaly that ended on its own (long before the end of the window, with no revert to end
   * it) still counts for. Any rollout blips while its pods restart and the blip recovers by itself;
   * the incident is what still holds. On ten kept bench bundles the fault's weight over the best
   * decoy's went from 1.24x at worst to 2.28x at worst with 0.3.
   */
  transient: number;
  /** What an earlier change keeps of a blip when a later change came between them. */
  screened: number;
  /**
   * The prior of a change made only of settings that change what is observed (log verbosity,
   * labels, annotations), against a change's 1: a likely bystander, whose evidence can still win.
   */
  cosmetic: number;
  /** What the earliest anomaly no change explains weighs as a cause, against a change's 1. */
  anomaly: number;
  /**
   * How sure a limit's kind is when its direction is unknown (a value set over a chart default the
   * diff does not show): it may as well have been raised.
   */
  unknownDirection: number;
}

/** The weights as shipped. */
export const DEFAULT_RANK_WEIGHTS: Readonly<RankWeights> = {
  mechanism: 2,
  transient: 0.3,
  screened: 0.3,
  cosmetic: 0.35,
  anomaly: 0.6,
  unknownDirection: 0.5,
};

/** The defaults with a benchmark's overrides. */
export function rankWeights(over?: Partial<RankWeights>): RankWeights {
  return { ...DEFAULT_RANK_WEIGHTS, ...over };
}
