// Semi-synthetic network delays: real span files of a Nezha-layout dataset with a delay injected
// into one service (the model: bench/rca-inject-model.ts), run through the real `import
// rca-dataset` and `investigate`, scored top-1 / top-3 like bench/rca.ts. For a system whose dev
// set holds no network delay (Train Ticket), this is the only check of the latency path there is
// before the held-out day; it checks the path, not the held-out data.
//
// Each case: a carrier (one of the set's faults with span minute files: its minutes from the
// injection minute on, the spans only, no log, no metric) and a service called at least
// MIN_CALLS times in the carrier's three minutes after its inject_time, not the carrier's own
// faulty service; the delay begins at the carrier's inject_time and lasts 3 minutes (the
// faults' length in Nezha). Pairs are drawn without replacement with a fixed seed. The carrier's
// own fault (a code defect, a CPU hog, or another delay) stays in its spans: a second fault the
// ranking must look past, which the held-out day will not have; the bench reports the rank both
// as it is and with the carrier's faulty service left out of the ranking.
// Window -10/+10 min around the injection, incidentAt = the injection, the baseline each set's
// construct_data spans (as bench/rca.ts).
//
// Run: node --import tsx bench/rca-inject.ts [DIR ...] [--n N] [--seed S] [--delay-ms D] [--request] [--write]
//   (default: nezha-tt-dev with 24 cases and nezha-ob-dev with 12, seed 17, delay 1000 ms)
// Cases are cached in bench/out/rca-inject/ (gitignored); HINDSIGHT_RCA_FRESH=1 rebuilds them.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '@hindsight/core';
import { importRcaDataset, serviceOfPod } from '@hindsight/import';
import {
  analyzers,
  investigate,
  latencyAnalyzer,
  type LatencyParams,
  type Report,
} from '@hindsight/investigate';
import { injectDelay, parseRows, formatRows, type DelayModel, type Row } from './rca-inject-model.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SEED = opt('seed', 17);
const DELAY_MS = opt('delay-ms', 1000);
const FAULT_MS = 3 * 60_000;
const MODEL: DelayModel = args.includes('--request') ? 'request' : 'response';
// A service called fewer times than this in three minutes leaves no median to compare.
const MIN_CALLS = 5;
const fresh = process.env['HINDSIGHT_RCA_FRESH'] === '1';

interface Fault {
  inject_time: string;
  inject_pod: string;
  inject_type: string;
}

/** One case: a carrier fault's minutes with a delay into one service. */
export interface Case {
  set: string;
  carrier: Fault;
  service: string;
  at: number;
  calls: number;
  bundle: string;
}

export interface Scored {
  c: Case;
  rank: number;
  /** The rank with the carrier's own faulty service left out of the ranking. */
  rankAlone: number;
  top: string[];
}

const minuteName = (t: number): string => new Date(t).toISOString().slice(11, 16).replace(':', '_');
const atOf = (f: Fault): number => Date.parse(`${f.inject_time.replace(' ', 'T')}Z`);

async function carrierFiles(dir: string, day: string, f: Fault): Promise<string[]> {
  const names = new Set(await readdir(path.join(dir, `rca_data/${day}/trace`)));
  return [0, 1, 2, 3].map((k) => `${minuteName(atOf(f) + k * 60_000)}_trace.csv`).filter((n) => names.has(n));
}

/** Services called at least MIN_CALLS times from another service in the fault's three minutes. */
function calledServices(rows: Row[], from: number, to: number): Map<string, number> {
  const owner = new Map(rows.map((r) => [r.span, serviceOfPod(r.pod)]));
  const n = new Map<string, number>();
  const lo = BigInt(from) * 1_000_000n;
  const hi = BigInt(to) * 1_000_000n;
  for (const r of rows) {
    const s = serviceOfPod(r.pod);
    const p = owner.get(r.parent);
    if (p === undefined || p === s || r.start < lo || r.start >= hi) continue;
    n.set(s, (n.get(s) ?? 0) + 1);
  }
  return new Map([...n].filter(([, k]) => k >= MIN_CALLS));
}

