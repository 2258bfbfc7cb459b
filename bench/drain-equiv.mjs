// Behaviour check and quick CPU-time rate for @hindsight/drain: mines the Loghub-2k message bodies
// (in order, repeated with shifted numbers, and with a small maxTemplates so that eviction runs)
// and prints one digest of every result `add` and `match` returned, so a faster miner can be shown
// to behave identically (compare the digest before and after a change), plus lines per CPU second
// of the in-process run (repeated runs, best and median).
//
// Run: npx tsc -b packages/drain && node bench/drain-equiv.mjs [--reps 20] [--runs 5]
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemplateMiner, parseLogFormat } from '@hindsight/drain';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.LOGHUB_2K ?? join(here, '..', '..', 'shared', 'data', 'loghub-2k');
const args = process.argv.slice(2);
const argOf = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const settings = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'));
const bodies = [];
for (const ds of Object.values(settings.datasets)) {
  const fmt = parseLogFormat(ds.log_format);
  if (!fmt.ok) throw new Error(fmt.error);
  const text = readFileSync(join(dataDir, ds.log_file), 'utf8').split('\n');
  if (text.at(-1) === '') text.pop();
  for (const line of text) bodies.push(fmt.parser.parse(line)?.content ?? line);
}
const shift = (r) => bodies.map((b) => b.replace(/(?<![A-Za-z])\d+/g, (d) => String(Number(d) + r)));

// Digest: every result of a sequence of adds, matches and the final state.
function digest(lines, options, times) {
  const h = createHash('sha256');
  const miner = new TemplateMiner(options);
  for (let i = 0; i < lines.length; i++) {
    const r = miner.add(lines[i], times ? i * 1000 : undefined);
    h.update(`${r.id} ${r.template} ${r.count} ${r.change} ${r.previousId ?? ''}\n`);
    if (i % 7 === 0) {
      const m = miner.match(lines[(i * 31) % lines.length]);
      h.update(m === undefined ? '-\n' : `${m.id} ${m.template}\n`);
    }
  }
  h.update(JSON.stringify(miner.save()));
  h.update(JSON.stringify(miner.templates()));
  return h.digest('hex').slice(0, 16);
}
const mixed = [
  ...bodies,
  ...shift(1),
  ...bodies,
  ' a  b\tc\r',
  '',
  'x'.repeat(30000),
  Array(300).fill('t').join(' '),
];
console.log('digest order   ', digest(bodies, {}, true));
console.log('digest varied  ', digest(mixed, {}, false));
console.log('digest evict   ', digest(mixed, { maxTemplates: 60, maxBuckets: 3 }, true));
console.log(
  'digest depth/sim',
  digest(mixed, { depth: 6, similarity: 0.5, maxChildren: 3, maxTokens: 12 }, false),
);
console.log('digest nomask  ', digest(mixed, { mask: false, extraMasks: ['blk_-?\\d+'] }, false));

const reps = Number(argOf('--reps') ?? 20);
const runs = Number(argOf('--runs') ?? 5);
for (const varied of [false, true]) {
  const lines = [];
  for (let r = 0; r < reps; r++) lines.push(...(varied ? shift(r) : bodies));
  const rates = [];
  for (let k = 0; k < runs; k++) {
    const miner = new TemplateMiner();
    const c0 = process.cpuUsage();
    for (let i = 0; i < lines.length; i++) miner.add(lines[i]);
    const c = process.cpuUsage(c0);
    rates.push(lines.length / ((c.user + c.system) / 1e6));
  }
  rates.sort((a, b) => b - a);
  const f = (x) => Math.round(x).toLocaleString('en-US');
  console.log(
    `${varied ? 'varied  ' : 'repeated'} ${lines.length} lines: best ${f(rates[0])}, median ${f(rates[Math.floor(runs / 2)])} lines per CPU s`,
  );
}
