// How often hindsight names the injected change, on bundles recorded from the lab: each scenario of
// bench/scenarios (one values change that breaks the shop, among decoy upgrades placed before and
// after it at seeded random times) runs from a clean lab: up, traffic, decoys + fault, collect,
// investigate. Scores top-1 and top-3 of the injected Helm revision, times the end of collection
// to the report, and runs two baselines on the same bundles: (a) the most recent change before the
// first lost session (or stuck checkout; without one, before the first 5xx second after the first
// change), (b) the change followed by the most metric change points (findings of the
// metric-changes analyzer) before the next change.
// Run: node --import tsx bench/diagnosis.ts [--write] [name-filter]   (--write records bench/RESULTS.md)
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
import { investigate, type Report } from '@hindsight/investigate';
import { Lab } from '@hindsight/lab';
import { collectLab, runIncident, type Scenario } from '../packages/cli/dist/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const write = process.argv.includes('--write');
const filter = process.argv.slice(2).find((a) => !a.startsWith('--'));
const warmMs = Number(process.env['HINDSIGHT_DIAG_WARM_S'] ?? 8) * 1000;
const spacingMs = Number(process.env['HINDSIGHT_DIAG_SPACING_S'] ?? 10) * 1000;
const tailMs = Number(process.env['HINDSIGHT_DIAG_TAIL_S'] ?? 15) * 1000;
const baseSeed = Number(process.env['HINDSIGHT_DIAG_SEED'] ?? 1000);
const keep = process.env['HINDSIGHT_DIAG_KEEP'];

