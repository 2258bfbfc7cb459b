import type { TopologyGraph } from '../topology.js';
import type { ChainStep, Finding, Hypothesis, Report } from '../types.js';
import { nextStepFor } from './next-step.js';
import { incidentStart, rankComponents } from './components.js';
import { revertOf, revertedBy, type Candidate } from './candidates.js';
import type { Affinity } from './affinity.js';
import { iso, round, step } from './common.js';
import { sharedMechanisms } from './mechanism.js';

// Below this score a top change is named with a caution: little moved after it.
const WEAK_SCORE = 0.3;
// A credit below this is dropped; one at least STRONG_CREDIT is evidence named in the hypothesis.
const MIN_CREDIT = 0.01;
const STRONG_CREDIT = 0.05;

/** Total order of hypotheses: best score first, then earliest, then by title. */
export function compareHypotheses(a: Hypothesis, b: Hypothesis): number {
  return (
    b.score - a.score ||
    b.weight - a.weight ||
    a.time - b.time ||
    (a.title < b.title ? -1 : a.title > b.title ? 1 : 0)
  );
}

/** Everything the credit of the anomalies is shared over. */
export interface Scoring {
  candidates: Candidate[];
  anomalies: Finding[];
  /** All findings after merging, to see a signal return after a revert. */
  merged: Finding[];
  /** The change findings, for the next step's command. */
  changes: Finding[];
  affinity: Affinity;
}

/**
 * One hypothesis per candidate. An anomaly's credit is shared among the candidates that could
 * explain it, by the square of their affinities, so the best explanation takes most of it; a
 * hypothesis is worth its credits, more when they span components, kinds of evidence and users.
 */
export function scoreCandidates(s: Scoring): Hypothesis[] {
  const aff = s.anomalies.map((a) => s.candidates.map((c) => s.affinity.affinity(c, a)));
  const sq = aff.map((row) => row.reduce((sum, x) => sum + x * x, 0));
  return s.candidates.map((c, ci) => {
    const credited: Array<{ a: Finding; credit: number }> = [];
    let raw = 0;
    for (const [ai, a] of s.anomalies.entries()) {
      const mine = (aff[ai] as number[])[ci] as number;
      if (mine <= 0) continue;
      const credit = a.strength * s.affinity.lastingFor(c, a) * mine * ((mine * mine) / (sq[ai] as number));
      if (credit < MIN_CREDIT) continue;
      credited.push({ a, credit });
      raw += credit;
    }
    credited.sort((x, y) => y.credit - x.credit || x.a.time - y.a.time || (x.a.id < y.a.id ? -1 : 1));
    return hypothesisOf(
      c,
      credited.filter((x) => x.credit >= STRONG_CREDIT).map((x) => x.a),
      raw,
      s,
    );
  });
}

function family(f: Finding): string {
  return f.family ?? 'metrics';
}

function hypothesisOf(c: Candidate, strong: Finding[], raw: number, s: Scoring): Hypothesis {
  const comps = new Set(strong.map((a) => a.component ?? '?'));
  const fams = new Set(strong.map(family));
  const user = strong.some((a) => a.userFacing);
  const variety =
    1 + 0.15 * Math.max(0, comps.size - 1) + 0.15 * Math.max(0, fams.size - 1) + (user ? 0.25 : 0);
  const recovery = recoveryOf(c, strong, s);
  const weight = round(raw * variety * recovery);
  const score = round(1 - Math.exp(-weight / 1.5));
  if (strong.length > 0) {
    const first = strong.reduce((m, a) => (a.time < m.time ? a : m), strong[0] as Finding);
    c.reasons.push(
      `${strong.length} anomal${strong.length === 1 ? 'y' : 'ies'} follow it (${[...comps].sort().join(', ')}; ${[...fams].sort().join(', ')}), the first ${fmtDelay(first.time - c.time)} after`,
    );
    const why = mechanismReason(c, strong);
    if (why) c.reasons.push(why);
    if (user) c.reasons.push('users feel it (the effect below)');
  } else {
    c.reasons.push('no signal moved after it');
  }
  return {
    rank: 0,
    score,
    weight,
    title: c.title,
    time: c.time,
    cause: c.cause,
    chain: chainOf(c, strong),
    explains: strong.map((a) => a.id),
    nextStep: nextStepFor(c.cause, c.finding, s.changes),
    reasons: c.reasons,
  };
}

/**
 * More for a change whose signals returned once it was reverted; less for a change that reverts
 * an earlier one (what follows it is more likely recovery).
 */
function recoveryOf(c: Candidate, strong: Finding[], s: Scoring): number {
  if (c.cause.type !== 'change') return 1;
  let recovery = 1;
  const rev = revertOf(c, s.candidates);
  if (rev) {
    const back = strong.filter((a) =>
      s.merged.some((g) => g.signal === a.signal && g.time >= rev.time - s.affinity.slack && opposite(g, a)),
    ).length;
    if (strong.length > 0 && back > 0) {
      recovery = 1 + 0.3 * (back / strong.length);
      c.reasons.push(`${back} of its signals returned after it was reverted at ${iso(rev.time)}`);
    }
  }
  if (revertedBy(c, s.candidates)) {
    c.reasons.push('it reverts an earlier change: its anomalies are more likely recovery');
    recovery *= 0.5;
  }
  return recovery;
}

