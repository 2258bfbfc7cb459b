// Old and new builds of @hindsight/drain compared in one process, alternating on the same lines,
// so that the load of other jobs on the machine falls on both alike: CPU time of each full pass,
// best of N per build. Lines are the Loghub-2k message bodies repeated (--corpus repeated) or
// repeated with every number shifted per repetition (--corpus varied), held as views of one string.
//
// Build the old one elsewhere first (for example `git worktree add /tmp/old <rev>` and `npx tsc -b
// packages/drain` there), then:
// node bench/drain-ab.mjs /tmp/old/packages/drain/dist packages/drain/dist [--corpus varied] [--reps 20] [--runs 6]
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.LOGHUB_2K ?? join(here, '..', '..', 'shared', 'data', 'loghub-2k');
const args = process.argv.slice(2);
const argOf = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const builds = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
if (builds.length === 0) {
  console.error('usage: node bench/drain-ab.mjs DIST_DIR [DIST_DIR ...] [--corpus varied|repeated]');
  process.exit(2);
}
const mods = await Promise.all(builds.map((b) => import(join(resolve(b), 'index.js'))));
const settings = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'));
const bodies = [];
for (const ds of Object.values(settings.datasets)) {
  const fmt = mods[0].parseLogFormat(ds.log_format);
  if (!fmt.ok) throw new Error(fmt.error);
  const text = readFileSync(join(dataDir, ds.log_file), 'utf8').split('\n');
  if (text.at(-1) === '') text.pop();
  for (const line of text) bodies.push(fmt.parser.parse(line)?.content ?? line);
}
const reps = Number(argOf('--reps', 20));
const runs = Number(argOf('--runs', 6));
const corpus = argOf('--corpus', 'varied');
const shift = (r) => bodies.map((b) => b.replace(/(?<![A-Za-z])\d+/g, (d) => String(Number(d) + r)));
const parts = [];
for (let r = 0; r < reps; r++) parts.push((corpus === 'varied' && r > 0 ? shift(r) : bodies).join('\n'));
const lines = parts.join('\n').split('\n');

const best = builds.map(() => Infinity);
for (let k = 0; k < runs; k++) {
  for (let b = 0; b < builds.length; b++) {
    const miner = new mods[b].TemplateMiner();
    const c0 = process.cpuUsage();
    for (let i = 0; i < lines.length; i++) miner.add(lines[i]);
    const c = process.cpuUsage(c0);
    best[b] = Math.min(best[b], (c.user + c.system) / 1e6);
  }
}
console.log(
  `${corpus}, ${lines.length} lines, best of ${runs}; load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
for (let b = 0; b < builds.length; b++) {
  console.log(
    `${builds[b]}: ${Math.round(lines.length / best[b]).toLocaleString('en-US')} lines per CPU second`,
  );
}
