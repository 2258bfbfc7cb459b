// Ctrl-C during `hindsight lab up`, through the built CLI with real processes: it stops waiting
// for the rollout and exits 130, says how to see and stop what it started, and `lab down` then
// leaves no process behind.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, hindsight, processesNaming, repoRoot } from './helpers.js';

/** Polls `lab status --json` until a pod named `pod` is listed. */
async function untilPod(dir: string, pod: string, exited: () => boolean): Promise<void> {
  const until = Date.now() + 90_000;
  while (Date.now() < until && !exited()) {
    const r = await hindsight(['lab', 'status', '--json', '--dir', dir]);
    if (
      r.code === 0 &&
      (JSON.parse(r.stdout) as { pods: { name: string }[] }).pods.some((p) => p.name === pod)
    )
      return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no pod ${pod} in the lab at ${dir}`);
}

describe('hindsight lab up, interrupted', () => {
  let dir = '';
  afterAll(async () => {
    if (!dir) return;
    await hindsight(['lab', 'down', '--purge', '--dir', dir]);
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'stops the rollout and exits 130 on Ctrl-C, and down stops what it started',
    { timeout: 180_000 },
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'hindsight-e2e-lab-int-'));
      // A replica over its memory limit is never ready, so the rollout cannot finish before Ctrl-C.
      const args = [
        'lab',
        'up',
        '--dir',
        dir,
        '--time-scale',
        '0.2',
        '--set',
        'redis.replica.memoryLimit=1Mi',
      ];
      const child = spawn(process.execPath, [bin, ...args], {
        cwd: repoRoot,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let done = false;
      const exited = new Promise<number | null>((resolve) =>
        child.on('close', (code) => {
          done = true;
          resolve(code);
        }),
      );
      const killer = setTimeout(() => child.kill('SIGKILL'), 170_000);
      await untilPod(dir, 'shop-redis-replica-0', () => done);
      child.kill('SIGINT');
      const code = await exited;
      clearTimeout(killer);

      expect(code, stderr.slice(-2000)).toBe(130);
      expect(stderr).toContain(`interrupted the rollout stopped where it was`);
      expect(stderr).toContain(`hindsight lab down --dir ${dir}`);
      const history = await hindsight(['lab', 'history', '--json', '--dir', dir]);
      expect(JSON.parse(history.stdout)).toMatchObject([{ revision: 1, status: 'failed' }]);

      const down = await hindsight(['lab', 'down', '--dir', dir]);
      expect(down.code, down.stderr).toBe(0);
      expect(await processesNaming(dir)).toEqual([]);
    },
  );
});
