import type { Change } from '@hindsight/core';
import { changeComponents, type TopologyGraph } from '../topology.js';
import type { BundleData } from '../data.js';
import type { Cause, ChainStep, Finding, Hypothesis, Report } from '../types.js';
import { median } from '../stats.js';
import { nextStepFor } from './next-step.js';
import { incidentStart, rankComponents } from './components.js';
import { iso, round, step } from './common.js';

export { iso } from './common.js';

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
}

/** The outcome of ranking. */
export interface RankResult {
  hypotheses: Hypothesis[];
  verdict: Report['verdict'];
  summary: string;
  /** The findings after merging the same signal seen by two analyzers, in their total order. */
  findings: Finding[];
}

// Settings that change what is observed (log verbosity, labels, annotations), not what the system
// does: a change made only of them is a weaker prior cause. Its evidence can still win.
const COSMETIC =
  /(^|\.)(log[-_]?level|loglevel|verbosity|debug|labels|podlabels|commonlabels|annotations|podannotations)(\.|$)/i;
const COSMETIC_PRIOR = 0.35;
// An anomaly below this strength is too weak to be anyone's evidence on its own.
const MIN_EVIDENCE = 0.1;
// Below this score a top change is named with a caution: little moved after it.
const WEAK_SCORE = 0.3;
// Below this strength nothing is said to have moved.
const MIN_MOVED = 0.25;
// What an anomaly that ended on its own (long before the end of the window, with no revert to end
// it) still counts for. Why: any rollout blips while its pods restart (a burst of 5xx, a replica
// resyncing), and the blip recovers by itself; the incident someone investigates is what still
// holds, and the change behind it is the one whose effects last. On the diagnosis bench a Redis
// log level rolled the Redis pods and an nginx timeout rolled nginx: their bursts had ended, the
// faults' levels stayed. On ten kept bench bundles the fault's weight over the best decoy's went
// from 1.24x at worst (median 3.1x) to 2.28x at worst (median 4.4x).
const TRANSIENT_WEIGHT = 0.3;
// What an earlier change keeps of a blip when a later change came between them (see screened).
const SCREENED = 0.3;
// How far apart two clocks (a Helm client's and a node's) or a scrape and its sample may be.
const CLOCK_SKEW_MS = 5_000;

/** Total order of findings: strongest first, then earliest, then by id. */
export function compareFindings(a: Finding, b: Finding): number {
  return b.strength - a.strength || a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Total order of hypotheses: best score first, then earliest, then by title. */
function compareHypotheses(a: Hypothesis, b: Hypothesis): number {
  return (
    b.score - a.score ||
    b.weight - a.weight ||
    a.time - b.time ||
    (a.title < b.title ? -1 : a.title > b.title ? 1 : 0)
  );
}

/** One finding per signal and moment: the domain check's words, the strongest strength, the earliest onset. */
export function mergeFindings(findings: Finding[], bucketMs: number): Finding[] {
  const bySignal = new Map<string, Finding[]>();
  for (const f of [...findings].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1))) {
    const list = bySignal.get(f.signal) ?? [];
    const near = list.find((g) => Math.abs(g.time - f.time) <= 2 * bucketMs && f.kind !== 'change');
    if (!near) {
      list.push({ ...f });
      bySignal.set(f.signal, list);
      continue;
    }
    const domain = f.analyzer !== 'metric-changes' && near.analyzer === 'metric-changes';
    if (domain) {
      near.id = f.id;
      near.analyzer = f.analyzer;
      near.title = f.title;
      near.kind = f.kind;
    }
    near.strength = Math.max(near.strength, f.strength);
    near.userFacing = (near.userFacing ?? false) || (f.userFacing ?? false);
    near.time = Math.min(near.time, f.time);
    // An episode merged with another ends with the later; without an end, one is still going on.
    if (near.end !== undefined && f.end !== undefined) near.end = Math.max(near.end, f.end);
    else delete near.end;
  }
  return [...bySignal.values()].flat().sort(compareFindings);
}

