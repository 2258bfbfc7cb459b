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
// Leave-one-mechanism-out, for every weight of the ranking (rank/weights.ts): each bundle is analysed
// once and ranked again with other weights as the choice needs them. The weights a scenario is
// scored with are chosen (coordinate ascent over GRID, from the defaults) on the other scenarios
// whose fault shares no mechanism kind with its fault (revisionMechanisms), and that held-out rank
// is shown beside the rank with the weights fitted on all.
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
import {
  DEFAULT_RANK_WEIGHTS,
  investigate,
  revisionMechanisms,
  type Hypothesis,
  type RankWeights,
} from '@hindsight/investigate';
import { Lab } from '@hindsight/lab';
import { collectLab, runIncident, type IncidentResult, type Scenario } from '@hindsight/lab/demo';

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
// The values tried for each weight; a mechanism weight of 1 is ranking without mechanisms.
const GRID: Record<keyof RankWeights, number[]> = {
  mechanism: [1, 1.5, 2, 3, 4],
  transient: [0.1, 0.3, 0.6, 1],
  screened: [0.1, 0.3, 0.6, 1],
  cosmetic: [0.2, 0.35, 0.6, 1],
  anomaly: [0.3, 0.6, 1],
  unknownDirection: [0, 0.5, 1],
};
const PARAMS = Object.keys(GRID) as Array<keyof RankWeights>;
const gridKey = (p: keyof RankWeights, v: number): string => `${p}=${v}`;

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
  /** What went wrong per request before the first change and after the fault, from the traffic's ground truth (harmOf). */
  harm?: [number, number];
  hindsight?: number;
  /** How each value of GRID (one weight varied, the others at their defaults) ranked the fault. */
  grid: Map<string, Ranked>;
  /** Ranks the bundle's findings again with other weights. */
  rerank?: (w: Partial<RankWeights>) => Ranked;
  heldOut?: Ranked;
  heldOutWeights?: RankWeights;
  fitted?: Ranked;
  noMechanism?: Ranked;
  lastBeforeLoss?: number;
  mostChangePoints?: number;
  reportMs?: number;
  topCause?: string;
  note?: string;
}

const files = (await readdir(path.join(repo, 'bench/scenarios'))).filter((f) => f.endsWith('.ts')).sort();
// A scenario's seed follows its place in the whole catalogue, so a filtered run repeats a full one.
const scenarios: Array<{ scenario: Scenario; seed: number }> = [];
// A scenario module may export `notProven`: why its runs did not show clear harm in the traffic's
// ground truth. It is still run and ranked, but it is left out of the headline counts and of the
// weights' fitting (a fault that hurt no one says nothing of how to rank one that does).
const notProven = new Map<string, string>();
for (const [k, f] of files.entries()) {
  const m = (await import(path.join(repo, 'bench/scenarios', f))) as {
    scenario: Scenario;
    notProven?: string;
  };
  if (m.notProven) notProven.set(m.scenario.name, m.notProven);
  if (!filter || m.scenario.name.includes(filter))
    scenarios.push({ scenario: m.scenario, seed: baseSeed + k });
}
/** Whether a row counts in the headline: its scenario was proven harmful. */
const proven = (r: { name: string }) => !notProven.has(r.name);

/** 1-based rank of `revision` among revisions ranked by a method, or undefined when absent. */
const rankOf = (ranked: number[], revision: number): number | undefined => {
  const i = ranked.indexOf(revision);
  return i < 0 ? undefined : i + 1;
};

