import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openBundle, validateBundle, type Series } from '@hindsight/core';
import { collect } from '../collect.js';
import { postgresSource } from './postgres.js';
import type { ProgressEvent } from '../source.js';
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
      // Its four tries without the waits: refused each time.
      retry: { attempts: 4, baseMs: 5, maxDelayMs: 50, budgetMs: 2000 },
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'postgres', status: 'failed' });
    expect(r.manifest.sources[0]?.error).toMatch(
      new RegExp(
        `^cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED 127\\.0\\.0\\.1:${port} \\(4 tries over \\d+\\.\\d s\\)$`,
      ),
    );
    expect(JSON.stringify(r)).not.toContain('s3cretpw');
    expect(await validateBundle(out)).toEqual([]);
  });
});

/**
 * Waits below 100 ms between tries, up to 200 tries over 15 s: the tries outlast a server started a
 * second late, however the random waits fall (about 5 s of waits by the 100th try, give or take 0.3 s).
 */
const PATIENT = { attempts: 200, baseMs: 100, maxDelayMs: 100, budgetMs: 15_000 };

async function notesOf(dir: string): Promise<string[]> {
  const b = await openBundle(dir);
  const notes = b.manifest.notes ?? [];
  await b.close();
  return notes;
}

describe('postgres source connecting to a server that restarts or refuses the login', () => {
  it('fails at once for a role that may not log in, naming the server, without retrying', async () => {
    await server.psql('CREATE ROLE visitor NOLOGIN');
    const out = `${tmp.dir}/nologin`;
    const events: ProgressEvent[] = [];
    const now = Date.now();
    const r = await collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
      postgres: `postgres://visitor:pw@${server.host}:${server.port}/${server.database}`,
      sources: [postgresSource],
      retry: PATIENT,
      onProgress: (e) => events.push(e),
    });
    expect(r.manifest.sources[0]).toMatchObject({
      name: 'postgres',
      status: 'failed',
      error: `cannot connect to PostgreSQL at ${server.host}:${server.port}: role "visitor" is not permitted to log in`,
    });
    expect(events.filter((e) => e.detail?.includes(', try '))).toEqual([]);
    expect((await notesOf(out)).filter((n) => n.includes('retries'))).toEqual([]);
  });

  // Last in the file: it restarts the cluster, which ends every session the tests above opened.
  it('reads a PostgreSQL that starts a second after the collection began, and notes its retries', async () => {
    await holder.end().catch(() => undefined);
    server.kill('SIGINT');
    await server.exited();
    const out = `${tmp.dir}/late`;
    const events: ProgressEvent[] = [];
    const now = Date.now();
    const collecting = collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
      postgres: `postgres://${server.user}@${server.host}:${server.port}/${server.database}`,
      sources: [postgresSource],
      retry: PATIENT,
      onProgress: (e) => events.push(e),
    });
    await sleep(1000);
    await server.start();
    const r = await collecting;
    const node = `${server.host}:${server.port}`;
    expect(r.manifest.sources[0]).toMatchObject({ name: 'postgres', status: 'ok' });
    expect(r.warnings).toEqual([]);
    // Refused while it was down; "the database system is starting up" (57P03) while it recovered, if a try fell then.
    expect(await notesOf(out)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^postgres: \\d+ retries after transient failures \\(ECONNREFUSED x\\d+(, SQLSTATE 57P03 x\\d+)?\\) at ${node}$`,
        ),
      ),
    );
    expect(events.map((e) => e.detail)).toContainEqual(
      expect.stringMatching(new RegExp(`^${node}: ECONNREFUSED, try 2 of 200 in 0\\.\\d s$`)),
    );
    const series: Series[] = [];
    for await (const s of (await openBundle(out)).series()) series.push(s);
    expect(
      series.find((s) => s.name === 'pg_database_xact_commit' && s.labels['db'] === 'shop'),
    ).toBeDefined();
  });
  it('opens the connection again when PostgreSQL restarts during --watch, and samples on', async () => {
    await holder.end().catch(() => undefined);
    const out = `${tmp.dir}/watch-restart`;
    const now = Date.now();
    const controller = new AbortController();
    let ok = 0;
    let restarting: Promise<void> | undefined;
    let after: { at: number; ok: number } | undefined;
    const r = await collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 120_000) },
      postgres: `postgres://${server.user}@${server.host}:${server.port}/${server.database}`,
      watchMs: 15_000,
      intervalMs: 200,
      sources: [postgresSource],
      signal: controller.signal,
      onProgress: (e) => {
        if (e.state !== 'progress' || !e.detail?.startsWith('sample')) return;
        ok = e.items;
        // Two samples, a restart, two more samples.
        restarting ??=
          ok >= 2
            ? (async () => {
                server.kill('SIGINT');
                await server.exited();
                await server.start();
                after = { at: Date.now(), ok };
              })()
            : undefined;
        if (after && ok >= after.ok + 2) controller.abort();
      },
    });
    await restarting;
    expect(after).toBeDefined();
    const node = `${server.host}:${server.port}`;
    expect(r.manifest.sources[0]).toMatchObject({
      name: 'postgres',
      status: 'partial',
      // Its samples during the restart failed; on a loaded machine the restart may fall between two
      // samples, and the watch, stopped by the test, is partial as interrupted.
      error: expect.stringMatching(/^(\d+ samples? failed|interrupted)$/),
    });
    expect(await notesOf(out)).toContain(
      `postgres: the connection was lost and opened again once during the watch at ${node}`,
    );
    const series: Series[] = [];
    for await (const s of (await openBundle(out)).series()) series.push(s);
    const commits = series.find((s) => s.name === 'pg_database_xact_commit' && s.labels['db'] === 'shop');
    expect(commits?.points.filter(([t]) => t > (after?.at ?? Infinity)).length).toBeGreaterThanOrEqual(1);
  });
});
