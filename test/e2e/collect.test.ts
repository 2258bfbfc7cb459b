// `hindsight collect` end to end through the built CLI: the Kubernetes and Helm sources over HTTP
// against recorded API responses, real redis-server (master + replica, with a password) and
// PostgreSQL, a Prometheus that is down, and an interrupted watch.
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type Manifest, type Series } from '@hindsight/core';
import {
  FIXTURE_WINDOW,
  PLANTED,
  filesContaining,
  shopServers,
  startKubeApi,
  type ShopServers,
} from '@hindsight/collect/testing';
import { run } from 'hindsight';
import { bin, hindsight, repoRoot } from './helpers.js';

type Redis = Awaited<ReturnType<ShopServers['startRedisReplicaSet']>>;
type Pg = Awaited<ReturnType<ShopServers['startPostgres']>>;
const REDIS_PASSWORD = 'e2e-planted-redis-pw';

let tmp: string;
let api: Awaited<ReturnType<typeof startKubeApi>>;
let redis: Redis;
let pg: Pg;
let redisUrl: string;
let deadPort: number;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-e2e-collect-'));
  const servers = await shopServers();
  [api, redis, pg, deadPort] = await Promise.all([
    startKubeApi(tmp),
    servers.startRedisReplicaSet({ replicas: 1 }),
    servers.startPostgres(),
    servers.freePort(),
  ]);
  // A password on the master and the replica, so the collector must carry it to the replica it finds.
  await redis.master.command('CONFIG', 'SET', 'requirepass', REDIS_PASSWORD);
  redisUrl = `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.master.port}`;
});
afterAll(async () => {
  await Promise.all([api?.server.close(), redis?.stop(), pg?.stop()]);
  await rm(tmp, { recursive: true, force: true });
});

async function manifestOf(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

describe('hindsight collect', () => {
  it('collects kubernetes and helm (over HTTP against recorded API responses), nginx from a pod, and records a Prometheus that is down', async () => {
    const out = path.join(tmp, 'k8s');
    const r = await hindsight([
      'collect',
      '--kubeconfig',
      api.kubeconfig,
      '-n',
      'shop',
      '--from',
      FIXTURE_WINDOW.from.toISOString(),
      '--to',
      FIXTURE_WINDOW.to.toISOString(),
      '--nginx-pod',
      'shop-nginx-5c6b7d8f9-kq8zt',
      '--prometheus',
      `http://127.0.0.1:${deadPort}`,
      '--promql',
      'up',
      '--out-dir',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bundle {2}.*\(3 of 4 sources; failed: prometheus\)/m);
    expect(r.stderr).toMatch(/sh\.helm\.release\.v1\.shop\.v4.*HINDSIGHT_RELEASE_RECORD/);
    const m = await manifestOf(out);
    expect(m.namespace).toBe('shop');
    expect(m.sources.map((s) => [s.name, s.status])).toEqual([
      ['kubernetes', 'ok'],
      ['helm', 'partial'],
      ['nginx', 'ok'],
      ['prometheus', 'failed'],
    ]);
    expect((await hindsight(['validate', out])).code).toBe(0);
    const b = await openBundle(out);
    expect((await b.pods()).length).toBe(4);
    expect((await b.logs()).map((l) => l.file)).toContain(
      'logs/shop/shop-shop-7d9f8b6c5d-x2p4q/shop.previous.log',
    );
    expect((await b.changes()).find((c) => c.kind === 'scale')?.diff).toEqual([
      { path: 'spec.replicas', from: 2, to: 6 },
    ]);
    for (const s of PLANTED) expect(await filesContaining(out, s)).toEqual([]);
  });

  it('samples Redis (master and the replica it lists) and PostgreSQL, never writing the Redis password', async () => {
    const out = path.join(tmp, 'servers');
    const r = await hindsight([
      'collect',
      '--redis',
      redisUrl,
      '--postgres',
      `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}`,
      '--since',
      '5m',
      '--json',
      '--out-dir',
      out,
    ]);
    expect(r.stderr).not.toMatch(/warning|failed/);
    expect(r.stderr).toMatch(/ok +redis/);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { manifest: Manifest; warnings: unknown[] };
    expect(report.manifest.sources.map((s) => [s.name, s.status])).toEqual([
      ['redis', 'ok'],
      ['postgres', 'ok'],
    ]);
    expect(await validateBundle(out)).toEqual([]);
    const series: Series[] = [];
    for await (const s of (await openBundle(out)).series()) series.push(s);
    const roles = series.filter((s) => s.name === 'redis_connected_clients').map((s) => s.labels['role']);
    expect(roles.sort()).toEqual(['master', 'replica']);
    expect(series.some((s) => s.name === 'pg_database_xact_commit')).toBe(true);
    expect(await filesContaining(out, REDIS_PASSWORD)).toEqual([]);
    expect(r.stdout).not.toContain(REDIS_PASSWORD);
  });

  it('leaves a valid bundle of what it had when interrupted during a watch (exit 130)', async () => {
    const out = path.join(tmp, 'interrupted');
    const child = spawn(
      process.execPath,
      [bin, 'collect', '--redis', redisUrl, '--watch', '10m', '--interval', '200ms', '--out-dir', out],
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' },
    );
    const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
    // The first manifest is written before any source runs; a few samples come soon after.
    for (let i = 0; i < 200; i++) {
      if (
        await access(path.join(out, 'manifest.json')).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const m = await manifestOf(out);
    expect(m.sources).toEqual([
      { name: 'redis', status: 'partial', items: expect.any(Number), error: 'interrupted' },
    ]);
    expect(m.notes?.[0]).toMatch(/interrupted/);
    expect(await validateBundle(out)).toEqual([]);
    const series: Series[] = [];
    for await (const s of (await openBundle(out)).series()) series.push(s);
    expect(series.find((s) => s.name === 'redis_connected_clients')?.points.length).toBeGreaterThanOrEqual(2);
  });

  it('redraws a progress block in place on a terminal', async () => {
    let text = '';
    const sink = (): Writable & { isTTY: boolean } =>
      Object.assign(
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            text += chunk.toString();
            cb();
          },
        }),
        { isTTY: true },
      );
    const code = await run(
      ['collect', '--redis', redisUrl, '--since', '1m', '--out-dir', path.join(tmp, 'tty')],
      {
        stdout: sink(),
        stderr: sink(),
        env: { NO_COLOR: '1' },
      },
    );
    expect(code).toBe(0);
    // Each update clears its line and moves back up over the block it drew before.
    expect(text).toContain('\u001b[2K  ...     redis');
    expect(text).toContain('\u001b[1F');
    // eslint-disable-next-line no-control-regex -- the progress display is ANSI on a terminal
    expect(text).toMatch(/\u001b\[2K {2}ok {6}redis +\d+ items/);
    expect(text).not.toContain(REDIS_PASSWORD);
  });

  it('refuses to run with no source, and with --since and --from together (exit 2)', async () => {
    // No kubeconfig to fall back on (kubectl's $KUBECONFIG and ~/.kube/config): nothing is named.
    const none = await hindsight(['collect', '--out-dir', path.join(tmp, 'none')], {
      HOME: tmp,
      KUBECONFIG: '',
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/nothing to collect.*HINDSIGHT_USAGE/);
    const both = await hindsight([
      'collect',
      '--redis',
      redisUrl,
      '--since',
      '1h',
      '--from',
      '2026-01-01T00:00:00Z',
      '--out-dir',
      path.join(tmp, 'both'),
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--since or --from/);
  });
});
