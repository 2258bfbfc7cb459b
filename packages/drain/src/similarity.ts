import type { Cluster } from './cluster.js';
import { PATTERN, VARIABLE } from './cluster.js';
import { WILDCARD } from './mask.js';
import { matchesPattern } from './template-token.js';

// A template's `<*>` facing a word is weak evidence either way: it counts as half a mismatch.
// Measured on Loghub-2k at similarity 0.7: 0 gives average GA 0.976, 0.5 gives 0.979.
const PARAM_WEIGHT = 0.5;

/** The best candidate of a search in progress (mutated in place, so a search allocates nothing). */
export interface Best {
  cluster: Cluster | undefined;
  sim: number;
  params: number;
}

/**
 * Scores every cluster of a leaf against a line's tokens and keeps the best in `best`.
 * Token-class aware: equal literal tokens count 1; a pattern token (`rhost=<*>`) counts 1 when the
 * line's token fits it; positions where both are masked values are left out (they agree by
 * construction and say nothing); a template `<*>` facing a word counts as half a mismatch. Ties go
 * to the template with more variables, as in Drain.
 */
export function scoreLeaf(leaf: Cluster[], tokens: string[], best: Best): void {
  const n = tokens.length;
  for (let k = 0; k < leaf.length; k++) {
    const c = leaf[k] as Cluster;
    let sim = 0;
    let params = 0;
    let counted = n;
    const t = c.tokens;
    const kinds = c.kinds;
    for (let i = 0; i < n; i++) {
      const a = t[i] as string;
      const b = tokens[i] as string;
      if (a === b) {
        // Two masked values agree by construction: they say nothing about the template.
        if (b === WILDCARD) counted--;
        else sim++;
      } else if (kinds[i] === VARIABLE) params++;
      else if (kinds[i] === PATTERN && matchesPattern(a, b)) sim++;
    }
    const denom = counted - PARAM_WEIGHT * params;
    const s = denom <= 0 ? 1 : sim / denom;
    if (s > best.sim || (s === best.sim && params > best.params)) {
      best.sim = s;
      best.params = params;
      best.cluster = c;
    }
  }
}