function family(f: Finding): string {
  if (f.analyzer === 'log-patterns') return 'logs';
  if (f.analyzer === 'kubernetes-health') return 'kubernetes';
  return 'metrics';
}

interface Candidate {
  id: string;
  time: number;
  components: string[];
  prior: number;
  cause: Cause;
  title: string;
  finding: Finding;
  reasons: string[];
}

/**
 * Ranks candidate causes. Every change is a candidate, and so is the earliest anomaly that no
 * change explains. Each anomaly lends its strength to the changes before it, by time (nearer is
 * stronger), by topology (the change touches the anomaly's component or one it calls or is called
 * by) and by the change's prior; an anomaly's credit is shared among the changes that could
 * explain it, so the last change before a failure takes it from an earlier, unrelated one.
 */
export function rank(input: RankInput): RankResult {
  const { data, graph, known, window, bucketMs } = input;
  const merged = mergeFindings(input.findings, bucketMs);
  const changes = merged
    .filter((f) => f.kind === 'change' && f.change)
    .sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1));
  const anomalies = merged.filter((f) => f.kind !== 'change' && f.strength >= MIN_EVIDENCE);
  const moved = anomalies.filter((f) => f.strength >= MIN_MOVED);
  const tau = Math.min(15 * 60_000, Math.max(2 * 60_000, (window.to - window.from) / 10));
  const slack = bucketMs + CLOCK_SKEW_MS;

  const topo = (components: string[], a: Finding): number => {
    if (components.length === 0 || !a.component) return 0.6;
    let best = 0.3;
    for (const c of components) {
      const d = graph.distance(c, a.component);
      const v = d === 0 ? 1 : d === 1 ? 0.75 : d === 2 ? 0.55 : graph.known ? 0.3 : 0.5;
      best = Math.max(best, v);
    }
    return best;
  };
  // Each candidate's effects are judged until it was reverted, else until the end of the window.
  const until = new Map<string, number>();
  const lastMargin = Math.max(2 * bucketMs, (window.to - window.from) / 10);
  const lastingFor = (c: Candidate, a: Finding): number => {
    const to = until.get(c.id) ?? window.to;
    return TRANSIENT_WEIGHT + (1 - TRANSIENT_WEIGHT) * lasting(a, to, lastMargin);
  };
  // An anomaly may precede a change by a bucket (onsets are known to a bucket) and a clock skew.
  const precedes = (c: Candidate, a: Finding): boolean => a.time >= c.time - slack;
  // A blip that ended belongs to the rollout it followed most closely: a change made between an
  // earlier one and the blip screens the earlier one. What lasts can take time to develop, so it
  // is not screened.
  const screened = (c: Candidate, a: Finding): number => {
    const between = candidates.some(
      (o) => o !== c && o.cause.type === 'change' && o.time > c.time && precedes(o, a),
    );
    if (!between) return 1;
    return SCREENED + (1 - SCREENED) * lasting(a, until.get(c.id) ?? window.to, lastMargin);
  };
  const affinity = (c: Candidate, a: Finding): number => {
    if (a.id === c.finding.id) return 0;
    if (!precedes(c, a)) return 0;
    const near = Math.exp(-Math.max(0, a.time - c.time) / tau);
    return near * topo(c.components, a) * c.prior * screened(c, a);
  };

  // One Helm revision can be recorded as several changes (its values, and the scale or image
  // changes of the workloads it rendered differently): they are one candidate, the values change
  // first, so that they do not split the evidence between them.
  const byRevision = new Map<string, Finding[]>();
  for (const f of changes) {
    const ch = f.change as Change;
    const key =
      ch.release && ch.toRevision !== undefined
        ? `${ch.namespace ?? ''}/${ch.release}@${ch.toRevision}`
        : f.id;
    byRevision.set(key, [...(byRevision.get(key) ?? []), f]);
  }
  const primaries = [...byRevision.values()].map((list) => {
    const sorted = [...list].sort(
      (a, b) =>
        Number(b.change?.kind === 'helm') - Number(a.change?.kind === 'helm') || (a.id < b.id ? -1 : 1),
    );
    return { primary: sorted[0] as Finding, also: sorted.slice(1) };
  });
  const candidates: Candidate[] = primaries.map(({ primary: f, also }) => {
    const ch = f.change as Change;
    const components = [
      ...new Set([
        ...changeComponents(ch, data, known),
        ...also.flatMap((o) => changeComponents(o.change as Change, data, known)),
      ]),
    ].sort();
    const paths = ch.diff.map((d) => d.path);
    const cosmetic = paths.length > 0 && paths.every((p) => COSMETIC.test(p));
    const reasons: string[] = [];
    if (cosmetic)
      reasons.push(`changes only logging or labels (${paths.join(', ')}): weighted as a likely bystander`);
    if (components.length > 0) reasons.push(`touches ${components.join(', ')}`);
    for (const o of also) reasons.push(`with it: ${o.title}`);
    return {
      id: f.id,
      time: f.time,
      components,
      prior: cosmetic ? COSMETIC_PRIOR : paths.length === 0 ? 0.5 : 1,
      cause: {
        type: 'change',
        changeId: f.id.replace(/^change:/, ''),
        kind: ch.kind,
        target: ch.target,
        ...(ch.release ? { release: ch.release } : {}),
        ...(ch.toRevision === undefined ? {} : { revision: ch.toRevision }),
        ...(ch.fromRevision === undefined ? {} : { fromRevision: ch.fromRevision }),
        paths,
        diff: ch.diff.map((d) => ({ path: d.path, from: d.from, to: d.to })),
        components,
      },
      title: f.title,
      finding: f,
      reasons,
    };
  });

  for (const c of candidates) {
    const rev = revertOf(c, candidates);
    if (rev) until.set(c.id, rev.time);
  }

  // The earliest anomaly no change explains is a candidate too.
  const changeCands = [...candidates];
  const unexplained = moved.filter((a) => changeCands.every((c) => affinity(c, a) < 0.2));
  if (unexplained.length > 0 && changeCands.length > 0) {
    const t0 = Math.min(...unexplained.map((a) => a.time));
    const first = unexplained.filter((a) => a.time <= t0 + 2 * bucketMs).sort(compareFindings)[0] as Finding;
    candidates.push({
      id: `anomaly:${first.id}`,
      time: first.time,
      components: first.component ? [first.component] : [],
      prior: 0.6,
      cause: {
        type: 'anomaly',
        findingId: first.id,
        ...(first.component ? { component: first.component } : {}),
        signal: first.signal,
      },
      title: `earliest unexplained anomaly: ${first.title}`,
      finding: first,
      reasons: ['no change precedes it closely enough to explain it'],
    });
  }

  const hypotheses: Hypothesis[] = [];
  if (candidates.length > 0 && moved.length > 0) {
    const aff = anomalies.map((a) => candidates.map((c) => affinity(c, a)));
    for (const [ci, c] of candidates.entries()) {
      const credited: Array<{ a: Finding; credit: number }> = [];
      let raw = 0;
      for (const [ai, a] of anomalies.entries()) {
        const row = aff[ai] as number[];
        const mine = row[ci] as number;
        if (mine <= 0) continue;
        const sq = row.reduce((s, x) => s + x * x, 0);
        const credit = a.strength * lastingFor(c, a) * mine * ((mine * mine) / sq);
        if (credit < 0.01) continue;
        credited.push({ a, credit });
        raw += credit;
      }
      credited.sort((x, y) => y.credit - x.credit || x.a.time - y.a.time || (x.a.id < y.a.id ? -1 : 1));
      const strong = credited.filter((x) => x.credit >= 0.05);
      const comps = new Set(strong.map((x) => x.a.component ?? '?'));
      const fams = new Set(strong.map((x) => family(x.a)));
      const user = strong.some((x) => x.a.userFacing);
      const variety =
        1 + 0.15 * Math.max(0, comps.size - 1) + 0.15 * Math.max(0, fams.size - 1) + (user ? 0.25 : 0);
      let recovery = 1;
      if (c.cause.type === 'change') {
        const rev = revertOf(c, candidates);
        if (rev) {
          const back = strong.filter((x) =>
            merged.some((g) => g.signal === x.a.signal && g.time >= rev.time - slack && opposite(g, x.a)),
          ).length;
          if (strong.length > 0 && back > 0) {
            recovery = 1 + 0.3 * (back / strong.length);
            c.reasons.push(`${back} of its signals returned after it was reverted at ${iso(rev.time)}`);
          }
        }
        if (revertedBy(c, candidates)) {
          c.reasons.push('it reverts an earlier change: its anomalies are more likely recovery');
          recovery *= 0.5;
        }
      }
      const weight = round(raw * variety * recovery);
      const score = round(1 - Math.exp(-weight / 1.5));
      if (strong.length > 0) {
        const first = strong.reduce(
          (m, x) => (x.a.time < m.a.time ? x : m),
          strong[0] as { a: Finding; credit: number },
        );
        c.reasons.push(
          `${strong.length} anomal${strong.length === 1 ? 'y' : 'ies'} follow it (${[...comps].sort().join(', ')}; ${[...fams].sort().join(', ')}), the first ${fmtDelay(first.a.time - c.time)} after`,
        );
        if (user) c.reasons.push('users feel it (the effect below)');
      } else {
        c.reasons.push('no signal moved after it');
      }
      hypotheses.push({
        rank: 0,
        score,
        weight,
        title: c.title,
        time: c.time,
        cause: c.cause,
        chain: chainOf(
          c,
          strong.map((x) => x.a),
        ),
        explains: strong.map((x) => x.a.id),
        nextStep: nextStepFor(c.cause, c.finding, changes),
        reasons: c.reasons,
      });
    }
  }

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
    for (const c of candidates) {
      hypotheses.push({
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
      });
    }
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
      hypotheses.splice(
        0,
        hypotheses.length,
        ...rankComponents(moved, tau, graph, input.incidentAt),
        ...considered,
      );
      const none =
        changes.length === 0
          ? 'No change was found in this bundle.'
          : `No recorded change explains what moved (${considered.length} considered).`;
      summary = `${none} ${moved.length} signal${moved.length === 1 ? '' : 's'} moved; components are ranked by their strongest anomalies from the start of the incident (${incidentStart(moved, tau, input.incidentAt)}).`;
    }
  }
  hypotheses.sort(compareHypotheses);
  hypotheses.forEach((h, i) => (h.rank = i + 1));
  return { hypotheses, verdict, summary, findings: merged };
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

