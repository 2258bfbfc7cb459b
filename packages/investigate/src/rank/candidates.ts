import type { Change } from '@hindsight/core';
import { changeComponents } from '../topology.js';
import type { BundleData } from '../data.js';
import type { Cause, Finding } from '../types.js';
import { compareFindings } from './merge.js';
import { minOf } from './common.js';
import { changeMechanisms, type Mechanisms } from './mechanism.js';
import { DEFAULT_RANK_WEIGHTS, type RankWeights } from './weights.js';

/** A candidate cause: a change (one per Helm revision), or the earliest anomaly no change explains. */
export interface Candidate {
  id: string;
  time: number;
  components: string[];
  prior: number;
  cause: Cause;
  title: string;
  finding: Finding;
  reasons: string[];
  /** What its settings control (empty for an anomaly, or a setting whose words say nothing). */
  mechanisms: Mechanisms;
}

// Settings that change what is observed (log verbosity, labels, annotations), not what the system
// does: a change made only of them is a weaker prior cause (weights.cosmetic). Its evidence can still win.
const COSMETIC =
  /(^|\.)(log[-_]?level|loglevel|verbosity|debug|labels|podlabels|commonlabels|annotations|podannotations)(\.|$)/i;
// Below this affinity to every change, an anomaly is unexplained.
const EXPLAINED = 0.2;

/**
 * One candidate per change, in time order. One Helm revision can be recorded as several changes
 * (its values, and the scale or image changes of the workloads it rendered differently): they are
 * one candidate, the values change first, so that they do not split the evidence between them.
 */
export function changeCandidates(
  changes: Finding[],
  data: BundleData,
  known: Set<string>,
  weights: RankWeights,
): Candidate[] {
  const byRevision = new Map<string, Finding[]>();
  for (const f of changes) {
    const ch = f.change as Change;
    const key =
      ch.release && ch.toRevision !== undefined
        ? `${ch.namespace ?? ''}/${ch.release}@${ch.toRevision}`
        : f.id;
    byRevision.set(key, [...(byRevision.get(key) ?? []), f]);
  }
  return [...byRevision.values()].map((list) => {
    const [primary, ...also] = [...list].sort(
      (a, b) =>
        Number(b.change?.kind === 'helm') - Number(a.change?.kind === 'helm') || (a.id < b.id ? -1 : 1),
    ) as [Finding, ...Finding[]];
    return changeCandidate(primary, also, data, known, weights);
  });
}

function changeCandidate(
  f: Finding,
  also: Finding[],
  data: BundleData,
  known: Set<string>,
  weights: RankWeights,
): Candidate {
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
    prior: cosmetic ? weights.cosmetic : paths.length === 0 ? 0.5 : 1,
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
    mechanisms: revisionMechanisms([ch, ...also.map((o) => o.change as Change)], weights.unknownDirection),
  };
}

// Changes that say what a revision changed in the objects it rendered, as the cluster runs them.
const RENDERED = new Set<Change['kind']>(['deployment', 'configmap', 'scale']);

/**
 * The settings a candidate's mechanisms are read from: what the revision rendered differently
 * (a container's env, args, resources and probes, a ConfigMap's directives, a Secret's keys, a
 * replica count), named as the software names them; only when it recorded none, its values diff,
 * named as its chart names them. A values change that rendered nothing different changed nothing
 * the cluster runs.
 */
function mechanismDiff(ch: Change, also: Change[]): Change['diff'] {
  const rendered = also.filter((o) => RENDERED.has(o.kind));
  if (ch.kind !== 'helm' || rendered.length === 0) return [...ch.diff, ...also.flatMap((o) => o.diff)];
  return rendered.flatMap((o) => o.diff);
}

/**
 * What one revision's settings control, from the changes it was recorded as (its values change
 * first, then what it rendered differently), as ranking reads them.
 */
export function revisionMechanisms(
  [primary, ...also]: Change[],
  unknownDirection = DEFAULT_RANK_WEIGHTS.unknownDirection,
): Mechanisms {
  return primary ? changeMechanisms(mechanismDiff(primary, also), unknownDirection) : new Map();
}

/**
 * The earliest anomaly that moved and that no change explains (its affinity to every change is
 * below EXPLAINED), as a candidate: the strongest of those within two buckets of the first.
 */
export function anomalyCandidate(
  moved: Finding[],
  changes: Candidate[],
  affinity: (c: Candidate, a: Finding) => number,
  bucketMs: number,
  weights: RankWeights,
): Candidate | undefined {
  const unexplained = moved.filter((a) => changes.every((c) => affinity(c, a) < EXPLAINED));
  if (unexplained.length === 0 || changes.length === 0) return undefined;
  const t0 = minOf(unexplained, (a) => a.time);
  const first = unexplained.filter((a) => a.time <= t0 + 2 * bucketMs).sort(compareFindings)[0] as Finding;
  return {
    id: `anomaly:${first.id}`,
    time: first.time,
    components: first.component ? [first.component] : [],
    prior: weights.anomaly,
    cause: {
      type: 'anomaly',
      findingId: first.id,
      ...(first.component ? { component: first.component } : {}),
      signal: first.signal,
    },
    title: `earliest unexplained anomaly: ${first.title}`,
    finding: first,
    reasons: ['no change precedes it closely enough to explain it'],
    mechanisms: new Map(),
  };
}

/** The first later candidate that undoes `c`, if any. */
export function revertOf(c: Candidate, all: Candidate[]): Candidate | undefined {
  return all.find((o) => o.time > c.time && reverts(o, c));
}

/** Whether `c` undoes an earlier candidate. */
export function revertedBy(c: Candidate, all: Candidate[]): boolean {
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
