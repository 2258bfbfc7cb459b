// Ctrl-C during `hindsight demo`: the lab is brought down (every process it started stopped, its
// folder removed) and the demo exits 130, through the built CLI with real processes.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, processesNaming, repoRoot } from './helpers.js';

describe('hindsight demo, interrupted', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stops the lab and exits 130 on Ctrl-C during traffic', { timeout: 200_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'hindsight-e2e-demo-int-'));
    const child = spawn(process.execPath, [bin, 'demo', '--quick', '--dir', dir], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const killer = setTimeout(() => child.kill('SIGKILL'), 190_000);
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/\] traffic /.test(stderr)) resolve();
      });
      child.on('close', () => resolve());
    });
    child.kill('SIGINT');
    const code = await exited;
    clearTimeout(killer);
    expect(stderr).toMatch(/\] down {2}stopping the lab/);
    expect(code, stderr.slice(-2000)).toBe(130);
    expect(await processesNaming(dir)).toEqual([]);
    expect(existsSync(join(dir, 'lab'))).toBe(false);
  });
});