function effectText(h: Hypothesis): string {
  const e = h.chain.find((s) => s.role === 'effect');
  if (!e) return '';
  const title = e.title.length > 90 ? `${e.title.slice(0, 87)}...` : e.title;
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
  const effects = byTime.filter((a) => a.userFacing).slice(0, 2);
  for (const a of signals) steps.push(step('signal', a));
  for (const a of effects) steps.push(step('effect', a));
  return steps.sort((a, b) => (a.role === 'cause' ? -1 : b.role === 'cause' ? 1 : a.time - b.time));
}

function revertOf(c: Candidate, all: Candidate[]): Candidate | undefined {
  return all.find((o) => o.time > c.time && reverts(o, c));
}
function revertedBy(c: Candidate, all: Candidate[]): boolean {
  return all.some((o) => o.time < c.time && reverts(c, o));
}
/** Whether `b` undoes `a`: every path `a` changed is set back to its old value by `b`. */
function reverts(b: Candidate, a: Candidate): boolean {
  if (a.cause.type !== 'change' || b.cause.type !== 'change' || a.cause.diff.length === 0) return false;
  const bd = b.cause.diff;
  return a.cause.diff.every((d) =>
    bd.some(
      (e) =>
        e.path === d.path &&
        JSON.stringify(e.to) === JSON.stringify(d.from) &&
        JSON.stringify(e.from) === JSON.stringify(d.to),
    ),
  );
}
function opposite(g: Finding, a: Finding): boolean {
  return (
    (a.direction === 'up' && g.direction === 'down') ||
    (a.direction === 'down' && g.direction === 'up') ||
    (a.direction === 'appeared' && g.direction === 'vanished')
  );
}

function fmtDelay(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}
