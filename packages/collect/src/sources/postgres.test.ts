import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openBundle, validateBundle, type Series } from '@hindsight/core';
import { collect } from '../collect.js';
import { postgresSource } from './postgres.js';
import { shopServers, tempDir } from '../test-support.js';

type Pg = Awaited<ReturnType<Awaited<ReturnType<typeof shopServers>>['startPostgres']>>;
let server: Pg;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let holder: pg.Client;

beforeAll(async () => {
  server = await (await shopServers()).startPostgres({ user: 'shop', database: 'shop' });
  tmp = await tempDir('hs-collect-pg-');
  await server.psql('CREATE TABLE orders (id int primary key, state text)');
  await server.psql("INSERT INTO orders VALUES (1, 'pending')");
  // A session left idle in a transaction holding a row lock, as a stuck checkout would.
  holder = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    database: server.database,
  });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query("UPDATE orders SET state = 'paying' WHERE id = 1");
});
afterAll(async () => {
  await holder?.end().catch(() => undefined);
  await server?.stop();
  await tmp?.cleanup();
});

describe('postgres source against a real PostgreSQL 15 cluster', () => {
  it('writes pg_stat_database counters, activity by state and the idle-in-transaction session', async () => {
    const out = `${tmp.dir}/pg`;
    const now = Date.now();
    const r = await collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
      postgres: `postgres://${server.user}@${server.host}:${server.port}/${server.database}`,
      sources: [postgresSource],
    });
    expect(r.manifest.sources).toEqual([expect.objectContaining({ name: 'postgres', status: 'ok' })]);
    expect(await validateBundle(out)).toEqual([]);
    const series: Series[] = [];
    for await (const s of (await openBundle(out)).series()) series.push(s);
    const node = `${server.host}:${server.port}`;
    for (const s of series)
      expect(s.labels).toMatchObject({ source: 'postgres', component: 'postgresql', node });
    const commits = series.find((s) => s.name === 'pg_database_xact_commit' && s.labels['db'] === 'shop');
    expect(commits?.kind).toBe('counter');
    expect(commits?.points[0]?.[1]).toBeGreaterThan(0);
    expect(series.find((s) => s.name === 'pg_idle_in_transaction_count')?.points[0]?.[1]).toBe(1);
    expect(
      series.find((s) => s.name === 'pg_activity_count' && s.labels['state'] === 'idle in transaction')
        ?.points[0]?.[1],
    ).toBe(1);
    expect(
      series.find((s) => s.name === 'pg_idle_in_transaction_max_age_seconds')?.points[0]?.[1],
    ).toBeGreaterThanOrEqual(0);
  });

  it('counts a session waiting on the lock the idle transaction holds', async () => {
    const waiter = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.user,
      database: server.database,
    });
    await waiter.connect();
    const blocked = waiter.query("UPDATE orders SET state = 'cancelled' WHERE id = 1").catch(() => undefined);
    try {
      // Wait until the server shows the second session blocked (a state, not a duration).
      for (let i = 0; i < 100; i++) {
        if ((await server.psql('SELECT count(*) FROM pg_locks WHERE NOT granted')) !== '0') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const out = `${tmp.dir}/locks`;
      const now = Date.now();
      await collect({
        output: out,
        window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
        postgres: `postgres://${server.user}@${server.host}:${server.port}/${server.database}`,
        sources: [postgresSource],
      });
      const series: Series[] = [];
      for await (const s of (await openBundle(out)).series()) series.push(s);
      expect(series.find((s) => s.name === 'pg_locks_waiting')?.points[0]?.[1]).toBeGreaterThanOrEqual(1);
      expect(series.find((s) => s.name === 'pg_activity_waiting_on_lock')?.points[0]?.[1]).toBe(1);
    } finally {
      await holder.query('ROLLBACK');
      await blocked;
      await waiter.end();
    }
  });

  it('records a server that is down as failed without writing its password', async () => {
    const port = await (await shopServers()).freePort();
    const out = `${tmp.dir}/down`;
    const now = Date.now();
    const r = await collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
      postgres: `postgres://shop:s3cretpw@127.0.0.1:${port}/shop`,
      sources: [postgresSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'postgres', status: 'failed' });
    expect(r.manifest.sources[0]?.error).toMatch(/cannot connect/);
    expect(JSON.stringify(r)).not.toContain('s3cretpw');
    expect(await validateBundle(out)).toEqual([]);
  });
});
