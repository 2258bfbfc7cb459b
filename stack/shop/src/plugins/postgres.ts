import pg from 'pg';
import { definePlugin } from '../define-plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    pg: pg.Pool;
    /**
     * Whether PostgreSQL accepts a NEW connection: resolves when a fresh client (not the pool's)
     * connects and answers `SELECT 1`, rejects with the reason otherwise. Cached for
     * {@link NEW_CONNECTION_CACHE_MS} so that probes do not open a connection each.
     */
    pgAcceptsConnections(): Promise<void>;
  }
}

/**
 * How long one new-connection check answers for. A kubelet probes every few seconds; caching keeps
 * the probe at most one extra connection per 1.5 s per pod even when several probes run at once.
 */
export const NEW_CONNECTION_CACHE_MS = 1500;

/**
 * The PostgreSQL pool. A connect timeout, statement_timeout and idle_in_transaction_session_timeout
 * bound every wait: without them a stalled peer leaves requests hanging and rows locked.
 */
export const postgresPlugin = definePlugin('shop-postgres', ['shop-config'], async (app) => {
  const c = app.config.postgres;
  const connection = {
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    database: c.database,
    connectionTimeoutMillis: c.connectTimeoutMs,
    statement_timeout: c.statementTimeoutMs,
    idle_in_transaction_session_timeout: c.idleInTransactionTimeoutMs,
    application_name: `shop:${app.config.podName}`,
  };
  const makePool = (): pg.Pool => {
    const pool = new pg.Pool({ ...connection, max: c.poolMax });
    pool.on('error', (err) => {
      app.log.error(
        { event: 'postgres_error', store: 'postgresql', err: err.message },
        'idle postgres client failed',
      );
    });
    return pool;
  };
  app.decorate('pg', makePool());

  // In a smart shutdown PostgreSQL waits for every open session to end, and a pool keeps its idle
  // ones for idleTimeoutMillis (10 s) after each use: as long as traffic runs, forever. So when the
  // server says it is shutting down, the shop lets its sessions go: a fresh pool takes the new
  // requests (refused, as 503s, until the server is back), and the old one ends, closing its idle
  // clients now and the busy ones as their transactions finish.
  const recycle = (reason: string): void => {
    const old = app.pg;
    if (old.totalCount === 0) return; // nothing held: a pool made after the refusal began
    app.pg = makePool();
    app.log.warn({ event: 'postgres_pool_recycled', store: 'postgresql', reason }, 'postgres pool recycled');
    old.end().catch(() => undefined);
  };

  // A pool that still holds connections says nothing about new ones: in PostgreSQL's smart shutdown
  // (SIGTERM) the server keeps serving open sessions and refuses every new one, so readiness asks a
  // fresh client, with a short timeout.
  let last: { at: number; result: Promise<void> } | undefined;
  const probe = async (): Promise<void> => {
    const client = new pg.Client({
      ...connection,
      connectionTimeoutMillis: Math.min(1000, c.connectTimeoutMs),
      application_name: `shop:${app.config.podName}:probe`,
    });
    client.on('error', () => undefined); // the connect or query below rejects with the same error
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (err) {
      // 57P03 cannot_connect_now, "the database system is shutting down": a smart (or fast) shutdown.
      if ((err as { code?: string }).code === '57P03' && /shutting down/.test((err as Error).message))
        recycle((err as Error).message);
      throw err;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  app.decorate('pgAcceptsConnections', () => {
    if (last === undefined || Date.now() - last.at > NEW_CONNECTION_CACHE_MS) {
      const result = probe();
      result.catch(() => undefined); // read by the caller; the cached copy must not be unhandled
      last = { at: Date.now(), result };
    }
    return last.result;
  });
  app.addHook('onClose', async () => {
    await app.pg.end();
  });
});
