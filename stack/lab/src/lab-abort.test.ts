// Ctrl-C during `lab up`, through the public Lab API with real processes: the rollout stops, the
// revision is recorded failed, and `down` still finds and stops every process that was started.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Lab, type LabStatus } from './lab.js';
import { pidAlive, waitFor } from './test-support.js';

const execFileP = promisify(execFile);

describe('lab: up, aborted', () => {
  let dir = '';
  let lab: Lab | undefined;
  afterAll(async () => {
    await lab?.down({ purge: true }).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'stops the rollout, records the revision failed, and leaves down no orphan to miss',
    { timeout: 120_000 },
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'hindsight-lab-abort-'));
      const l = new Lab({ dir, timeScale: 0.2 });
      lab = l;
      const seen = new Set<number>();
      const remember = (s: LabStatus) => {
        for (const p of s.pods) for (const pid of p.pids) seen.add(pid);
        if (s.supervisorPid) seen.add(s.supervisorPid);
      };
      const status = () => l.status().catch(() => undefined);
      // A replica over its memory limit is never ready: unaborted, `up` would wait for it until the
      // rollout timed out and then fail with "pods not ready".
      const abort = new AbortController();
      const up = l.up({ set: ['redis.replica.memoryLimit=1Mi'], signal: abort.signal });
      up.catch(() => undefined);
      await waitFor(
        async () => (await status())?.pods.some((p) => p.name === 'shop-redis-replica-0') ?? false,
        'the first replica pod',
        60_000,
      );
      remember((await l.status()) as LabStatus);
      abort.abort();

      await expect(up).rejects.toMatchObject({ name: 'AbortError' });
      expect((await l.history()).at(-1)).toMatchObject({
        revision: 1,
        status: 'failed',
        description: 'install failed: interrupted',
      });
      // The supervisor gave up on the revision too, instead of rolling on toward the shop pods.
      await waitFor(async () => (await l.status()).applying === undefined, 'the rollout to stop', 60_000);
      const after = await l.status();
      remember(after);
      expect(after.lastError).toMatch(/stopped/);
      expect(after.pods.some((p) => p.component === 'shop')).toBe(false);

      const r = await l.down();
      expect(r.stopped).toBe(true);
      expect([...seen].filter(pidAlive)).toEqual([]);
      const ps = await execFileP('ps', ['-eo', 'pid,args']);
      expect(ps.stdout.split('\n').filter((l) => l.includes(dir))).toEqual([]);
    },
  );
});
