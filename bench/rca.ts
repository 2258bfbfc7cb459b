// Root-cause accuracy of `hindsight import rca-dataset` + `investigate` on the labelled faults of
// the Nezha Train Ticket dev set (../shared/data/nezha-tt-dev, README there). For each fault of the
// fault list whose injection minute has log data here, the dataset is imported over a window
// around `inject_time` (read as UTC, as the README says) and investigated; a fault is a top-k hit
// when the faulty service (its pod's Deployment, from the pod name) is among the first k distinct
// components the report ranks. Published: Nezha 0.867 top-1 / 0.978 top-3 (services, Train
// Ticket); RCAEval's best method 0.69 top-1.
// Run: node --import tsx bench/rca.ts [--write]   (--write records the table in bench/RESULTS.md)
// Window: HINDSIGHT_RCA_BEFORE_MIN (default 10) minutes before, HINDSIGHT_RCA_AFTER_MIN (default 10) after,
// chosen before any run (faults come ~7 min apart, so the window holds the neighbouring faults' data).
// Incident time: HINDSIGHT_RCA_AT (default 0) seconds after inject_time, or `none`.
// HINDSIGHT_RCA_FAULTS=all adds the day's faults whose log minutes are not in the set: metrics only,
// and none of them was looked at while the weights were chosen (a held-out check).
// Imported bundles are cached in bench/out/rca/ (gitignored) and reused; HINDSIGHT_RCA_FRESH=1 re-imports.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importRcaDataset, serviceOfPod } from '@hindsight/import';
import { investigate, type Report } from '@hindsight/investigate';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const data = path.resolve(repo, '../shared/data/nezha-tt-dev');
const day = '2023-01-29';
const beforeMin = Number(process.env['HINDSIGHT_RCA_BEFORE_MIN'] ?? 10);
const afterMin = Number(process.env['HINDSIGHT_RCA_AFTER_MIN'] ?? 10);
// The incident time given to investigate (`incidentAt`): inject_time shifted by this many seconds,
// or none when HINDSIGHT_RCA_AT=none. Nezha's and RCAEval's evaluations give their methods the
// injection time too.
const atEnv = process.env['HINDSIGHT_RCA_AT'] ?? '0';
const atShiftS = atEnv === 'none' ? undefined : Number(atEnv);
const allFaults = process.env['HINDSIGHT_RCA_FAULTS'] === 'all';

// Nezha's fault types: an injector makes a method return an error value or throw (code defects),
// or loads the pod (resource faults).
const CODE_DEFECTS = new Set(['return', 'exception']);

interface Fault {
  inject_time: string;
  inject_pod: string;
  inject_type: string;
}

/** The distinct components a report names, in rank order. */
function rankedComponents(report: Report): string[] {
  const out: string[] = [];
  for (const h of report.hypotheses) {
    const c = h.cause;
    const names =
      c.type === 'change'
        ? c.components
        : c.type === 'component'
          ? [c.component]
          : c.component
            ? [c.component]
            : [];
    for (const n of names) if (!out.includes(n)) out.push(n);
  }
  return out;
}