/** The fault's rank among the report's Helm revisions, and its weight over the best other revision's. */
function judged(hypotheses: Hypothesis[], fault: number): Ranked {
  const order: number[] = [];
  const weight = new Map<number, number>();
  for (const h of hypotheses)
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
  const lab = new Lab({
    dir: path.join(dir, 'lab'),
    timeScale: 0.2,
    // Collected from the lab's Prometheus beside the samples, as a team with one would.
    monitoring: true,
    ...(scenario.tracing ? { tracing: true } : {}),
  });
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
  let rerank: ((w: Partial<RankWeights>) => Hypothesis[]) | undefined;
  const report = await investigate(bundlePath, { top: 20, onRank: (r) => (rerank = r) });
  row.reportMs = Date.now() - start;
  const again = rerank;
  if (again) {
    const memo = new Map<string, Ranked>();
    row.rerank = (w) => {
      const key = JSON.stringify(rankWeightsOf(w));
      let r = memo.get(key);
      if (!r) memo.set(key, (r = judged(again(w), fault.revision)));
      return r;
    };
  }
  row.harm = harmOf(incident, fault);
  if (keep && !offline)
    await writeFile(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const top = report.hypotheses[0];
  row.topCause =
    top?.cause.type === 'change' ? `rev ${top.cause.revision}: ${top.cause.paths.join(', ')}` : top?.title;
  row.hindsight = judged(report.hypotheses, fault.revision).rank;
  for (const p of PARAMS)
    for (const v of GRID[p]) if (row.rerank) row.grid.set(gridKey(p, v), row.rerank({ [p]: v }));

  const changes = await (await openBundle(bundlePath)).changes();
  const ofFault = changes
    .filter((c) => c.toRevision === fault.revision)
    .sort((a, b) => Number(b.kind === 'helm') - Number(a.kind === 'helm'));
  row.kinds = [...revisionMechanisms(ofFault).keys()].sort();
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
 * What went wrong per request, from the traffic's ground truth (errors, 5xx and timeouts, sessions
 * lost and checkouts left stuck, over the requests made): before the first change, past the first
 * STARTUP_S of traffic (a lab just up answers its first logins slowly), and after the fault, the
 * worse of until the next change and until the end (harm can start at once, or later as load grows).
 * Before the first change, not before the fault: a decoy rolled out before the fault has its own blips.
 */
function harmOf(
  incident: Pick<IncidentResult, 'seconds' | 'changes'>,
  fault: { startedAt: string },
): [number, number] {
  const share = (xs: IncidentResult['seconds']) => {
    const n = xs.reduce((a, x) => a + x.requests, 0);
    const bad = xs.reduce((a, x) => a + x.errors + x.sessionsLost + x.checkoutsStuck, 0);
    return n > 0 ? bad / n : 0;
  };
  const t = (x: IncidentResult['seconds'][number]) => Date.parse(x.t);
  const starts = incident.changes.map((c) => Date.parse(c.startedAt)).sort((a, b) => a - b);
  const at = Date.parse(fault.startedAt);
  const next = starts.find((x) => x > at) ?? Number.POSITIVE_INFINITY;
  const begin = (incident.seconds[0] ? t(incident.seconds[0]) : 0) + STARTUP_S * 1000;
  const during = (from: number, to: number) =>
    share(incident.seconds.filter((x) => t(x) >= from && t(x) < to));
  return [
    during(begin, starts[0] ?? Number.POSITIVE_INFINITY),
    Math.max(during(at, next), during(at, Number.POSITIVE_INFINITY)),
  ];
}
// The first seconds of traffic on a lab just up, left out of the level before any change.
const STARTUP_S = 5;

/** Whether the fault harmed users: what went wrong per request at least doubled after it, or rose by 2 points. */
const harmed = (h?: [number, number]) =>
  h !== undefined && (h[1] >= 2 * h[0] || h[1] - h[0] >= 0.02) && h[1] > 0;

/** The full set of weights: the defaults with `w` over them. */
const rankWeightsOf = (w: Partial<RankWeights>): RankWeights => ({ ...DEFAULT_RANK_WEIGHTS, ...w });

/**
 * How well weights `w` rank `rows`, best highest: most faults first, then most in the top 3, then
 * the largest worst margin (the fault's weight over the best other revision's, in the bundle where
 * it is smallest). The worst margin, not the sum: a sum grows with any weight that boosts the
 * faults that have a mechanism, and says nothing of the fault whose setting names none.
 */
function fit(rows: Row[], w: RankWeights): number[] {
  const r = rows.map((x) => x.rerank?.(w)).filter((x): x is Ranked => x !== undefined);
  return [
    r.filter((x) => x.rank === 1).length,
    r.filter((x) => (x.rank ?? Infinity) <= 3).length,
    r.reduce((m, x) => Math.min(m, x.margin), Infinity),
  ];
}

/**
 * The weights that rank `rows` best, by coordinate ascent from the defaults: each weight in turn
 * takes the value of GRID that fits best with the others as chosen so far, twice over; on a tie
 * the value nearest the default (the least departure from the prior).
 */
function chooseWeights(rows: Row[]): RankWeights {
  const w = { ...DEFAULT_RANK_WEIGHTS };
  if (rows.length === 0) return w;
  for (let pass = 0; pass < 2; pass++)
    for (const p of PARAMS) {
      let bestKey: number[] | undefined;
      for (const v of GRID[p]) {
        const key = [...fit(rows, { ...w, [p]: v }), -Math.abs(v - DEFAULT_RANK_WEIGHTS[p])];
        const better = bestKey ? key.findIndex((k, i) => k !== bestKey?.[i]) : 0;
        if (!bestKey || (better >= 0 && (key[better] as number) > (bestKey[better] as number))) {
          bestKey = key;
          w[p] = v;
        }
      }
    }
  return w;
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
  grid: new Map(),
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

// Leave-one-mechanism-out: the weights a scenario is scored with are chosen without its own runs
// and without every scenario whose fault shares a mechanism kind with it.
const fitted = chooseWeights(rows.filter(proven));
for (const r of rows) {
  r.fitted = r.rerank?.(fitted);
  r.noMechanism = r.grid.get(gridKey('mechanism', 1));
  const others = rows.filter(
    (o) => proven(o) && o.name !== r.name && !o.kinds.some((k) => r.kinds.includes(k)),
  );
  r.heldOutWeights = chooseWeights(others);
  r.heldOut = r.rerank?.(r.heldOutWeights);
}
// The loaded folds' ranking closures hold each bundle's findings: let them go before printing.
for (const r of rows) delete r.rerank;

const mark = (r: number | undefined) => (r === undefined ? '-' : String(r));
const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
const hits = (pick: (r: Row) => number | undefined, k: number, of = rows) =>
  of.filter((r) => (pick(r) ?? Infinity) <= k).length;
const both = (pick: (r: Row) => number | undefined, of = rows) =>
  `${hits(pick, 1, of)} / ${hits(pick, 3, of)}`;
/** Weights that differ from the defaults, as `name value`. */
const departures = (w?: RankWeights) =>
  w
    ? PARAMS.filter((p) => w[p] !== DEFAULT_RANK_WEIGHTS[p])
        .map((p) => `${p} ${w[p]}`)
        .join(', ') || 'defaults'
    : '-';
const methods: Array<[string, (r: Row) => number | undefined]> = [
  ['as shipped', (r) => r.hindsight],
  ['fitted on all', (r) => r.fitted?.rank],
  ['held out (leave-one-mechanism-out)', (r) => r.heldOut?.rank],
  ['no mechanism (mechanism weight 1)', (r) => r.noMechanism?.rank],
  ['baseline: last change before the first loss', (r) => r.lastBeforeLoss],
  ['baseline: most metric change points', (r) => r.mostChangePoints],
];
const seedOf = (r: Row) => (r.seed === undefined ? '-' : String(Math.floor(r.seed / 1000) * 1000));
const seeds = [...new Set(rows.map(seedOf))];
const headline = rows.filter(proven);
const lines = [
  '| scenario (seed) | fault kinds | fault rev | requests | harm per request: before any change -> after the fault | sessions lost | stuck | shipped | fitted | held out | held-out weights (not default) | no mechanism | last change before loss | most change points | report (ms) | top cause as shipped |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.name}${r.seed === undefined ? '' : ` (${r.seed})`} | ${r.kinds.join(', ') || '-'} | ${mark(r.faultRevision)} | ${r.requests} | ${r.harm ? `${pct(r.harm[0])} -> ${pct(r.harm[1])}${harmed(r.harm) ? '' : ' (not harmed)'}${proven(r) ? '' : ' (scenario not proven harmful: out of the headline)'}` : '-'} | ${r.lost} | ${r.stuck} | ${mark(r.hindsight)} | ${mark(r.fitted?.rank)} | ${mark(r.heldOut?.rank)} | ${departures(r.heldOutWeights)} | ${mark(r.noMechanism?.rank)} | ${mark(r.lastBeforeLoss)} | ${mark(r.mostChangePoints)} | ${r.reportMs ?? '-'} | ${(r.topCause ?? r.note ?? '-').replace(/\|/g, '/').slice(0, 90)} |`,
  ),
  '',
  `| top-1 / top-3 | all ${rows.length} runs | proven scenarios, harmed runs: ${headline.filter((r) => harmed(r.harm)).length} | ${seeds.map((s) => `seed ${s}, proven scenarios: ${headline.filter((r) => seedOf(r) === s).length}`).join(' | ')} |`,
  `| --- | --- | --- | ${seeds.map(() => '---').join(' | ')} |`,
  ...methods.map(
    ([name, pick]) =>
      `| ${name} | ${both(pick)} | ${both(
        pick,
        headline.filter((r) => harmed(r.harm)),
      )} | ${seeds
        .map((s) =>
          both(
            pick,
            headline.filter((r) => seedOf(r) === s),
          ),
        )
        .join(' | ')} |`,
  ),
  '',
  ...[...notProven].map(
    ([name, why]) => `Not proven harmful, out of the headline and of the fitting: \`${name}\`: ${why}`,
  ),
  '',
  `Weights fitted on all: ${departures(fitted)} (defaults: ${PARAMS.map((p) => `${p} ${DEFAULT_RANK_WEIGHTS[p]}`).join(', ')}).`,
  `Fault weight over the best other revision's, median: ${GRID.mechanism.map((w) => `mechanism ${w} ${median(rows.map((r) => r.grid.get(gridKey('mechanism', w))?.margin ?? 0)).toFixed(2)}x`).join(', ')}; held out ${median(rows.map((r) => r.heldOut?.margin ?? 0)).toFixed(2)}x.`,
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