async function readRows(dir: string, day: string, files: string[]): Promise<Row[]> {
  const out: Row[] = [];
  for (const f of files)
    out.push(...parseRows(await readFile(path.join(dir, `rca_data/${day}/trace`, f), 'utf8')).rows);
  return out;
}

/** Writes one case's dataset (the carrier's span minutes, injected, and the baseline's spans) and imports it. */
async function build(
  dir: string,
  day: string,
  c: Case,
  files: string[],
  rand: () => number,
): Promise<number> {
  const root = path.dirname(c.bundle);
  await rm(root, { recursive: true, force: true });
  const traceOut = path.join(root, 'data', `rca_data/${day}/trace`);
  await mkdir(traceOut, { recursive: true });
  let calls = 0;
  for (const f of files) {
    const { header, cols, rows } = parseRows(
      await readFile(path.join(dir, `rca_data/${day}/trace`, f), 'utf8'),
    );
    const from = BigInt(c.at) * 1_000_000n;
    const r = injectDelay(
      rows,
      c.service,
      serviceOfPod,
      from,
      from + BigInt(FAULT_MS) * 1_000_000n,
      DELAY_MS * 1e6,
      rand,
      MODEL,
    );
    calls += r.calls;
    await writeFile(path.join(traceOut, f), formatRows(header, cols, rows));
  }
  const baseIn = path.join(dir, `construct_data/${day}/trace`);
  const baseOut = path.join(root, 'data', `construct_data/${day}/trace`);
  await mkdir(baseOut, { recursive: true });
  for (const f of await readdir(baseIn)) await copyFile(path.join(baseIn, f), path.join(baseOut, f));
  await importRcaDataset(path.join(root, 'data'), c.bundle, {
    from: new Date(c.at - 10 * 60_000).toISOString(),
    to: new Date(c.at + 10 * 60_000).toISOString(),
  });
  await writeFile(path.join(root, 'calls.txt'), `${calls}\n`);
  return calls;
}

/** The cases of one set: (carrier, service) pairs drawn without replacement. */
export async function casesOf(dir: string, n: number, seed: number): Promise<Case[]> {
  const set = path.basename(path.resolve(dir));
  const day = (await readdir(path.join(dir, 'rca_data')))
    .filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))
    .sort()[0] as string;
  const list = JSON.parse(
    await readFile(path.join(dir, `rca_data/${day}/${day}-fault_list.json`), 'utf8'),
  ) as Record<string, Fault[]>;
  const pairs: Array<{ f: Fault; service: string; files: string[] }> = [];
  for (const f of Object.values(list)
    .flat()
    .sort((a, b) => a.inject_time.localeCompare(b.inject_time))) {
    const files = await carrierFiles(dir, day, f);
    if (files.length === 0) continue;
    const called = calledServices(await readRows(dir, day, files), atOf(f), atOf(f) + FAULT_MS);
    const truth = serviceOfPod(f.inject_pod);
    for (const s of [...called.keys()].sort()) if (s !== truth) pairs.push({ f, service: s, files });
  }
  const rand = seededRandom(seed);
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j] as (typeof pairs)[number], pairs[i] as (typeof pairs)[number]];
  }
  const out: Case[] = [];
  for (const [i, p] of pairs.slice(0, n).entries()) {
    const key = `${MODEL}-s${seed}-d${DELAY_MS}-${String(i).padStart(2, '0')}-${p.f.inject_time.slice(11).replaceAll(':', '')}-${p.service}`;
    const c: Case = {
      set,
      carrier: p.f,
      service: p.service,
      at: atOf(p.f),
      calls: 0,
      bundle: path.join(repo, 'bench/out/rca-inject', set, key, 'bundle'),
    };
    const done = path.join(path.dirname(c.bundle), 'calls.txt');
    if (fresh || !existsSync(done)) c.calls = await build(dir, day, c, p.files, seededRandom(seed + i + 1));
    else c.calls = Number((await readFile(done, 'utf8')).trim());
    out.push(c);
    process.stderr.write('+');
  }
  return out;
}

function rankedComponents(report: Report): string[] {
  const out: string[] = [];
  for (const h of report.hypotheses) {
    const c = h.cause;
    const names = c.type === 'change' ? c.components : c.component ? [c.component] : [];
    for (const n of names) if (!out.includes(n)) out.push(n);
  }
  return out;
}

