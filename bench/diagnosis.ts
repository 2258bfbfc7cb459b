// How often hindsight names the injected change, on bundles recorded from the lab: each scenario of
// bench/scenarios (one values change that breaks the shop, among decoy upgrades placed before and
// after it at seeded random times) runs from a clean lab: up, traffic, decoys + fault, collect,
// investigate. Scores top-1 and top-3 of the injected Helm revision, times the end of collection
// to the report, and runs two baselines on the same bundles: (a) the most recent change before the
// first lost session (or stuck checkout; without one, before the first 5xx second after the first
// change), (b) the change followed by the most metric change points (findings of the
// metric-changes analyzer) before the next change.
// Run: node --import tsx bench/diagnosis.ts [--write] [--offline DIR[,DIR...]] [name-filter]   (--write records bench/RESULTS.md)
// --offline ranks the bundles runs kept (DIR/<scenario>/bundle and incident.json) without the lab;
// several folders (one run each, say two seeds) are pooled, and a scenario is held out with all its runs.
// Leave-one-mechanism-out: each bundle is ranked at every mechanism weight of WEIGHTS; the weight
// scored on a scenario is chosen on the others whose fault shares no mechanism kind with its fault
// (changeMechanisms), and that held-out rank is shown beside the rank at the weight fitted on all.
// Redis and PostgreSQL are sampled every 2 s during the incident (sampleLab) and merged into the
// bundle, as a team's Prometheus would hold them; everything else is collected at the end.
// Env: HINDSIGHT_DIAG_WARM_S (8), HINDSIGHT_DIAG_SPACING_S (10), HINDSIGHT_DIAG_TAIL_S (15),
// HINDSIGHT_DIAG_SEED (1000: scenario k of the catalogue runs with seed + k, with or without a filter),
// HINDSIGHT_DIAG_KEEP (a folder: each scenario's bundle, report.json and incident.json are kept there).
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBundle, type Change } from '@hindsight/core';
import { changeMechanisms, investigate, type Report } from '@hindsight/investigate';
import { Lab } from '@hindsight/lab';
import { collectLab, runIncident, type IncidentResult, type Scenario } from '../packages/cli/dist/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const write = args.includes('--write');
const offlineAt = args.indexOf('--offline');
const offline =
  offlineAt >= 0 ? (args[offlineAt + 1] ?? '.').split(',').map((d) => path.resolve(d)) : undefined;
const filter = args.find((a, i) => !a.startsWith('--') && (offlineAt < 0 || i !== offlineAt + 1));
const warmMs = Number(process.env['HINDSIGHT_DIAG_WARM_S'] ?? 8) * 1000;
const spacingMs = Number(process.env['HINDSIGHT_DIAG_SPACING_S'] ?? 10) * 1000;
const tailMs = Number(process.env['HINDSIGHT_DIAG_TAIL_S'] ?? 15) * 1000;
const baseSeed = Number(process.env['HINDSIGHT_DIAG_SEED'] ?? 1000);
const keep = process.env['HINDSIGHT_DIAG_KEEP'];
// The mechanism weights tried; 1 is ranking without mechanisms.
const WEIGHTS = [1, 1.5, 2, 3, 4];

/** How one weight ranked the fault: its rank among revisions, and its weight over the best other's. */
interface Ranked {
  rank?: number;
  margin: number;
}

interface Row {
  name: string;
  /** The run's seed, from its incident.json (offline) or the catalogue's place. */
  seed?: number;
  faultRevision?: number;
  /** The mechanism kinds of the fault's change: scenarios sharing one are held out together. */
  kinds: string[];
  lost: number;
  stuck: number;
  errors: number;
  requests: number;
  hindsight?: number;
  byWeight: Map<number, Ranked>;
  heldOutWeight?: number;
  lastBeforeLoss?: number;
  mostChangePoints?: number;
  reportMs?: number;
  topCause?: string;
  note?: string;
}

const files = (await readdir(path.join(repo, 'bench/scenarios'))).filter((f) => f.endsWith('.ts')).sort();
// A scenario's seed follows its place in the whole catalogue, so a filtered run repeats a full one.
const scenarios: Array<{ scenario: Scenario; seed: number }> = [];
for (const [k, f] of files.entries()) {
  const m = (await import(path.join(repo, 'bench/scenarios', f))) as { scenario: Scenario };
  if (!filter || m.scenario.name.includes(filter))
    scenarios.push({ scenario: m.scenario, seed: baseSeed + k });
}

