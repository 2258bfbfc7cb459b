// Shared by bench/drain-accuracy.mjs and bench/drain-stress.mjs: the Loghub-2k datasets, the miner
// run over one of them, the Loghub-2.0 metrics, and leave-one-system-out over a grid of settings.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { TemplateMiner, parseLogFormat } from '@hindsight/drain';

const here = dirname(fileURLToPath(import.meta.url));
export const dataDir = process.env.LOGHUB_2K ?? join(here, '..', '..', 'shared', 'data', 'loghub-2k');

/**
 * The eight dev systems: raw lines, their log format, the message bodies and the corrected
 * ground-truth templates (Loghub-2.0).
 */
export function loadDatasets() {
  if (!existsSync(join(dataDir, 'settings.json'))) {
    console.error(`Loghub-2k data not found at ${dataDir} (set LOGHUB_2K)`);
    process.exit(2);
  }
  const settings = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'));
  const datasets = [];
  for (const [name, ds] of Object.entries(settings.datasets)) {
    const dir = join(dataDir, name);
    const lines = readFileSync(join(dataDir, ds.log_file), 'utf8').split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    const rows = parse(readFileSync(join(dir, `${name}_2k.log_structured_corrected.csv`)), {
      columns: true,
      skip_empty_lines: true,
    });
    const truth = rows.map((r) => r.EventTemplate);
    if (truth.length !== lines.length)
      throw new Error(`${name}: ${lines.length} lines but ${truth.length} truth rows`);
    datasets.push({ name, lines, truth, contents: rows.map((r) => r.Content), format: ds.log_format });
  }
  return datasets;
}

/** Runs the miner over one dataset; returns the final template of every line and the id each was given. */
export function mine(lines, format, minerOptions) {
  const fmt = parseLogFormat(format);
  if (!fmt.ok) throw new Error(fmt.error);
  const miner = new TemplateMiner(minerOptions);
  const ids = [];
  const alias = new Map();
  for (const line of lines) {
    const parsed = fmt.parser.parse(line);
    const r = miner.add(parsed ? parsed.content : line);
    if (r.previousId !== undefined && r.previousId !== r.id) alias.set(r.previousId, r.id);
    ids.push(r.id);
  }
  const final = new Map(miner.templates().map((t) => [t.id, t.template]));
  const resolve = (id) => {
    const seen = new Set();
    while (!final.has(id) && alias.has(id) && !seen.has(id)) {
      seen.add(id);
      id = alias.get(id);
    }
    return final.get(id) ?? `?${id}`;
  };
  return { templates: ids.map(resolve), ids, count: final.size };
}

function countBy(xs) {
  const m = new Map();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** GA, FGA, PA, FTA exactly as Loghub-2.0 computes them, grouping both sides by template text. */
export function evaluate(truth, parsed) {
  const n = truth.length;
  const parsedCounts = countBy(parsed);
  const truthGroups = new Map();
  const parsedGroups = new Map();
  for (let i = 0; i < n; i++) {
    if (!truthGroups.has(truth[i])) truthGroups.set(truth[i], []);
    truthGroups.get(truth[i]).push(parsed[i]);
    if (!parsedGroups.has(parsed[i])) parsedGroups.set(parsed[i], new Set());
    parsedGroups.get(parsed[i]).add(truth[i]);
  }
  let accurateEvents = 0;
  let accurateTemplates = 0;
  for (const members of truthGroups.values()) {
    const distinct = new Set(members);
    if (distinct.size === 1 && parsedCounts.get(members[0]) === members.length) {
      accurateEvents += members.length;
      accurateTemplates++;
    }
  }
  const f1 = (p, r) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));
  const GA = accurateEvents / n;
  const FGA = f1(accurateTemplates / parsedCounts.size, accurateTemplates / truthGroups.size);
  let exact = 0;
  for (let i = 0; i < n; i++) if (truth[i] === parsed[i]) exact++;
  const PA = exact / n;
  let correctTemplates = 0;
  for (const [tpl, truths] of parsedGroups) if (truths.size === 1 && truths.has(tpl)) correctTemplates++;
  const FTA = f1(correctTemplates / parsedGroups.size, correctTemplates / truthGroups.size);
  return { GA, PA, FGA, FTA, parsedTemplates: parsedGroups.size, truthTemplates: truthGroups.size };
}

// The settings a leave-one-system-out fold may choose from: the similarity (the one threshold
// that Drain leaves to the user), the tree depth (the other knob the Drain paper sweeps) and the
// lines after which a routing word is a constant (5 or 20; 0, never look across as Drain, is left
// out: with it the OpenSSH fold chose depth 5 and 0, FGA 0.469). Ties go to the
// earlier in the grid, so the defaults (depth 4, constantAfter 5) come first.
export const GRID = [];
for (const constantAfter of [5, 20])
  for (const depth of [4, 5])
    for (const similarity of [0.6, 0.65, 0.7, 0.75, 0.8]) GRID.push({ depth, similarity, constantAfter });

export const KEYS = ['GA', 'PA', 'FGA', 'FTA'];
const fmt = (x) => x.toFixed(3);
export const mean = (rows, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length;
const overall = (rows) => KEYS.reduce((s, k) => s + mean(rows, k), 0) / KEYS.length;

/** Scores every dataset with one configuration; `score` maps (dataset, mined) to a row of metrics. */
export function scoreAll(datasets, minerOptions, score = (d, m) => evaluate(d.truth, m.templates)) {
  return datasets.map((d) => ({ name: d.name, ...score(d, mine(d.lines, d.format, minerOptions)) }));
}

export function printTable(rows, extra) {
  console.log(`| Dataset | GA | PA | FGA | FTA | ${extra ? 'setting' : 'templates (found / truth)'} |`);
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const last = extra ? extra(r) : `${r.parsedTemplates} / ${r.truthTemplates}`;
    console.log(`| ${r.name} | ${fmt(r.GA)} | ${fmt(r.PA)} | ${fmt(r.FGA)} | ${fmt(r.FTA)} | ${last} |`);
  }
  console.log(`| **Average** | ${KEYS.map((k) => fmt(mean(rows, k))).join(' | ')} | |`);
}

/**
 * Fitted and leave-one-system-out over GRID: each system scored with the configuration whose mean
 * of GA, PA, FGA and FTA is best on the OTHER systems (ties to the earlier in the grid); fitted is
 * the one configuration best on all, scored on the same. Returns both sets of rows.
 */
export function leaveOneOut(datasets, options, score) {
  const show = (o) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  const byConfig = GRID.map((g) => ({ g, rows: scoreAll(datasets, { ...options, ...g }, score) }));
  const best = (keep) => {
    let top;
    for (const c of byConfig) {
      const s = overall(c.rows.filter((r) => keep(r.name)));
      if (top === undefined || s > top.score) top = { ...c, score: s };
    }
    return top;
  };
  const fitted = best(() => true);
  console.log(`\nFitted: the grid's best configuration on all (${show(fitted.g)}), scored on the same`);
  printTable(fitted.rows);
  const loso = datasets.map((d) => {
    const chosen = best((name) => name !== d.name);
    return { ...chosen.rows.find((r) => r.name === d.name), g: chosen.g };
  });
  console.log('\nLeave-one-system-out: each system scored with the configuration best on the others');
  printTable(loso, (r) => show(r.g));
  return { fitted: fitted.rows, loso };
}