export async function score(c: Case, params?: LatencyParams): Promise<Scored> {
  const report = await investigate(c.bundle, {
    top: 10,
    incidentAt: c.at,
    ...(params
      ? { analyzers: analyzers.map((a) => (a.name === 'latency' ? latencyAnalyzer(params) : a)) }
      : {}),
  });
  const ranked = rankedComponents(report);
  const alone = ranked.filter((x) => x !== serviceOfPod(c.carrier.inject_pod));
  return {
    c,
    rank: ranked.indexOf(c.service) + 1,
    rankAlone: alone.indexOf(c.service) + 1,
    top: ranked.slice(0, 3),
  };
}

export function figure(ranks: number[]): string {
  const hit = (k: number): number => ranks.filter((r) => r >= 1 && r <= k).length / Math.max(1, ranks.length);
  return `${hit(1).toFixed(3)} / ${hit(3).toFixed(3)}`;
}

async function main(): Promise<void> {
  const dirs = args.filter(
    (a, i) =>
      !a.startsWith('--') &&
      !args[i - 1]?.startsWith('--n') &&
      !/^--(seed|delay-ms)$/.test(args[i - 1] ?? ''),
  );
  const chosen =
    dirs.length > 0
      ? dirs
      : ['nezha-tt-dev', 'nezha-ob-dev'].map((d) => path.resolve(repo, '../shared/data', d));
  const lines: string[] = [];
  const started = performance.now();
  for (const dir of chosen.filter((d) => existsSync(d))) {
    const set = path.basename(path.resolve(dir));
    const n = opt('n', /ob/.test(set) ? 12 : 24);
    const cases = await casesOf(dir, n, SEED);
    const scored: Scored[] = [];
    for (const c of cases) {
      scored.push(await score(c));
      process.stderr.write('.');
    }
    lines.push(`#### ${set}: ${cases.length} injected delays`, '');
    lines.push(
      "| carrier (inject UTC, its fault) | delayed service | calls delayed | top 3 components | rank | rank without the carrier's fault |",
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const s of scored)
      lines.push(
        `| ${s.c.carrier.inject_time.slice(11)} ${serviceOfPod(s.c.carrier.inject_pod)} ${s.c.carrier.inject_type} | ${s.c.service} | ${s.c.calls} | ${s.top.join(', ')} | ${s.rank || '-'} | ${s.rankAlone || '-'} |`,
      );
    lines.push(
      '',
      `${set}: top-1 / top-3 ${figure(scored.map((s) => s.rank))}; without the carrier's own fault ${figure(scored.map((s) => s.rankAlone))}.`,
      '',
    );
  }
  lines.push(
    `Model ${MODEL}, seed ${SEED}, delay ${DELAY_MS} ms +-10% per call, 3 min from the carrier's inject_time; ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  );
  const table = lines.join('\n');
  process.stderr.write('\n');
  console.log(table);
  if (args.includes('--write')) {
    const file = path.join(repo, 'bench/RESULTS.md');
    const text = await readFile(file, 'utf8');
    const begin = '<!-- rca-inject:begin -->';
    const end = '<!-- rca-inject:end -->';
    const block = `${begin}\nRun: \`node --import tsx bench/rca-inject.ts --write\`\n\n${table}\n${end}`;
    const re = new RegExp(`${begin}[\\s\\S]*?${end}`);
    if (re.test(text)) await writeFile(file, text.replace(re, block));
    else {
      // Placed right after the figures of bench/rca.ts, inside `## rca`.
      const at = text.search(/\n## rca\n[\s\S]*?\ntop-1 [^\n]*\n/);
      const m = /\n## rca\n[\s\S]*?\ntop-1 [^\n]*\n/.exec(text);
      if (at < 0 || !m) throw new Error('bench/RESULTS.md has no ## rca figures to place the block after');
      const cut = at + m[0].length;
      await writeFile(
        file,
        `${text.slice(0, cut)}\n### Semi-synthetic network delays (bench/rca-inject.ts)\n\n${block}\n${text.slice(cut)}`,
      );
    }
    console.log('recorded in bench/RESULTS.md');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
