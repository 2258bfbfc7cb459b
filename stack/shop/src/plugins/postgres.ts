import pg from 'pg';
import { definePlugin } from '../define-plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    pg: pg.Pool;
  }
}

/**
 * The PostgreSQL pool. A connect timeout, statement_timeout and idle_in_transaction_session_timeout
 * bound every wait: without them a stalled peer leaves requests hanging and rows locked.
 */
export const postgresPlugin = definePlugin('shop-postgres', ['shop-config'], async (app) => {
  const c = app.config.postgres;
  const pool = new pg.Pool({
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    database: c.database,
    max: c.poolMax,
    connectionTimeoutMillis: c.connectTimeoutMs,
    statement_timeout: c.statementTimeoutMs,
    idle_in_transaction_session_timeout: c.idleInTransactionTimeoutMs,
    application_name: `shop:${app.config.podName}`,
  });
  pool.on('error', (err) => {
    app.log.error(
      { event: 'postgres_error', store: 'postgresql', err: err.message },
      'idle postgres client failed',
    );
  });
  app.decorate('pg', pool);
  app.addHook('onClose', async () => {
    await pool.end();
  });
});
