import type { ChainStep, Finding } from '../types.js';

/** A score rounded to three decimals, as reports print it. */
export const round = (x: number): number => Math.round(x * 1000) / 1000;

/** An ISO time without milliseconds. */
export function iso(t: number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A chain step made from a finding. */
export function step(role: ChainStep['role'], a: Finding): ChainStep {
  return {
    role,
    time: a.time,
    title: a.title,
    findingId: a.id,
    ...(a.component ? { component: a.component } : {}),
  };
}

/**
 * The least of `xs` by `of`, or `Infinity` when empty: a loop, not `Math.min(...xs)`, whose
 * arguments go on the stack and overflow it past about 100,000 findings.
 */
export function minOf<T>(xs: readonly T[], of: (x: T) => number): number {
  let m = Number.POSITIVE_INFINITY;
  for (const x of xs) {
    const v = of(x);
    if (v < m) m = v;
  }
  return m;
}

/** The greatest of `xs` by `of`, or `-Infinity` when empty (a loop, as {@link minOf}). */
export function maxOf<T>(xs: readonly T[], of: (x: T) => number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    const v = of(x);
    if (v > m) m = v;
  }
  return m;
}
