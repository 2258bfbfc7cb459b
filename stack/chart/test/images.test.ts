// Static checks of the shop Dockerfile: no Docker daemon runs here, so the image is not built; these
// pin down what the chart and the platform contract rely on.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dockerfile = readFileSync(join(repoRoot, 'stack/images/Dockerfile.shop'), 'utf8');

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; rest: string }[] {
  const joined = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), rest: rest.join(' ') };
    });
}

const ins = instructions(dockerfile);
const lastFrom = ins.map((i) => i.op).lastIndexOf('FROM');
const runtime = ins.slice(lastFrom);

describe('Dockerfile.shop', () => {
  it('builds from a node 20 bookworm-slim image pinned by exact tag', () => {
    const arg = ins.find((i) => i.op === 'ARG' && i.rest.startsWith('NODE_IMAGE='));
    expect(arg?.rest).toMatch(/^NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    const froms = ins.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(3);
    for (const f of froms) expect(f.rest).toMatch(/^(\$\{NODE_IMAGE\}|build-deps) AS [a-z-]+$/);
  });

  it('runs the final stage as a numeric non-root user', () => {
    const users = runtime.filter((i) => i.op === 'USER');
    expect(users).toHaveLength(1);
    expect(users[0]?.rest).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    // No instruction after USER switches back to root.
    const afterUser = runtime.slice(runtime.findIndex((i) => i.op === 'USER'));
    expect(afterUser.some((i) => i.op === 'RUN')).toBe(false);
  });

  it('checks /healthz and starts the shop entry point on port 8080', () => {
    const health = runtime.find((i) => i.op === 'HEALTHCHECK');
    expect(health?.rest).toContain('/healthz');
    const cmd = runtime.find((i) => i.op === 'CMD');
    expect(JSON.parse(cmd?.rest ?? '[]')).toEqual(['node', 'stack/shop/dist/main.js']);
    expect(runtime.find((i) => i.op === 'EXPOSE')?.rest).toBe('8080');
    // The entry point is the compiled form of the shop's main module.
    expect(existsSync(join(repoRoot, 'stack/shop/src/main.ts'))).toBe(true);
  });

  it('keeps node_modules, dist and .git out of the build context', () => {
    const ignore = readFileSync(join(repoRoot, 'stack/images/Dockerfile.shop.dockerignore'), 'utf8');
    for (const p of ['**/node_modules', '**/dist', '.git', '.tools']) expect(ignore.split('\n')).toContain(p);
  });

  it('is the image the chart deploys, and the chart pins its other images by exact tag', () => {
    const values = parse(readFileSync(join(repoRoot, 'stack/chart/values.yaml'), 'utf8')) as {
      shop: { image: { repository: string } };
      redis: { image: { tag: string } };
      postgresql: { image: { tag: string } };
      nginx: { image: { tag: string } };
    };
    expect(dockerfile).toContain(`-t ${values.shop.image.repository}:`);
    expect(values.redis.image.tag).toMatch(/^\d+\.\d+\.\d+/);
    expect(values.postgresql.image.tag).toMatch(/^15\.\d+/);
    expect(values.nginx.image.tag).toMatch(/^\d+\.\d+\.\d+/);
  });
});