/** 1-based rank of `revision` among revisions ranked by a method, or undefined when absent. */
const rankOf = (ranked: number[], revision: number): number | undefined => {
  const i = ranked.indexOf(revision);
  return i < 0 ? undefined : i + 1;
};

/** The fault's rank among the report's Helm revisions, and its weight over the best other revision's. */
function judged(report: Report, fault: number): Ranked {
  const order: number[] = [];
  const weight = new Map<number, number>();
  for (const h of report.hypotheses)
    if (h.cause.type === 'change' && h.cause.revision !== undefined && !order.includes(h.cause.revision)) {
      order.push(h.cause.revision);
      weight.set(h.cause.revision, h.weight);
    }
  let other = 0;
  for (const [rev, w] of weight) if (rev !== fault) other = Math.max(other, w);
  const rank = rankOf(order, fault);
  return {
    ...(rank === undefined ? {} : { rank }),
    margin: (weight.get(fault) ?? 0) / Math.max(other, 1e-6),
  };
}

function helmChanges(changes: Change[]): Array<{ revision: number; time: number }> {
  return changes
    .filter((c) => c.kind === 'helm' && c.toRevision !== undefined)
    .map((c) => ({ revision: c.toRevision as number, time: Date.parse(c.time) }))
    .sort((a, b) => a.time - b.time);
}

/** Runs a scenario in a clean lab and collects its bundle; returns the bundle's path and the incident. */
async function runLive(
  scenario: Scenario,
  seed: number,
  dir: string,
  say: (m: string) => void,
): Promise<{ bundlePath: string; incident: IncidentResult & { seed?: number } }> {
  const lab = new Lab({ dir: path.join(dir, 'lab'), timeScale: 0.2 });
  try {
    say(`up ${scenario.up.join(' ')}`);
    await lab.up({ set: scenario.up });
    const incident = await runIncident(lab, scenario, {
      warmMs,
      spacingMs,
      tailMs,
      seed,
      samples: path.join(dir, 'samples'),
      onPhase: say,
    });
    const collected = await collectLab(lab, {
      output: path.join(dir, 'bundle'),
      from: incident.from,
      ...(incident.samples ? { samples: incident.samples } : {}),
    });
    if (keep)
      await writeFile(path.join(dir, 'incident.json'), `${JSON.stringify({ seed, ...incident }, null, 2)}\n`);
    return { bundlePath: collected.bundlePath, incident };
  } finally {
    await lab.down({ purge: !keep }).catch(() => undefined);
  }
}

