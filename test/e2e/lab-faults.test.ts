// Faults injected by pid into `hindsight lab` during `lab traffic`, through the built CLI with real
// processes; the lab restarts what dies, as a kubelet does, and the database is read afterwards.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hindsight } from './helpers.js';

interface Pod {
  name: string;
  component: string;
  restarts: number;
  ports: Record<string, number>;
  pids: number[];
}

const PASSWORD = 'lab-faults-e2e-pw';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pods(dir: string): Promise<Pod[]> {
  const r = await hindsight(['lab', 'status', '--dir', dir, '--json']);
  return (JSON.parse(r.stdout) as { pods: Pod[] }).pods;
}

async function query<T extends pg.QueryResultRow>(dir: string, sql: string): Promise<T[]> {
  const db = (await pods(dir)).find((p) => p.component === 'postgresql')!;
  const client = new pg.Client({
    host: '127.0.0.1',
    port: db.ports['5432'],
    user: 'shop',
    database: 'shop',
    password: PASSWORD,
  });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('hindsight lab under a PostgreSQL fast shutdown (CLI, real processes)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hindsight-e2e-lab-faults-'));
  });
  afterAll(async () => {
    await hindsight(['lab', 'down', '--purge', '--dir', dir]);
    await rm(dir, { recursive: true, force: true });
  });

  it(
    "no shop restarts, no session is lost, users get the shop's JSON 503 and never a 502 or a 500, and no order is left behind",
    { timeout: 240_000 },
    async () => {
      const up = await hindsight([
        'lab',
        'up',
        '--dir',
        dir,
        '--time-scale',
        '0.2',
        '--json',
        '--set',
        `postgresql.auth.password=${PASSWORD}`,
        '--set',
        'shop.checkout.stuckAfterSeconds=2',
        '--set',
        'shop.checkout.sweepIntervalSeconds=1',
      ]);
      expect(up.code, up.stderr).toBe(0);
      const traffic = hindsight([
        'lab',
        'traffic',
        '--dir',
        dir,
        '--users',
        '8',
        '--duration',
        '15s',
        '--json',
      ]);
      await sleep(5000);
      const postgres = (await pods(dir)).find((p) => p.component === 'postgresql')!;
      process.kill(postgres.pids[0]!, 'SIGINT');
      const r = await traffic;
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { sessionsLost: number; out: string; checkoutsStuck: number };
      expect(s.sessionsLost).toBe(0);

      // Every 5xx the shop itself answered (nginx logs the upstream's status) is its JSON 503.
      const after = await pods(dir);
      expect(after.filter((p) => p.component === 'shop').map((p) => p.restarts)).toEqual([0, 0]);
      expect(after.find((p) => p.component === 'postgresql')!.restarts).toBe(1);
      const statuses: Record<string, number> = {};
      for (const line of (await readFile(s.out, 'utf8')).trim().split('\n')) {
        for (const [k, n] of Object.entries((JSON.parse(line) as { status: Record<string, number> }).status))
          statuses[k] = (statuses[k] ?? 0) + n;
      }
      // No 502: the shops stay in the Service through the restart (PostgreSQL fails their readiness only
      // after shop.postgres.readinessGraceMs), so nginx always has a shop to pass the request to.
      expect(Object.keys(statuses).filter((k) => Number(k) >= 500)).toEqual(['503']);
      expect(statuses['503']).toBeGreaterThan(0);
      // The shops' own request lines: every 5xx a shop answered is a 503, and they answered at least
      // as many as the users saw (the rest are the lab's probes of /readyz), so none was nginx's own.
      const shop5xx: number[] = [];
      for (const pod of (await readdir(join(dir, 'logs'))).filter((p) => p.startsWith('shop-shop-'))) {
        for (const f of await readdir(join(dir, 'logs', pod, 'shop'))) {
          for (const line of (await readFile(join(dir, 'logs', pod, 'shop', f), 'utf8')).split('\n')) {
            const start = line.indexOf('{"');
            if (start < 0) continue;
            const l = JSON.parse(line.slice(start)) as { event?: string; status?: number };
            if (l.event === 'request' && (l.status ?? 0) >= 500) shop5xx.push(l.status!);
          }
        }
      }
      expect(shop5xx.length).toBeGreaterThanOrEqual(statuses['503']!);
      expect(new Set(shop5xx)).toEqual(new Set([503]));

      // After the sweeper's period: nothing left open, and stock equals what orders hold.
      let open = '';
      for (let i = 0; i < 50 && open !== '0'; i++) {
        open = (
          await query<{ n: string }>(
            dir,
            `SELECT count(*) AS n FROM orders WHERE status IN ('pending', 'paid')`,
          )
        )[0]!.n;
        if (open !== '0') await sleep(200);
      }
      expect(open).toBe('0');
      const drift = await query<{ sku: string }>(
        dir,
        `SELECT p.sku FROM products p LEFT JOIN (
            SELECT i.sku, sum(i.qty) AS held FROM order_items i JOIN orders o ON o.id = i.order_id
             WHERE o.status IN ('pending', 'paid', 'confirmed') GROUP BY i.sku) h ON h.sku = p.sku
          WHERE p.stock + coalesce(h.held, 0) <> 100000`,
      );
      expect(drift).toEqual([]);
    },
  );
});
