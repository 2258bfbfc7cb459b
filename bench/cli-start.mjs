// How long `hindsight --version` takes to start, and its peak memory, against the same start with the
// Kubernetes client loaded first (what every command paid before the client was loaded lazily, only
// by commands that talk to a cluster). Each start is its own process; the two alternate.
// Run: npx tsc -b && node bench/cli-start.mjs [runs=15]
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(repo, 'packages/cli/dist/bin.js');
const runs = Number(process.argv[2] ?? 15);
// Resolved from the collect package, which depends on it.
const client = pathToFileURL(
  createRequire(join(repo, 'packages/collect/package.json')).resolve('@kubernetes/client-node'),
).href;

/** Wall ms and peak RSS (MB) of one start, read by GNU time. */
function start(preload) {
  const args = ['-f', '%e %M', process.execPath, ...(preload ? ['--import', client] : []), bin, '--version'];
  const r = spawnSync('/usr/bin/time', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`start failed: ${r.stderr}`);
  const [s, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { ms: s * 1000, mb: kb / 1024 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const lazy = [];
const eager = [];
for (let i = 0; i < runs; i++) {
  lazy.push(start(false));
  eager.push(start(true));
}
const row = (name, xs) =>
  `| ${name} | ${median(xs.map((x) => x.ms)).toFixed(0)} | ${median(xs.map((x) => x.mb)).toFixed(0)} |`;
console.log(
  `node ${process.version}; ${runs} starts each, alternating; load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log('| start | median wall (ms) | median peak RSS (MB) |\n|---|---|---|');
console.log(row('hindsight --version (client loaded lazily)', lazy));
console.log(row('same, Kubernetes client loaded first (before)', eager));
console.log(
  `ratio before / now: ${(median(eager.map((x) => x.ms)) / median(lazy.map((x) => x.ms))).toFixed(2)}x time, ${(median(eager.map((x) => x.mb)) / median(lazy.map((x) => x.mb))).toFixed(2)}x memory`,
);