/** Ranks one bundle at every weight and with both baselines, into `row`. */
async function score(
  row: Row,
  bundlePath: string,
  incident: Pick<IncidentResult, 'changes' | 'truth' | 'firstLostAt' | 'seconds'>,
  dir: string,
): Promise<void> {
  Object.assign(row, {
    lost: incident.truth.sessionsLost,
    stuck: incident.truth.checkoutsStuck,
    errors: incident.truth.errors,
    requests: incident.truth.requests,
  });
  const fault = incident.changes.find((c) => c.role === 'fault');
  if (!fault) throw new Error('the fault was not applied');
  row.faultRevision = fault.revision;
  const start = Date.now();
  const report = await investigate(bundlePath, { top: 20 });
  row.reportMs = Date.now() - start;
  if (keep && !offline)
    await writeFile(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const top = report.hypotheses[0];
  row.topCause =
    top?.cause.type === 'change' ? `rev ${top.cause.revision}: ${top.cause.paths.join(', ')}` : top?.title;
  row.hindsight = judged(report, fault.revision).rank;
  for (const w of WEIGHTS)
    row.byWeight.set(
      w,
      judged(await investigate(bundlePath, { top: 20, mechanismWeight: w }), fault.revision),
    );

  const changes = await (await openBundle(bundlePath)).changes();
  const faultChange = changes.find((c) => c.kind === 'helm' && c.toRevision === fault.revision);
  row.kinds = [...changeMechanisms(faultChange?.diff ?? []).keys()].sort();
  const helm = helmChanges(changes);
  const firstBad =
    incident.firstLostAt !== undefined
      ? Date.parse(incident.firstLostAt) + 1000
      : (() => {
          const after = helm[0]?.time ?? 0;
          const s = incident.seconds.find((x) => x.errors > 0 && Date.parse(x.t) >= after);
          return s ? Date.parse(s.t) + 1000 : Number.POSITIVE_INFINITY;
        })();
  const before = helm.filter((c) => c.time <= firstBad).reverse();
  row.lastBeforeLoss = rankOf(
    [...before, ...helm.filter((c) => c.time > firstBad)].map((c) => c.revision),
    fault.revision,
  );
  const points = report.findings.filter((f) => f.analyzer === 'metric-changes');
  const counted = helm.map((c, k) => {
    const until = helm[k + 1]?.time ?? Number.POSITIVE_INFINITY;
    return { revision: c.revision, n: points.filter((p) => p.time >= c.time && p.time < until).length };
  });
  row.mostChangePoints = rankOf(
    counted.sort((a, b) => b.n - a.n || a.revision - b.revision).map((c) => c.revision),
    fault.revision,
  );
}

/**
 * The weight that ranks `rows` best: most faults first, then most in the top 3, then the largest
 * worst margin (the fault's weight over the best other revision's, in the scenario where it is
 * smallest); on a tie the smallest weight (the least departure from no mechanism). The worst
 * margin, not the sum: a sum grows with any weight that boosts the faults that have a mechanism,
 * and says nothing of the fault whose setting names none.
 */
function chooseWeight(rows: Row[]): number {
  let best = WEIGHTS[0] as number;
  let bestKey = [-1, -1, -Infinity];
  for (const w of WEIGHTS) {
    const r = rows.map((x) => x.byWeight.get(w)).filter((x): x is Ranked => x !== undefined);
    const key = [
      r.filter((x) => x.rank === 1).length,
      r.filter((x) => (x.rank ?? Infinity) <= 3).length,
      r.reduce((m, x) => Math.min(m, x.margin), Infinity),
    ];
    const better = key.findIndex((v, i) => v !== bestKey[i]);
    if (better >= 0 && (key[better] as number) > (bestKey[better] as number)) {
      best = w;
      bestKey = key;
    }
  }
  return best;
}

const rows: Row[] = [];
const tmp = offline
  ? ''
  : keep
    ? path.resolve(keep)
    : await mkdtemp(path.join(os.tmpdir(), 'hs-bench-diagnosis-'));
const t0 = Date.now();
const say = (name: string, m: string) =>
  console.error(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${name}: ${m}`);
const newRow = (name: string, seed?: number): Row => ({
  name,
  ...(seed === undefined ? {} : { seed }),
  kinds: [],
  lost: 0,
  stuck: 0,
  errors: 0,
  requests: 0,
  byWeight: new Map(),
});
const done = (row: Row) =>
  say(
    row.name,
    `lost ${row.lost}, stuck ${row.stuck}, errors ${row.errors}; hindsight rank ${row.hindsight ?? '-'}, baselines ${row.lastBeforeLoss ?? '-'} / ${row.mostChangePoints ?? '-'}; report ${row.reportMs} ms`,
  );
const failed = (row: Row, err: unknown) => {
  row.note = err instanceof Error ? err.message.slice(0, 160) : String(err);
  say(row.name, `failed: ${row.note}`);
};
if (offline) {
  for (const folder of offline)
    for (const { scenario } of scenarios) {
      const dir = path.join(folder, scenario.name);
      const text = await readFile(path.join(dir, 'incident.json'), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const incident = JSON.parse(text) as IncidentResult & { seed?: number };
      const row = newRow(scenario.name, incident.seed);
      rows.push(row);
      await score(row, path.join(dir, 'bundle'), incident, dir).then(
        () => done(row),
        (err: unknown) => failed(row, err),
      );
    }
} else {
  try {
    for (const { scenario, seed } of scenarios) {
      const row = newRow(scenario.name, seed);
      rows.push(row);
      const dir = path.join(tmp, scenario.name);
      try {
        const { bundlePath, incident } = await runLive(scenario, seed, dir, (m) => say(scenario.name, m));
        await score(row, bundlePath, incident, dir);
        done(row);
      } catch (err) {
        failed(row, err);
      } finally {
        if (!keep) await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    if (!keep) await rm(tmp, { recursive: true, force: true });
  }
}

// Leave-one-mechanism-out: the weight a scenario is scored with is chosen without its own runs and
// without every scenario whose fault shares a mechanism kind with it.
const fitted = chooseWeight(rows);
for (const r of rows) {
  const others = rows.filter((o) => o.name !== r.name && !o.kinds.some((k) => r.kinds.includes(k)));
  r.heldOutWeight = chooseWeight(others);
}
const heldOut = (r: Row) => r.byWeight.get(r.heldOutWeight ?? 1)?.rank;
const atWeight = (w: number) => (r: Row) => r.byWeight.get(w)?.rank;

const mark = (r: number | undefined) => (r === undefined ? '-' : String(r));
const hits = (pick: (r: Row) => number | undefined, k: number) =>
  rows.filter((r) => (pick(r) ?? Infinity) <= k).length;
const both = (pick: (r: Row) => number | undefined) => `${hits(pick, 1)} / ${hits(pick, 3)}`;
const lines = [
  '| scenario | fault kinds | fault rev | requests | sessions lost | stuck | 5xx/timeouts | hindsight rank | fitted (w) | held-out (w) | no mechanism | last change before loss | most change points | report (ms) | hindsight top cause |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.name}${r.seed === undefined ? '' : ` (${r.seed})`} | ${r.kinds.join(', ') || '-'} | ${mark(r.faultRevision)} | ${r.requests} | ${r.lost} | ${r.stuck} | ${r.errors} | ${mark(r.hindsight)} | ${mark(atWeight(fitted)(r))} (${fitted}) | ${mark(heldOut(r))} (${r.heldOutWeight ?? '-'}) | ${mark(atWeight(1)(r))} | ${mark(r.lastBeforeLoss)} | ${mark(r.mostChangePoints)} | ${r.reportMs ?? '-'} | ${(r.topCause ?? r.note ?? '-').replace(/\|/g, '/').slice(0, 90)} |`,
  ),
  '',
  `top-1 / top-3 of ${rows.length}: hindsight as shipped ${both((r) => r.hindsight)}; ` +
    `fitted on all (w ${fitted}) ${both(atWeight(fitted))}; held out (leave-one-mechanism-out) ${both(heldOut)}; ` +
    `no mechanism (w 1) ${both(atWeight(1))}; ` +
    `last change before the first loss ${both((r) => r.lastBeforeLoss)}; most metric change points ${both((r) => r.mostChangePoints)}`,
  `fault weight over the best other revision's, median: ${WEIGHTS.map((w) => `w ${w} ${median(rows.map((r) => r.byWeight.get(w)?.margin ?? 0)).toFixed(2)}x`).join(', ')}`,
];
console.log(lines.join('\n'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2;
}

// --write adds the run as the first subsection of `## diagnosis`, above the earlier runs and their
// analysis, which stay.
if (write) {
  const file = path.join(repo, 'bench/RESULTS.md');
  const text = await readFile(file, 'utf8');
  const section = [
    `### Run of ${new Date().toISOString().slice(0, 10)}${offline ? ' (offline, kept bundles)' : ''}`,
    '',
    `\`node --import tsx bench/diagnosis.ts --write${offline ? ' --offline DIR' : ''}\`, ${os.cpus().length} cores (shared),`,
    `each scenario from a clean lab (time scale 0.2), 20 users, warm ${warmMs / 1000} s, gaps ~${spacingMs / 1000} s (seeded),`,
    `tail ${tailMs / 1000} s, two decoys, seed ${baseSeed} (+ the scenario's place). Ranks are of the injected Helm revision.`,
    `Report time: from the end of collection to the report (investigate only). Whole run: ${((Date.now() - t0) / 60000).toFixed(1)} min.`,
    "Sessions lost, stuck and 5xx/timeouts are the traffic's ground truth over the incident.",
    'Baseline (a) falls back to the first second with a 5xx or timeout after the first change when no session was lost.',
    '',
    ...lines,
    '',
    '',
  ].join('\n');
  const heading = '## diagnosis\n\n';
  const start = text.indexOf(heading);
  const out =
    start < 0
      ? `${text.trimEnd()}\n\n${heading}${section}`
      : `${text.slice(0, start + heading.length)}${section}${text.slice(start + heading.length)}`;
  await writeFile(file, out);
}
