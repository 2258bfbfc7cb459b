// Accuracy of @hindsight/drain on Loghub-2k: GA, PA, FGA and FTA as the Loghub-2.0 benchmark defines
// them (logpai/loghub-2.0 benchmark/logparser/utils/evaluator.py, evaluation/utils/PA_calculator.py and
// template_level_analysis.py), against the corrected ground truth, with ONE miner configuration for
// every dataset: only the log format differs.
//
// Run: npx tsc -b packages/drain && node bench/drain-accuracy.mjs [--options '{"similarity":0.5}'] [--debug NAME]
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { TemplateMiner, parseLogFormat } from '@hindsight/drain';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.LOGHUB_2K ?? join(here, '..', '..', 'shared', 'data', 'loghub-2k');
const args = process.argv.slice(2);
const argOf = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const options = JSON.parse(argOf('--options') ?? '{}');
const debug = argOf('--debug');

if (!existsSync(join(dataDir, 'settings.json'))) {
  console.error(`Loghub-2k data not found at ${dataDir} (set LOGHUB_2K)`);
  process.exit(2);
}
const settings = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'));

/** Runs the miner over one dataset; returns the final template of every line. */
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
  return { templates: ids.map(resolve), count: final.size };
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

const rows = [];
for (const [name, ds] of Object.entries(settings.datasets)) {
  const dir = join(dataDir, name);
  const lines = readFileSync(join(dataDir, ds.log_file), 'utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const truthRows = parse(readFileSync(join(dir, `${name}_2k.log_structured_corrected.csv`)), {
    columns: true,
    skip_empty_lines: true,
  });
  const truth = truthRows.map((r) => r.EventTemplate);
  if (truth.length !== lines.length)
    throw new Error(`${name}: ${lines.length} lines but ${truth.length} truth rows`);
  const { templates } = mine(lines, ds.log_format, options);
  const m = evaluate(truth, templates);
  rows.push({ name, ...m });
  if (debug === name || debug === 'all') {
    const bad = new Map();
    for (let i = 0; i < truth.length; i++) {
      if (truth[i] !== templates[i]) {
        const k = `GT  ${truth[i]}\nGOT ${templates[i]}`;
        bad.set(k, (bad.get(k) ?? 0) + 1);
      }
    }
    console.log(`--- ${name}: ${bad.size} mismatching pairs`);
    for (const [k, v] of [...bad].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${v}x\n${k}`);
  }
}

const fmt = (x) => x.toFixed(3);
console.log(`options: ${JSON.stringify(options)}`);
console.log('| Dataset | GA | PA | FGA | FTA | templates (found / truth) |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${fmt(r.GA)} | ${fmt(r.PA)} | ${fmt(r.FGA)} | ${fmt(r.FTA)} | ${r.parsedTemplates} / ${r.truthTemplates} |`,
  );
}
const avg = (k) => rows.reduce((s, r) => s + r[k], 0) / rows.length;
console.log(
  `| **Average** | ${fmt(avg('GA'))} | ${fmt(avg('PA'))} | ${fmt(avg('FGA'))} | ${fmt(avg('FTA'))} | |`,
);
