// How often the story's change ranks first among decoys placed at random times, on synthetic
// bundles (seeded, so the run is reproducible). Decoys: log levels, labels, unrelated components,
// and a behaviour change in the shop that does nothing here. Prints top-1 and top-3 counts.
// Run: node --import tsx bench/investigate-decoys.ts   (HINDSIGHT_BENCH_RUNS=20 by default)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  investigate,
  storyScenario,
  writeSyntheticBundle,
  type SyntheticChange,
} from '@hindsight/investigate';

const runs = Number(process.env['HINDSIGHT_BENCH_RUNS'] ?? 20);
const decoys: Array<SyntheticChange['diff']> = [
  [{ path: 'shop.logLevel', from: 'info', to: 'debug' }],
  [{ path: 'shop.podLabels.team', from: 'payments', to: 'checkout' }],
  [{ path: 'redis.logLevel', from: 'notice', to: 'warning' }],
  [{ path: 'postgresql.maxConnections', from: 100, to: 120 }],
  [{ path: 'nginx.proxyConnectTimeout', from: '5s', to: '6s' }],
  [{ path: 'shop.session.ttlSeconds', from: 1800, to: 3600 }],
];

let a = 12345;
const rand = (): number => {
  a = (a * 1103515245 + 12345) % 2147483648;
  return a / 2147483648;
};
const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-bench-decoys-'));
let top1 = 0;
let top3 = 0;
try {
  for (let i = 0; i < runs; i++) {
    const real = 12 + rand() * 14;
    const times = [2 + rand() * (real - 2.5), real - 0.5 - rand() * 3, real + 0.5 + rand() * (38 - real)].map(
      (t) => Math.round(t * 60) / 60,
    );
    const changes = [
      ...times.map((t) => ({ atMin: t, diff: pick(decoys) })),
      { atMin: Math.round(real * 60) / 60, diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }] },
    ]
      .sort((x, y) => x.atMin - y.atMin)
      .map((c, k) => ({ ...c, revision: 5 + k }));
    const dir = path.join(tmp, `run${i}`);
    await writeSyntheticBundle(dir, storyScenario({ seed: 100 + i, rps: 3, changes }));
    const report = await investigate(dir);
    const rank =
      report.hypotheses.findIndex(
        (h) => h.cause.type === 'change' && h.cause.paths.includes('redis.replica.replicaCount'),
      ) + 1;
    if (rank === 1) top1++;
    if (rank >= 1 && rank <= 3) top3++;
    const order = changes.map((c) => `${c.atMin.toFixed(1)}m ${c.diff[0]?.path}`).join(', ');
    console.log(
      `run ${i}: rank ${rank || '-'}  [${order}]${rank === 1 ? '' : `  top: ${report.hypotheses[0]?.title}`}`,
    );
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
console.log(`\ntop-1 ${top1}/${runs}, top-3 ${top3}/${runs}`);
