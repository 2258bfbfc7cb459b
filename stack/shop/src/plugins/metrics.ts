import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { definePlugin } from '../define-plugin.js';

/** The shop's Prometheus metrics (names are a contract: the investigator and dashboards read them). */
export interface ShopMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'status'>;
  httpDuration: Histogram<'route' | 'status'>;
  sessionOps: Counter<'op' | 'node' | 'outcome'>;
  sessionStaleReads: Counter<'node'>;
  sessionMissing: Counter;
  stuckOrders: Gauge;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ShopMetrics;
  }
}

/** Creates the metrics in their own registry, so that several apps in one process do not collide. */
export function createMetrics(): ShopMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route template and status code',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template and status code',
      labelNames: ['route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    sessionOps: new Counter({
      name: 'session_store_operations_total',
      help: 'Session store commands by op (get, set, del), Redis node and outcome (ok, miss, error, conflict)',
      labelNames: ['op', 'node', 'outcome'],
      registers: [registry],
    }),
    sessionStaleReads: new Counter({
      name: 'session_stale_reads_total',
      help: 'Replica reads older than the version in the cookie (retried on the master when the guard is on)',
      labelNames: ['node'],
      registers: [registry],
    }),
    sessionMissing: new Counter({
      name: 'session_missing_total',
      help: 'Requests whose cookie names a session the store does not have (and that had not expired)',
      registers: [registry],
    }),
    stuckOrders: new Gauge({
      name: 'checkout_stuck_orders',
      help: 'Pending orders whose session is gone, at the last sweep or /admin/stuck',
      registers: [registry],
    }),
  };
}

/**
 * Decorates `app.metrics`, serves GET /metrics, and writes one log line and the HTTP metrics per
 * request (Fastify's own request logging is off, so there is exactly one line per request).
 */
export const metricsPlugin = definePlugin('shop-metrics', ['shop-config'], async (app) => {
  const metrics = createMetrics();
  app.decorate('metrics', metrics);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    const durationMs = reply.elapsedTime;
    metrics.httpRequests.inc({ route, status });
    metrics.httpDuration.observe({ route, status }, durationMs / 1000);
    request.log.info(
      {
        event: 'request',
        method: request.method,
        route,
        status: reply.statusCode,
        durationMs: Math.round(durationMs * 100) / 100,
      },
      'request completed',
    );
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
});
