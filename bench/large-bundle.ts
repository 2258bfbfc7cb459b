// The large synthetic bundle of bench:investigate and bench:serve: 10 pods over 1 hour, about 4
// million log lines at the default 300 requests per second, with three changes and a traffic
// burst. Written once into a temp folder named by the rate, and reused by either bench.
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { storyScenario, writeSyntheticBundle } from '@hindsight/investigate';

export const rps = Number(process.env['HINDSIGHT_BENCH_RPS'] ?? 300);
export const largeBundleDir = path.join(os.tmpdir(), `hs-bench-investigate-${rps}`);

/** Writes the bundle unless it is there already; returns the lines written, or undefined if reused. */
export async function ensureLargeBundle(): Promise<{ lines: number; seconds: number } | undefined> {
  if (await stat(path.join(largeBundleDir, 'manifest.json')).catch(() => undefined)) return undefined;
  const t = performance.now();
  const scenario = storyScenario({
    seed: 42,
    durationMin: 60,
    rps,
    shopPods: 5,
    changes: [
      { atMin: 15, revision: 5, diff: [{ path: 'shop.logLevel', from: 'info', to: 'debug' }] },
      { atMin: 30, revision: 6, diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }] },
      { atMin: 45, revision: 7, diff: [{ path: 'shop.podLabels.team', from: 'payments', to: 'checkout' }] },
    ],
    bursts: [{ atMin: 5, minutes: 4, factor: 2 }],
  });
  const { lines } = await writeSyntheticBundle(largeBundleDir, scenario);
  return { lines, seconds: (performance.now() - t) / 1000 };
}
