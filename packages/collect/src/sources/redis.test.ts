import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type Series } from '@hindsight/core';
import { collect } from '../collect.js';
import { redisSource } from './redis.js';
import { shopServers, tempDir, filesContaining } from '../test-support.js';

type RedisSet = Awaited<ReturnType<Awaited<ReturnType<typeof shopServers>>['startRedisReplicaSet']>>;
let redis: RedisSet;
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  const servers = await shopServers();
  redis = await servers.startRedisReplicaSet({ replicas: 1 });
  tmp = await tempDir('hs-collect-redis-');
  await redis.master.command('SET', 'session:1', 'x');
  await redis.master.command('SET', 'session:2', 'y');
  await redis.master.command('GET', 'session:1');
});
afterAll(async () => {
  await redis?.stop();
  await tmp?.cleanup();
});

async function seriesOf(dir: string): Promise<Series[]> {
  const b = await openBundle(dir);
  const out: Series[] = [];
  for await (const s of b.series()) out.push(s);
  return out;
}

describe('redis source against a real redis-server master and replica', () => {
  it('samples INFO, ROLE and commandstats from the master and the replica it lists', async () => {
    const out = `${tmp.dir}/once`;
    const now = Date.now();
    const r = await collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
      redis: [redis.masterUrl],
      sources: [redisSource],
    });
    expect(r.manifest.sources).toEqual([expect.objectContaining({ name: 'redis', status: 'ok' })]);
    expect(await validateBundle(out)).toEqual([]);
    const series = await seriesOf(out);
    const master = `127.0.0.1:${redis.master.port}`;
    const replica = `127.0.0.1:${(redis.replicas[0] as { port: number }).port}`;
    const clients = series.filter((s) => s.name === 'redis_connected_clients');
    expect(clients.map((s) => [s.labels['node'], s.labels['role']]).sort()).toEqual(
      [
        [master, 'master'],
        [replica, 'replica'],
      ].sort(),
    );
    for (const s of clients) expect(s.labels).toMatchObject({ source: 'redis', component: 'redis' });
    const keys = series.find((s) => s.name === 'redis_db_keys' && s.labels['node'] === master);
    expect(keys?.labels['db']).toBe('db0');
    expect(keys?.points[0]?.[1]).toBe(2);
    const sets = series.find(
      (s) => s.name === 'redis_cmdstat_calls' && s.labels['command'] === 'set' && s.labels['node'] === master,
    );
    expect(sets?.kind).toBe('counter');
    expect(sets?.points[0]?.[1]).toBeGreaterThanOrEqual(2);
    expect(series.find((s) => s.name === 'redis_total_commands_processed')?.kind).toBe('counter');
    expect(
      series.find((s) => s.name === 'redis_connected_slaves' && s.labels['node'] === master)?.points[0]?.[1],
    ).toBe(1);
    expect(
      series.find((s) => s.name === 'redis_master_link_up' && s.labels['node'] === replica)?.points[0]?.[1],
    ).toBe(1);
  });

  it('samples every interval while watching, and stops early (with what it had) when aborted', async () => {
    const out = `${tmp.dir}/watch`;
    const now = Date.now();
    const controller = new AbortController();
    let samples = 0;
    const r = await collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 120_000) },
      redis: [redis.masterUrl],
      watchMs: 60_000,
      intervalMs: 200,
      sources: [redisSource],
      signal: controller.signal,
      onProgress: (e) => {
        if (e.state === 'progress' && e.detail?.startsWith('sample')) samples += 1;
        if (samples >= 3) controller.abort();
      },
    });
    expect(r.interrupted).toBe(true);
    expect(r.manifest.sources[0]).toMatchObject({ name: 'redis', status: 'partial', error: 'interrupted' });
    expect(await validateBundle(out)).toEqual([]);
    const uptime = (await seriesOf(out)).filter((s) => s.name === 'redis_connected_clients');
    expect(uptime).toHaveLength(2);
    for (const s of uptime) expect(s.points.length).toBeGreaterThanOrEqual(3);
  });

  it('records a node that is down as failed, and never writes a URL password', async () => {
    const out = `${tmp.dir}/down`;
    const servers = await shopServers();
    const port = await servers.freePort();
    const now = Date.now();
    const r = await collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
      redis: [`redis://:hunter2secret@127.0.0.1:${port}`],
      sources: [redisSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'redis', status: 'failed' });
    expect(r.manifest.sources[0]?.error).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}`));
    expect(await validateBundle(out)).toEqual([]);
    expect(JSON.stringify(r.warnings)).not.toContain('hunter2secret');
    expect(await filesContaining(out, 'hunter2secret')).toEqual([]);
  });
});
