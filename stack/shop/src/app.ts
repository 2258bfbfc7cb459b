import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from 'fastify';
import pino, { type DestinationStream } from 'pino';
import { sweepStuckOrders, type SweepResult } from './checkout.js';
import type { ShopConfig } from './config.js';
import { ShopError } from './errors.js';
import { configPlugin } from './plugins/config.js';
import { metricsPlugin } from './plugins/metrics.js';
import { postgresPlugin } from './plugins/postgres.js';
import { redisPlugin } from './plugins/redis.js';
import { healthPlugin, routesPlugin } from './plugins/routes.js';
import { sessionPlugin } from './plugins/session.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** True once {@link drainApp} began: /readyz answers 503 and every answer closes its connection. */
    draining: boolean;
    /**
     * True while the process listens but has not migrated yet (main waits for PostgreSQL with the
     * port open, so liveness holds): /readyz answers 503 and the shop's routes a JSON 503.
     */
    starting: boolean;
  }
}

/** Options of {@link buildApp} beyond the configuration. */
export interface BuildAppOptions {
  /** Where JSON log lines go (default: stdout). Tests pass a stream to read them. */
  logStream?: DestinationStream;
}

// PostgreSQL error classes and client errors that mean "the database is not reachable right now".
const PG_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  '57P01',
  '57P03',
  '08006',
  '08001',
  '08000',
  '53300',
]);

// Routes that answer while the shop starts: the probes and the metrics.
const PROBE_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Builds the shop (plugins registered, nothing listening). Call `await app.ready()` or
 * `app.listen()`; `app.close()` disconnects Redis and PostgreSQL.
 */
export async function buildApp(config: ShopConfig, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const logger = pino(
    {
      level: config.logLevel,
      base: { pod: config.podName },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.cookie', 'password'], remove: true },
    },
    options.logStream ?? pino.destination({ dest: 1, sync: false }),
  );
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
  });

  app.setErrorHandler((err: FastifyError | ShopError, request, reply) => {
    if (err instanceof ShopError) {
      if (err.statusCode >= 500)
        request.log.error({ event: 'request_failed', code: err.code, err: err.message }, 'request failed');
      return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
    }
    const code = (err as { code?: string }).code;
    if (
      (code !== undefined && PG_UNAVAILABLE.has(code)) ||
      /timeout exceeded when trying to connect|Connection terminated|not queryable|pool after calling end/.test(
        err.message,
      )
    ) {
      request.log.error(
        { event: 'request_failed', code: 'SHOP_DATABASE_UNAVAILABLE', store: 'postgresql', err: err.message },
        'database unavailable',
      );
      return reply.code(503).send({ error: { code: 'SHOP_DATABASE_UNAVAILABLE', message: err.message } });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: { code: 'SHOP_BAD_REQUEST', message: err.message } });
    }
    request.log.error({ event: 'request_failed', err }, 'unexpected error');
    return reply.code(500).send({ error: { code: 'SHOP_INTERNAL', message: 'internal error' } });
  });

  // Draining (see drainApp): every answer asks the client to close its connection, so a proxy never
  // reuses a kept-alive connection to a shop that is about to close it.
  app.decorate('draining', false);
  app.decorate('starting', false);
  app.addHook('onRequest', async (request) => {
    if (app.starting && !PROBE_ROUTES.has(request.routeOptions.url ?? ''))
      throw new ShopError('SHOP_DATABASE_UNAVAILABLE', 'the shop is starting: waiting for PostgreSQL');
  });
  app.addHook('onSend', async (_request, reply) => {
    if (app.draining) reply.header('connection', 'close');
  });

  await app.register(configPlugin, { config });
  await app.register(metricsPlugin);
  await app.register(redisPlugin);
  await app.register(postgresPlugin);
  await app.register(sessionPlugin);
  await app.register(healthPlugin);
  await app.register(routesPlugin);
  return app;
}

/**
 * One sweep: closes the orders left behind for CHECKOUT_STUCK_AFTER_SECONDS (pending ones released,
 * paid ones completed; see sweepStuckOrders) and updates the gauge.
 */
export async function sweepOnce(app: FastifyInstance): Promise<SweepResult> {
  const result = await sweepStuckOrders(
    app.pg,
    app.redis.master,
    app.config.checkout.stuckAfterSeconds,
    app.log,
  );
  app.metrics.stuckOrders.set(result.stuck);
  return result;
}

/** Runs {@link sweepOnce} every SWEEP_INTERVAL_SECONDS; a failed sweep is logged and the next one runs. */
export function startSweeper(app: FastifyInstance): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = sweepOnce(app).catch((err: Error) =>
      app.log.error({ event: 'sweep_failed', err: err.message }, 'sweep failed'),
    );
  }, app.config.checkout.sweepIntervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * The first half of a graceful shutdown: for `ms` the app keeps serving, unready (so no new
 * connection is routed to it) and answering every request with `Connection: close` (so each kept-alive
 * connection that carries a request is closed by its client after the answer). Idle connections are
 * left for the client's own idle timeout to close. `app.close()` then closes what is left and waits
 * for the requests in flight.
 */
export async function drainApp(app: FastifyInstance, ms: number): Promise<void> {
  app.draining = true;
  app.log.info({ event: 'draining', ms }, 'draining connections');
  await new Promise((resolve) => setTimeout(resolve, ms));
}
