import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../app.js';
import { loadConfig, type ShopConfig } from '../config.js';
import { migrate, seed, SEED_PRODUCTS } from '../db.js';
import { SESSION_COOKIE } from '../plugins/session.js';
import { startPostgres, startRedisReplicaSet, type PostgresServer, type RedisReplicaSet } from './servers.js';

/** Real Redis (master + replicas) and PostgreSQL for shop tests, with the env that points at them. */
export interface ShopTestStack {
  redis: RedisReplicaSet;
  postgres: PostgresServer;
  /** The shop environment for these servers, with `overrides` applied. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** A shop app built on these servers, migrated and seeded, with its log lines captured. */
  app(
    overrides?: Record<string, string>,
  ): Promise<{ app: FastifyInstance; logs: LogCapture; config: ShopConfig }>;
  stop(): Promise<void>;
}

/** Log lines written by an app, parsed. */
export interface LogCapture {
  lines: Record<string, unknown>[];
  write(line: string): void;
}

/** A pino destination that keeps every JSON line in memory. */
export function captureLogs(): LogCapture {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(chunk: string) {
      for (const line of chunk.split('\n'))
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
}

/** Starts Redis (1 master, `replicas` replicas) and PostgreSQL for a test file. */
export async function startShopTestStack(options: { replicas?: number } = {}): Promise<ShopTestStack> {
  const started = await Promise.allSettled([
    startRedisReplicaSet({ replicas: options.replicas ?? 2 }),
    startPostgres(),
  ]);
  const [redisResult, postgresResult] = started;
  if (redisResult.status === 'rejected' || postgresResult.status === 'rejected') {
    // Stop whichever did start, so a failed start leaves no process or temp dir behind.
    for (const r of started) if (r.status === 'fulfilled') await r.value.stop();
    throw redisResult.status === 'rejected'
      ? redisResult.reason
      : (postgresResult as PromiseRejectedResult).reason;
  }
  const redis = redisResult.value;
  const postgres = postgresResult.value;
  let migrated = false;
  const env = (overrides: Record<string, string> = {}): Record<string, string> => ({
    HOST: '127.0.0.1',
    PORT: '0',
    POD_NAME: 'shop-test',
    REDIS_MASTER_URL: redis.masterUrl,
    REDIS_REPLICA_URLS: redis.replicaUrls.join(','),
    SESSION_SECRET: 'test-secret-0123456789abcdef',
    PGHOST: postgres.host,
    PGPORT: String(postgres.port),
    PGUSER: postgres.user,
    PGDATABASE: postgres.database,
    PAYMENT_LATENCY_MS: '0',
    ...overrides,
  });
  return {
    redis,
    postgres,
    env,
    async app(overrides = {}) {
      const loaded = loadConfig(env(overrides));
      if (!loaded.ok) throw new Error(loaded.message);
      const logs = captureLogs();
      const app = await buildApp(loaded.config, { logStream: logs });
      await app.ready();
      if (!migrated) {
        await migrate(app.pg);
        await seed(app.pg);
        migrated = true;
      }
      return { app, logs, config: loaded.config };
    },
    async stop() {
      await Promise.all([redis.stop(), postgres.stop()]);
    },
  };
}

/**
 * A response as tests read it. The body is `any` on purpose: tests assert its shape field by field,
 * and a typed body would need a cast at each of those assertions.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type InjectResponse = { status: number; body: any };

/** A browser-like client over `app.inject()` that keeps the session cookie. */
export class InjectClient {
  cookie: string | undefined;
  constructor(private readonly app: FastifyInstance) {}

  /** Sends a request; returns the status and the parsed JSON body. */
  async request(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<InjectResponse> {
    const res = await this.app.inject({
      method,
      url,
      payload: body as InjectOptions['payload'],
      headers: { ...headers, ...(this.cookie ? { cookie: `${SESSION_COOKIE}=${this.cookie}` } : {}) },
    });
    const set = res.cookies.find((c) => c.name === SESSION_COOKIE);
    if (set !== undefined) this.cookie = set.value === '' ? undefined : set.value;
    return { status: res.statusCode, body: res.body === '' ? null : JSON.parse(res.body) };
  }

  /** Logs in as a seeded user. */
  async login(username = 'alice', password = `${username}-password`): Promise<InjectResponse> {
    return this.request('POST', '/login', { username, password });
  }
}

/**
 * The ledger check: for each product, the seeded stock minus what pending, paid and confirmed orders
 * hold, against the stock in the table. Returns the products where they differ (none when no unit
 * was lost or sold twice). Only for a database whose stock no test set by hand.
 */
export async function stockDrift(
  postgres: PostgresServer,
): Promise<{ sku: string; stock: number; held: number; seeded: number }[]> {
  const out = await postgres.psql(
    `SELECT p.sku, p.stock, coalesce(sum(i.qty) FILTER (WHERE o.status IN ('pending', 'paid', 'confirmed')), 0)
       FROM products p LEFT JOIN order_items i ON i.sku = p.sku LEFT JOIN orders o ON o.id = i.order_id
      GROUP BY p.sku, p.stock ORDER BY p.sku`,
  );
  const seeded = new Map(SEED_PRODUCTS.map((p) => [p.sku, p.stock]));
  return out
    .split('\n')
    .map((line) => line.split('|'))
    .map(([sku, stock, held]) => ({
      sku: sku!,
      stock: Number(stock),
      held: Number(held),
      seeded: seeded.get(sku!) ?? 0,
    }))
    .filter((r) => r.stock + r.held !== r.seeded);
}
