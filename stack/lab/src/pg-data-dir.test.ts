// The folder the lab gives PostgreSQL outside its state folder (/var/tmp/hindsight-lab-pg-<hash>)
// has a predictable name in a world-writable place: as root, the lab must never follow a symlink
// planted there, nor take over a folder another user made (issue #16).
import { existsSync, readFileSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processSpec, type PodContext } from './programs/index.js';
import { ensurePrivateDir } from './paths.js';

const postgres = readFileSync('/etc/passwd', 'utf8')
  .split('\n')
  .map((l) => l.split(':'))
  .find((f) => f[0] === 'postgres');
const asRoot = process.getuid?.() === 0 && postgres !== undefined;
if (!asRoot) console.warn('skipping the lab data folder checks: they need root and a postgres user');
const ids = { uid: Number(postgres?.[2]), gid: Number(postgres?.[3]) };

const temps: string[] = [];
async function temp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hs-lab-pgdir-'));
  temps.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

function podContext(claim: string): PodContext {
  return {
    pod: 'shop-postgresql-0',
    namespace: 'shop',
    mounts: [{ mountPath: '/var/lib/postgresql/data', local: claim }],
    ports: new Map([[5432, 1]]),
    portNames: new Map(),
    serviceLocalPort: () => undefined,
    serviceNames: () => [],
    serviceEndpoints: () => [],
    secretValue: () => undefined,
    configMapValue: () => undefined,
    shopEntry: '/nonexistent',
  };
}

describe.skipIf(!asRoot)("the lab's PostgreSQL data folder in /var/tmp, as root", () => {
  it('refuses a symlink planted at its predictable name, and hands nothing to the postgres user', async () => {
    const claim = path.join(await temp(), `claim-${process.pid}-${Date.now()}`);
    const spec = processSpec(podContext(claim), {
      name: 'postgresql',
      image: 'postgres:15',
      ports: [{ containerPort: 5432 }],
    });
    const outside = path.dirname(spec.env['PGDATA'] as string);
    expect(outside).toMatch(/^\/var\/tmp\/hindsight-lab-pg-[0-9a-f]{16}$/);
    const victim = await temp();
    await symlink(victim, outside);
    try {
      await expect(spec.prepare?.()).rejects.toMatchObject({
        code: 'HINDSIGHT_LAB',
        message: expect.stringMatching(/symbolic link/),
      });
      expect((await stat(victim)).uid).toBe(0);
      expect(existsSync(path.join(victim, 'pgdata'))).toBe(false);
    } finally {
      await rm(outside, { force: true });
    }
  });

  it('refuses a folder another user made there, and takes a fresh or its own one', async () => {
    const dir = path.join(await temp(), 'pg');
    await mkdir(dir);
    const { chown } = await import('node:fs/promises');
    await chown(dir, 4242, 4242);
    await expect(ensurePrivateDir(dir, ids)).rejects.toThrow(/belongs to another user \(uid 4242\)/);
    expect((await lstat(dir)).uid).toBe(4242);
    const fresh = path.join(path.dirname(dir), 'fresh');
    await ensurePrivateDir(fresh, ids);
    await ensurePrivateDir(fresh, ids);
    const info = await lstat(fresh);
    expect([info.uid, info.mode & 0o777]).toEqual([ids.uid, 0o700]);
  });

  it("starts afresh on a new claim when an earlier lab at the same path left its data, and keeps a claim's own", async () => {
    const claim = path.join(await temp(), `claim-${process.pid}-${Date.now()}`);
    const spec = processSpec(podContext(claim), {
      name: 'postgresql',
      image: 'postgres:15',
      env: [{ name: 'POSTGRES_PASSWORD', value: 'now' }],
      ports: [{ containerPort: 5432 }],
    });
    const pgdata = spec.env['PGDATA'] as string;
    const outside = path.dirname(pgdata);
    // What a lab stopped without `lab down` leaves: a cluster made with its own password.
    await ensurePrivateDir(outside, ids);
    await mkdir(pgdata, { recursive: true });
    await writeFile(path.join(pgdata, 'PG_VERSION'), '15\n');
    await writeFile(path.join(pgdata, 'earlier-lab'), '');
    try {
      await spec.prepare?.();
      expect(existsSync(path.join(pgdata, 'earlier-lab'))).toBe(false);
      expect(existsSync(path.join(pgdata, 'postgresql.conf'))).toBe(true);
      // The same claim again (a restarted pod): its data stays.
      await writeFile(path.join(pgdata, 'this-lab'), '');
      await spec.prepare?.();
      expect(existsSync(path.join(pgdata, 'this-lab'))).toBe(true);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