/** What the verdict is decided from. */
export interface VerdictInput {
  hypotheses: Hypothesis[];
  candidates: Candidate[];
  moved: Finding[];
  changes: Finding[];
  tau: number;
  graph: TopologyGraph;
  incidentAt?: number;
}

/**
 * The verdict and its summary, with the hypotheses in their final order: `none` when nothing
 * moved (the changes listed at score 0), `change` when a change explains what moved, else
 * `component` (the components ranked by their anomalies, the changes considered below them).
 */
export function decide(input: VerdictInput): {
  hypotheses: Hypothesis[];
  verdict: Report['verdict'];
  summary: string;
} {
  const { moved, changes } = input;
  let hypotheses = [...input.hypotheses];
  let verdict: Report['verdict'];
  let summary: string;
  if (moved.length === 0) {
    verdict = 'none';
    const n = changes.length;
    summary =
      n === 0
        ? 'No change was recorded and no signal moved in this window: nothing points to a cause.'
        : `${n} change${n === 1 ? ' was' : 's were'} recorded, but no signal moved in this window: nothing points to a cause.`;
    // Changes are still listed (score 0), so that a reader sees what was considered.
    hypotheses.push(...input.candidates.map(unmoved));
  } else {
    hypotheses.sort(compareHypotheses);
    const top = hypotheses[0];
    if (top?.cause.type === 'change' && top.score > 0.05) {
      verdict = 'change';
      summary = `${top.score >= WEAK_SCORE ? 'Likely cause' : 'Possible cause, on weak evidence'}: ${top.title} (score ${top.score}). ${top.explains.length} anomal${top.explains.length === 1 ? 'y follows' : 'ies follow'} it${effectText(top)}.`;
    } else {
      // No change explains what moved: the components are the candidates, and the changes stay
      // listed below them so that a reader sees what was considered.
      verdict = 'component';
      const considered = hypotheses.filter((h) => h.cause.type === 'change');
      hypotheses = [...rankComponents(moved, input.tau, input.graph, input.incidentAt), ...considered];
      const none =
        changes.length === 0
          ? 'No change was found in this bundle.'
          : `No recorded change explains what moved (${considered.length} considered).`;
      summary = `${none} ${moved.length} signal${moved.length === 1 ? '' : 's'} moved; components are ranked by their strongest anomalies from the start of the incident (${incidentStart(moved, input.tau, input.incidentAt)}).`;
    }
  }
  hypotheses.sort(compareHypotheses);
  hypotheses.forEach((h, i) => (h.rank = i + 1));
  return { hypotheses, verdict, summary };
}

function unmoved(c: Candidate): Hypothesis {
  return {
    rank: 0,
    score: 0,
    weight: 0,
    title: c.title,
    time: c.time,
    cause: c.cause,
    chain: [{ role: 'cause', time: c.time, title: c.title, findingId: c.finding.id }],
    explains: [],
    nextStep: 'nothing to do: no signal moved after this change',
    reasons: ['no signal moved after it'],
  };
}

function effectText(h: Hypothesis): string {
  const e = h.chain.find((s) => s.role === 'effect');
  if (!e) return '';
  // Cut at a word, never inside one.
  const title = e.title.length > 90 ? `${e.title.slice(0, 87).replace(/\s+\S*$/, '')}...` : e.title;
  return `; users feel it from ${iso(e.time).slice(11, 19)}: ${title}`;
}

function chainOf(c: Candidate, explained: Finding[]): ChainStep[] {
  const steps: ChainStep[] = [
    {
      role: 'cause',
      time: c.time,
      title: c.title,
      findingId: c.finding.id,
      ...(c.components[0] ? { component: c.components[0] } : {}),
    },
  ];
  const byTime = [...explained].sort(
    (a, b) => a.time - b.time || b.strength - a.strength || (a.id < b.id ? -1 : 1),
  );
  const signals = byTime.filter((a) => !a.userFacing).slice(0, 3);
  // The first two effects, and the first of a component they leave out: what a proxy answered
  // (401s at the edge) and what the application said (a session missing) are both shown.
  const felt = byTime.filter((a) => a.userFacing);
  const effects = felt.slice(0, 2);
  const other = felt.find((a) => effects.every((e) => e.component !== a.component));
  if (other) effects.push(other);
  for (const a of signals) steps.push(step('signal', a));
  for (const a of effects) steps.push(step('effect', a));
  return steps.sort((a, b) => (a.role === 'cause' ? -1 : b.role === 'cause' ? 1 : a.time - b.time));
}

function opposite(g: Finding, a: Finding): boolean {
  return (
    (a.direction === 'up' && g.direction === 'down') ||
    (a.direction === 'down' && g.direction === 'up') ||
    (a.direction === 'appeared' && g.direction === 'vanished')
  );
}

/** Which of what followed its kind of setting can cause, in words, or undefined. */
function mechanismReason(c: Candidate, strong: Finding[]): string | undefined {
  const kinds = new Map<string, number>();
  for (const a of strong)
    for (const k of sharedMechanisms(c.mechanisms, a)) kinds.set(k, (kinds.get(k) ?? 0) + 1);
  if (kinds.size === 0) return undefined;
  const list = [...kinds]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${k} (${n})`);
  return `its kind of setting can cause what followed: ${list.join(', ')}`;
}

function fmtDelay(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}
