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
