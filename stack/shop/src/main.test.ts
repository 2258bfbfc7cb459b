import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShopTestStack, type ShopTestStack } from './testing/stack.js';

// The built entry point, as the image and the lab run it (tests run after `tsc -b`).
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

let stack: ShopTestStack;
beforeAll(async () => {
  stack = await startShopTestStack({ replicas: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return { child, lines, stderr: () => stderr };
}

describe('node dist/main.js', () => {
  it('exits with a line naming the bad variable when the config is invalid', async () => {
    const { child, stderr } = run({ REDIS_MASTER_URL: 'localhost:6379' });
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(78);
    expect(stderr()).toContain('REDIS_MASTER_URL: expected redis://host:port');
    expect(stderr()).toContain('SESSION_SECRET: is required');
  });

  it('migrates, seeds, listens, answers /readyz, and shuts down cleanly on SIGTERM', async () => {
    const { child, lines } = run(stack.env({ SWEEP_INTERVAL_SECONDS: '1' }));
    let url: string | undefined;
    for (let i = 0; i < 200 && url === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const listening = lines.find(
        (l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('Server listening at'),
      );
      url = listening ? (listening['msg'] as string).replace('Server listening at ', '') : undefined;
    }
    expect(url).toBeDefined();
    let ready = await fetch(`${url}/readyz`);
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await fetch(`${url}/readyz`);
    }
    expect(ready.status).toBe(200);
    expect(lines.some((l) => l['event'] === 'migrated')).toBe(true);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number];
    expect(code).toBe(0);
    expect(lines.some((l) => l['event'] === 'shutdown')).toBe(true);
    expect(new Set(lines.filter((l) => l['event'] === 'request').map((l) => l['route']))).toEqual(
      new Set(['/readyz']),
    );
  });
});