interface Row {
  name: string;
  faultRevision?: number;
  lost: number;
  stuck: number;
  errors: number;
  requests: number;
  hindsight?: number;
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

function hindsightRanking(report: Report): number[] {
  const out: number[] = [];
  for (const h of report.hypotheses)
    if (h.cause.type === 'change' && h.cause.revision !== undefined && !out.includes(h.cause.revision))
      out.push(h.cause.revision);
  return out;
}

function helmChanges(changes: Change[]): Array<{ revision: number; time: number }> {
  return changes
    .filter((c) => c.kind === 'helm' && c.toRevision !== undefined)
    .map((c) => ({ revision: c.toRevision as number, time: Date.parse(c.time) }))
    .sort((a, b) => a.time - b.time);
}

const rows: Row[] = [];
const tmp = keep ? path.resolve(keep) : await mkdtemp(path.join(os.tmpdir(), 'hs-bench-diagnosis-'));
const t0 = Date.now();
try {
  for (const { scenario, seed } of scenarios) {
    const row: Row = { name: scenario.name, lost: 0, stuck: 0, errors: 0, requests: 0 };
    rows.push(row);
    const dir = path.join(tmp, scenario.name);
    const lab = new Lab({ dir: path.join(dir, 'lab'), timeScale: 0.2 });
    const say = (m: string) =>
      console.error(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${scenario.name}: ${m}`);
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
      Object.assign(row, {
        lost: incident.truth.sessionsLost,
        stuck: incident.truth.checkoutsStuck,
        errors: incident.truth.errors,
        requests: incident.truth.requests,
      });
      const fault = incident.changes.find((c) => c.role === 'fault');
      if (!fault) throw new Error('the fault was not applied');
      row.faultRevision = fault.revision;
      const collected = await collectLab(lab, {
        output: path.join(dir, 'bundle'),
        from: incident.from,
        ...(incident.samples ? { samples: incident.samples } : {}),
      });
      const start = Date.now();
      const report = await investigate(collected.bundlePath, { top: 5 });
      row.reportMs = Date.now() - start;
      if (keep) {
        await writeFile(path.join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
        await writeFile(
          path.join(dir, 'incident.json'),
          `${JSON.stringify({ seed, ...incident }, null, 2)}\n`,
        );
      }
      const top = report.hypotheses[0];
      row.topCause =
        top?.cause.type === 'change'
          ? `rev ${top.cause.revision}: ${top.cause.paths.join(', ')}`
          : top?.title;
      row.hindsight = rankOf(hindsightRanking(report), fault.revision);

      const changes = helmChanges(await (await openBundle(collected.bundlePath)).changes());
      const firstBad =
        incident.firstLostAt !== undefined
          ? Date.parse(incident.firstLostAt) + 1000
          : (() => {
              const after = changes[0]?.time ?? 0;
              const s = incident.seconds.find((x) => x.errors > 0 && Date.parse(x.t) >= after);
              return s ? Date.parse(s.t) + 1000 : Number.POSITIVE_INFINITY;
            })();
      const before = changes.filter((c) => c.time <= firstBad).reverse();
      row.lastBeforeLoss = rankOf(
        [...before, ...changes.filter((c) => c.time > firstBad)].map((c) => c.revision),
        fault.revision,
      );
      const points = report.findings.filter((f) => f.analyzer === 'metric-changes');
      const counted = changes.map((c, k) => {
        const until = changes[k + 1]?.time ?? Number.POSITIVE_INFINITY;
        return { revision: c.revision, n: points.filter((p) => p.time >= c.time && p.time < until).length };
      });
      row.mostChangePoints = rankOf(
        counted.sort((a, b) => b.n - a.n || a.revision - b.revision).map((c) => c.revision),
        fault.revision,
      );
      say(
        `lost ${row.lost}, stuck ${row.stuck}, errors ${row.errors}; hindsight rank ${row.hindsight ?? '-'}, baselines ${row.lastBeforeLoss ?? '-'} / ${row.mostChangePoints ?? '-'}; report ${row.reportMs} ms`,
      );
    } catch (err) {
      row.note = err instanceof Error ? err.message.slice(0, 160) : String(err);
      say(`failed: ${row.note}`);
    } finally {
      await lab.down({ purge: !keep }).catch(() => undefined);
      if (!keep) await rm(dir, { recursive: true, force: true });
    }
  }
} finally {
  if (!keep) await rm(tmp, { recursive: true, force: true });
}

const mark = (r: number | undefined) => (r === undefined ? '-' : String(r));
const hits = (pick: (r: Row) => number | undefined, k: number) =>
  rows.filter((r) => (pick(r) ?? Infinity) <= k).length;
const lines = [
  '| scenario | fault rev | requests | sessions lost | stuck | 5xx/timeouts | hindsight rank | last change before loss | most change points | report (ms) | hindsight top cause |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${mark(r.faultRevision)} | ${r.requests} | ${r.lost} | ${r.stuck} | ${r.errors} | ${mark(r.hindsight)} | ${mark(r.lastBeforeLoss)} | ${mark(r.mostChangePoints)} | ${r.reportMs ?? '-'} | ${(r.topCause ?? r.note ?? '-').replace(/\|/g, '/').slice(0, 90)} |`,
  ),
  '',
  `top-1 / top-3 of ${rows.length}: hindsight ${hits((r) => r.hindsight, 1)} / ${hits((r) => r.hindsight, 3)}; ` +
    `last change before the first loss ${hits((r) => r.lastBeforeLoss, 1)} / ${hits((r) => r.lastBeforeLoss, 3)}; ` +
    `most metric change points ${hits((r) => r.mostChangePoints, 1)} / ${hits((r) => r.mostChangePoints, 3)}`,
];
console.log(lines.join('\n'));

if (write) {
  const file = path.join(repo, 'bench/RESULTS.md');
  const text = await readFile(file, 'utf8');
  const section = [
    '## diagnosis',
    '',
    `\`node --import tsx bench/diagnosis.ts --write\` on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (shared),`,
    `each scenario from a clean lab (time scale 0.2), 20 users, warm ${warmMs / 1000} s, gaps ~${spacingMs / 1000} s (seeded),`,
    `tail ${tailMs / 1000} s, two decoys, seed ${baseSeed} (+ the scenario's place). Ranks are of the injected Helm revision.`,
    `Report time: from the end of collection to the report (investigate only). Whole run: ${((Date.now() - t0) / 60000).toFixed(1)} min.`,
    'Decoys: two per scenario; how many go before the fault (0, 1 or 2) is drawn from the seed, so the fault revision varies.',
    "Sessions lost, stuck and 5xx/timeouts are the traffic's ground truth over the incident. Where sessions lost is 0 the lab",
    'did not reproduce the silent loss: the fault showed only as errors or moving metrics, and that is what was diagnosed.',
    'Baseline (a) falls back to the first second with a 5xx or timeout after the first change when no session was lost.',
    '',
    ...lines,
    '',
  ].join('\n');
  const start = text.indexOf('## diagnosis');
  const next = start < 0 ? -1 : text.indexOf('\n## ', start + 1);
  const out =
    start < 0
      ? `${text.trimEnd()}\n\n${section}`
      : `${text.slice(0, start)}${section}${next < 0 ? '' : text.slice(next + 1)}`;
  await writeFile(file, out);
}