if (!existsSync(data)) {
  console.log(`bench:rca skipped: ${data} is absent`);
} else {
  const list = JSON.parse(
    await readFile(path.join(data, `rca_data/${day}/${day}-fault_list.json`), 'utf8'),
  ) as Record<string, Fault[]>;
  const logMinutes = new Set(
    (await readdir(path.join(data, `rca_data/${day}/log`))).map((f) => f.slice(0, 5)),
  );
  const logged = (f: Fault): boolean => logMinutes.has(f.inject_time.slice(11, 16).replace(':', '_'));
  const faults = Object.values(list)
    .flat()
    .filter((f) => allFaults || logged(f))
    .sort((a, b) => a.inject_time.localeCompare(b.inject_time));
  const cache = path.join(repo, 'bench/out/rca');
  await mkdir(cache, { recursive: true });
  const fresh = process.env['HINDSIGHT_RCA_FRESH'] === '1';
  const rows: string[] = [];
  const groups = new Map<string, { n: number; top1: number; top3: number }>();
  let top1 = 0;
  let top3 = 0;
  let importMs = 0;
  let imported = 0;
  let investigateMs = 0;
  let investigateCpuMs = 0;
  {
    for (const f of faults) {
      const t = Date.parse(`${f.inject_time.replace(' ', 'T')}Z`);
      const out = path.join(
        cache,
        // `-b2`: bundles that hold the dataset's fault-free reference as their baseline, and log
        // times in nanoseconds.
        `${f.inject_time.slice(11).replaceAll(':', '')}-m${beforeMin}-p${afterMin}-b2`,
      );
      let s = performance.now();
      if (fresh || !existsSync(path.join(out, 'manifest.json'))) {
        await rm(out, { recursive: true, force: true });
        await importRcaDataset(data, out, {
          from: new Date(t - beforeMin * 60_000).toISOString(),
          to: new Date(t + afterMin * 60_000).toISOString(),
        });
        imported += 1;
        importMs += performance.now() - s;
      }
      s = performance.now();
      const cpu = process.cpuUsage();
      const report = await investigate(out, {
        top: 10,
        ...(atShiftS !== undefined ? { incidentAt: t + atShiftS * 1000 } : {}),
      });
      investigateMs += performance.now() - s;
      const used = process.cpuUsage(cpu);
      investigateCpuMs += (used.user + used.system) / 1000;
      if (process.env['HINDSIGHT_RCA_DUMP'] === '1') {
        await writeFile(`${out}.report.json`, JSON.stringify(report, null, 1));
      }
      const truth = serviceOfPod(f.inject_pod);
      const ranked = rankedComponents(report);
      const at = ranked.indexOf(truth) + 1;
      if (at === 1) top1 += 1;
      if (at >= 1 && at <= 3) top3 += 1;
      const kind = `${logged(f) ? 'logs and metrics' : 'metrics only'}, ${CODE_DEFECTS.has(f.inject_type) ? 'code defects' : 'resource faults'}`;
      const g = groups.get(kind) ?? { n: 0, top1: 0, top3: 0 };
      groups.set(kind, {
        n: g.n + 1,
        top1: g.top1 + (at === 1 ? 1 : 0),
        top3: g.top3 + (at >= 1 && at <= 3 ? 1 : 0),
      });
      const row = `| ${f.inject_time.slice(11)} | ${truth} | ${f.inject_type} | ${report.verdict} | ${ranked.slice(0, 3).join(', ')} | ${at > 0 ? at : '-'} |`;
      rows.push(row);
      console.log(row);
    }
  }
  const n = faults.length;
  const table = [
    `Nezha Train Ticket ${day}, ${n} faults ${allFaults ? 'of the day' : 'with log data'}, window inject_time -${beforeMin}/+${afterMin} min,` +
      ` incidentAt ${atShiftS === undefined ? 'not given' : `inject_time${atShiftS === 0 ? '' : ` ${atShiftS > 0 ? '+' : ''}${atShiftS} s`}`};` +
      ` baseline: the dataset's fault-free reference (construct_data, 08:48-08:51)`,
    '',
    '| inject (UTC) | faulty service | type | verdict | top 3 components | rank |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `top-1 ${(top1 / n).toFixed(3)} (${top1}/${n}), top-3 ${(top3 / n).toFixed(3)} (${top3}/${n});` +
      ` mean import ${imported > 0 ? (importMs / imported / 1000).toFixed(1) : '- (cached)'} s, investigate ${(investigateMs / n / 1000).toFixed(1)} s (CPU ${(investigateCpuMs / n / 1000).toFixed(1)} s) per fault` +
      ` (${os.cpus().length} cores). Published: Nezha 0.867 / 0.978, RCAEval best 0.69 top-1.`,
  ].join('\n');
  console.log(`\n${table.split('\n').slice(-1)[0]}`);
  if (groups.size > 1)
    for (const [kind, g] of [...groups].sort())
      console.log(
        `  ${kind}: top-1 ${(g.top1 / g.n).toFixed(3)} (${g.top1}/${g.n}), top-3 ${(g.top3 / g.n).toFixed(3)} (${g.top3}/${g.n})`,
      );
  if (process.argv.includes('--write') && !allFaults) {
    const file = path.join(repo, 'bench/RESULTS.md');
    const text = existsSync(file) ? await readFile(file, 'utf8') : '# Benchmark results\n';
    const section = `## rca\n\n${table}\n`;
    // Only the table and its figures are replaced: notes written below them stay.
    const re = /## rca\n[\s\S]*?\ntop-1 [^\n]*\n/;
    await writeFile(file, re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}`);
    console.log(`recorded in ${path.relative(repo, file)}`);
  }
}
