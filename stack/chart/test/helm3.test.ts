// The chart under Helm 3 (.tools/bin/helm3, helm 3.17 from scripts/install-helm.sh) as well as Helm 4:
// most clusters still run Helm 3. Both must lint it cleanly, render the very same objects from the
// same values, and refuse the same invalid values.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const execFileP = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const chartDir = join(repoRoot, 'stack/chart');
const helm4 = join(repoRoot, '.tools/bin/helm');
const helm3 = join(repoRoot, '.tools/bin/helm3');

async function helm(bin: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await execFileP(bin, args, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

const sets = (values: Record<string, string | number | boolean>): string[] =>
  Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${String(v)}`]);

// Secrets the chart would otherwise generate at random, so that two renders can be compared.
const fixedSecrets = sets({
  'shop.sessionSecret': 'a-session-secret',
  'postgresql.auth.password': 'a-password',
});

const overrides: Array<Record<string, string | number | boolean>> = [
  {},
  {
    'shop.session.readFrom': 'replicas',
    'shop.session.readYourWrites': false,
    'redis.replica.replicaCount': 6,
    'redis.replica.readinessRequiresSync': false,
  },
  {
    'redis.master.persistence.enabled': false,
    'redis.master.maxmemory': '200mb',
    'redis.master.maxmemoryPolicy': 'allkeys-lru',
    'redis.auth.password': 'pw',
    'nginx.proxyReadTimeout': '2s',
  },
];

describe('the chart under Helm 3 and Helm 4', () => {
  it('has helm 3 installed (npm run setup puts it in .tools/bin)', () => {
    expect(existsSync(helm3)).toBe(true);
  });

  it('lints cleanly with --strict under Helm 3', async () => {
    const r = await helm(helm3, ['lint', '--strict', chartDir]);
    expect(r.out).not.toMatch(/\[ERROR\]|\[WARNING\]/);
    expect(r.code).toBe(0);
  });

  it.each(overrides.map((o) => [JSON.stringify(o), o] as const))(
    'renders the same objects under both with %s',
    async (_name, values) => {
      const args = ['template', 'shop', chartDir, ...fixedSecrets, ...sets(values)];
      const [three, four] = await Promise.all([helm(helm3, args), helm(helm4, args)]);
      expect(three.code, three.out).toBe(0);
      expect(four.code, four.out).toBe(0);
      expect(three.out).toContain('kind: StatefulSet');
      expect(three.out).toBe(four.out);
    },
  );

  it('refuses an invalid value under Helm 3, naming the key', async () => {
    const r = await helm(helm3, [
      'template',
      'shop',
      chartDir,
      ...sets({ 'redis.replica.replicaCount': -1 }),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/replicaCount/);
  });
});
