// The redis source's connection retries, against a real redis-server (the shop's test harness):
// one started only after the collection began, as a Redis that restarts is, and one that refuses
// the password given.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '@hindsight/core';
import { collect } from '../collect.js';
import type { ProgressEvent } from '../source.js';
import { filesContaining, shopServers, tempDir } from '../test-support.js';
import { redisSource } from './redis.js';

type RedisSet = Awaited<ReturnType<Awaited<ReturnType<typeof shopServers>>['startRedisReplicaSet']>>;
let redis: RedisSet;
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  redis = await (await shopServers()).startRedisReplicaSet({ replicas: 0 });
  tmp = await tempDir('hs-collect-redis-connect-');
});
afterAll(async () => {
  await redis?.stop();
  await tmp?.cleanup();
});

/**
 * Waits below 100 ms between tries, up to 200 tries over 15 s: the tries outlast a server started a
 * second late (about 2.5 s of waits by the 50th try, give or take 0.2 s), however the random waits fall.
 */
const PATIENT = { attempts: 200, baseMs: 100, maxDelayMs: 100, budgetMs: 15_000 };
const now = Date.now();
const window = { from: new Date(now - 60_000), to: new Date(now + 60_000) };

describe('redis source connecting to a Redis that restarts or refuses the password', () => {
  it('reads a Redis that starts a second after the collection began, and notes its retries', async () => {
    await redis.master.stop();
    const out = `${tmp.dir}/late`;
    const events: ProgressEvent[] = [];
    const collecting = collect({
      output: out,
      window,
      redis: [redis.masterUrl],
      sources: [redisSource],
      retry: PATIENT,
      onProgress: (e) => events.push(e),
    });
    await sleep(1000);
    await redis.master.start();
    const r = await collecting;
    expect(r.manifest.sources[0]).toMatchObject({ name: 'redis', status: 'ok' });
    expect(r.warnings).toEqual([]);
    const b = await openBundle(out);
    expect(b.manifest.notes).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^redis: \\d+ retries after transient failures \\(ECONNREFUSED x\\d+\\) at ${redis.masterUrl}$`,
        ),
      ),
    );
    const clients = [];
    for await (const s of b.series()) if (s.name === 'redis_connected_clients') clients.push(s);
    await b.close();
    expect(clients.map((s) => s.labels['node'])).toEqual([`127.0.0.1:${redis.master.port}`]);
    expect(events.map((e) => e.detail)).toContainEqual(
      expect.stringMatching(new RegExp(`^${redis.masterUrl}: ECONNREFUSED, try 2 of 200 in 0\\.\\d s$`)),
    );
  });

  // Last: the password set here stays (the harness's commands do not authenticate).
  it('fails at once for a wrong password, naming the node, without retrying', async () => {
    await redis.master.command('CONFIG', 'SET', 'requirepass', 'the-right-one');
    const out = `${tmp.dir}/wrongpass`;
    const events: ProgressEvent[] = [];
    const r = await collect({
      output: out,
      window,
      redis: [`redis://:not-the-password@127.0.0.1:${redis.master.port}`],
      sources: [redisSource],
      retry: PATIENT,
      onProgress: (e) => events.push(e),
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'redis', status: 'failed' });
    expect(r.manifest.sources[0]?.error).toBe(
      `no Redis node answered: 127.0.0.1:${redis.master.port}: WRONGPASS invalid username-password pair or user is disabled.`,
    );
    expect(events.filter((e) => e.detail?.includes(', try '))).toEqual([]);
    const b = await openBundle(out);
    expect((b.manifest.notes ?? []).filter((n) => n.includes('retries'))).toEqual([]);
    await b.close();
    expect(await filesContaining(out, 'not-the-password')).toEqual([]);
  });
});
