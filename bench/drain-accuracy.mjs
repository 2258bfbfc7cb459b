// Accuracy of @hindsight/drain on Loghub-2k: GA, PA, FGA and FTA as the Loghub-2.0 benchmark defines
// them (logpai/loghub-2.0 benchmark/logparser/utils/evaluator.py, evaluation/utils/PA_calculator.py and
// template_level_analysis.py), against the corrected ground truth, with ONE miner configuration for
// every dataset: only the log format differs.
//
// It also reports leave-one-system-out: for each system, the configuration of GRID below that
// scores best on the OTHER seven (mean of GA, PA, FGA and FTA; ties to the earlier in the grid) is
// used to score it, so no system is scored with a setting chosen on it. Beside it, the fitted
// figure: the one configuration that is best on all eight, scored on the same eight.
//
// Run: npx tsc -b packages/drain && node bench/drain-accuracy.mjs [--options '{"similarity":0.5}'] [--debug NAME]
//      [--no-loso]
import { loadDatasets, mine, evaluate, scoreAll, printTable, leaveOneOut } from './drain-loghub.mjs';

const args = process.argv.slice(2);
const argOf = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const options = JSON.parse(argOf('--options') ?? '{}');
const debug = argOf('--debug');
const datasets = loadDatasets();
const fmt = (x) => x.toFixed(3);

const rows = scoreAll(datasets, options);
// What a consumer of `hindsight templates --jsonl` gets by grouping lines by the id each line was
// given as it was read (no final templates): GA needs only the grouping.
const byId = datasets.map((d) => evaluate(d.truth, mine(d.lines, d.format, options).ids).GA);
if (debug !== undefined) {
  for (const d of datasets) {
    if (debug !== d.name && debug !== 'all') continue;
    const templates = mine(d.lines, d.format, options).templates;
    const bad = new Map();
    for (let i = 0; i < d.truth.length; i++) {
      if (d.truth[i] !== templates[i]) {
        const k = `GT  ${d.truth[i]}\nGOT ${templates[i]}`;
        bad.set(k, (bad.get(k) ?? 0) + 1);
      }
    }
    console.log(`--- ${d.name}: ${bad.size} mismatching pairs`);
    for (const [k, v] of [...bad].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${v}x\n${k}`);
  }
}
console.log(`options: ${JSON.stringify(options)}`);
printTable(rows);
console.log(
  `GA of lines grouped by the id each was given as it was read: ${datasets.map((d, i) => `${d.name} ${fmt(byId[i])}`).join(', ')}; average ${fmt(byId.reduce((a, b) => a + b, 0) / byId.length)}`,
);

if (!args.includes('--no-loso')) leaveOneOut(datasets, options);
