import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { confirmOrder, listStuckOrders, orderStatus, payOrder, startCheckout } from '../checkout.js';
import { definePlugin } from '../define-plugin.js';
import { ShopError } from '../errors.js';
import { verifyPassword } from '../password.js';
import { commitSession, endSession, loadSession, requireSession, startSession } from './session.js';

const loginBody = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
const addItemBody = z.object({
  sku: z.string().min(1).max(64),
  qty: z.number().int().min(1).max(1000).default(1),
});
const skuParams = z.object({ sku: z.string().min(1).max(64) });
const stuckQuery = z.object({ minAgeSeconds: z.coerce.number().int().min(0).default(0) });
const payBody = z.object({ idempotencyKey: z.string().min(8).max(128) });

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success)
    throw new ShopError(
      'SHOP_BAD_REQUEST',
      r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
    );
  return r.data;
}

function idempotencyKey(request: FastifyRequest): string {
  const header = request.headers['idempotency-key'];
  if (typeof header === 'string') return parse(payBody, { idempotencyKey: header }).idempotencyKey;
  return parse(payBody, request.body).idempotencyKey;
}

/**
 * The shop's user-facing routes: login, logout, products, cart, checkout and GET /admin/stuck.
 * Encapsulated, so the session hook runs for these routes only (not for probes or /metrics).
 */
export const routesPlugin = definePlugin(
  'shop-routes',
  ['shop-config', 'shop-postgres', 'shop-session', 'shop-metrics'],
  async (app) => {
    app.addHook('preHandler', loadSession);

    app.post('/login', async (request, reply) => {
      const body = parse(loginBody, request.body);
      const r = await app.pg.query<{ id: number; password_hash: string }>(
        'SELECT id, password_hash FROM users WHERE username = $1',
        [body.username],
      );
      const user = r.rows[0];
      if (user === undefined || !(await verifyPassword(body.password, user.password_hash)))
        throw new ShopError('SHOP_BAD_CREDENTIALS');
      await startSession(request, reply, { userId: user.id, username: body.username, cart: {}, order: null });
      return { username: body.username };
    });

    app.post('/logout', async (request, reply) => {
      await endSession(request, reply);
      return { ok: true };
    });

    app.get('/products', async () => {
      const r = await app.pg.query<{ sku: string; name: string; price_cents: number; stock: number }>(
        'SELECT sku, name, price_cents, stock FROM products ORDER BY sku',
      );
      return {
        products: r.rows.map((p) => ({
          sku: p.sku,
          name: p.name,
          priceCents: p.price_cents,
          stock: p.stock,
        })),
      };
    });

    const cartView = (request: FastifyRequest) => {
      const s = requireSession(request);
      return { items: Object.entries(s.cart).map(([sku, qty]) => ({ sku, qty })), order: s.order };
    };

    app.get('/cart', async (request, reply) => {
      const view = cartView(request);
      await commitSession(request, reply);
      return view;
    });

    app.post('/cart/items', async (request, reply) => {
      const s = requireSession(request);
      const body = parse(addItemBody, request.body);
      const r = await app.pg.query('SELECT 1 FROM products WHERE sku = $1', [body.sku]);
      if (r.rowCount !== 1) throw new ShopError('SHOP_UNKNOWN_SKU', body.sku);
      s.cart[body.sku] = (s.cart[body.sku] ?? 0) + body.qty;
      request.session.dirty = true;
      await commitSession(request, reply);
      return cartView(request);
    });

    app.delete('/cart/items/:sku', async (request, reply) => {
      const s = requireSession(request);
      const { sku } = parse(skuParams, request.params);
      if (sku in s.cart) {
        delete s.cart[sku];
        request.session.dirty = true;
      }
      await commitSession(request, reply);
      return cartView(request);
    });

    app.post('/checkout/start', async (request, reply) => {
      const s = requireSession(request);
      // An order the sweeper closed while the user was away no longer blocks a new checkout.
      if (s.order !== null) {
        const status = await orderStatus(app.pg, s.order.id, s.userId);
        if (status === 'pending' || status === 'paid')
          throw new ShopError('SHOP_ORDER_IN_PROGRESS', `order ${s.order.id}`);
        s.order = null;
      }
      if (Object.keys(s.cart).length === 0) throw new ShopError('SHOP_CART_EMPTY');
      // The transaction commits before the session write below: if that write fails (503), the
      // order is pending with no session naming it, which GET /admin/stuck lists and the sweeper releases.
      const order = await startCheckout(app.pg, s.userId, request.session.id!, s.cart);
      s.order = { id: order.orderId, status: 'pending' };
      s.cart = {};
      request.session.dirty = true;
      await commitSession(request, reply);
      return { orderId: order.orderId, totalCents: order.totalCents, status: 'pending' };
    });

    app.post('/checkout/pay', async (request, reply) => {
      const s = requireSession(request);
      const key = idempotencyKey(request);
      if (s.order === null) throw new ShopError('SHOP_NO_PENDING_ORDER');
      const payment = await payOrder(app.pg, s.order.id, s.userId, key, app.config.checkout.paymentLatencyMs);
      if (s.order.status !== 'paid') {
        s.order.status = 'paid';
        request.session.dirty = true;
      }
      await commitSession(request, reply);
      return { ...payment, status: 'paid' };
    });

    app.post('/checkout/confirm', async (request, reply) => {
      const s = requireSession(request);
      if (s.order === null) throw new ShopError('SHOP_NO_PENDING_ORDER');
      const orderId = s.order.id;
      await confirmOrder(app.pg, orderId, s.userId);
      s.order = null;
      request.session.dirty = true;
      await commitSession(request, reply);
      return { orderId, status: 'confirmed' };
    });

    app.get('/admin/stuck', async (request) => {
      const { minAgeSeconds } = parse(stuckQuery, request.query);
      const stuck = await listStuckOrders(
        app.pg,
        app.redis.master,
        app.config.checkout.stuckAfterSeconds,
        minAgeSeconds,
      );
      if (minAgeSeconds === 0) app.metrics.stuckOrders.set(stuck.length);
      return { count: stuck.length, stuckAfterSeconds: app.config.checkout.stuckAfterSeconds, orders: stuck };
    });
  },
  { encapsulate: true },
);

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * GET /healthz (the process is alive) and GET /readyz: the Redis master answers PING, the pool
 * answers `SELECT 1`, and PostgreSQL accepts a new connection (during its smart shutdown it serves
 * the pool's sessions and refuses new ones, and a pod that cannot reconnect is not ready).
 *
 * PostgreSQL failing makes the pod unready only once its checks have failed without a break for
 * PG_READINESS_GRACE_MS. Every pod shares the one database, so each one turns unready at the same
 * moment: the Service is left with no endpoint and the proxy answers its own 502 where the shop
 * would answer its JSON 503 (lab, PostgreSQL fast shutdown: 147 nginx 502s against 67 JSON 503s
 * without a grace; bench/RESULTS.md). Within the grace the answer is 200 and names the failure.
 */
export const healthPlugin = definePlugin(
  'shop-health',
  ['shop-config', 'shop-redis', 'shop-postgres'],
  async (app) => {
    // When the current run of failed PostgreSQL checks began; undefined while they pass.
    let postgresFailingSince: number | undefined;
    app.get('/healthz', async () => ({ status: 'ok', pod: app.config.podName }));
    app.get('/readyz', async (request, reply) => {
      const checks = await Promise.allSettled([
        withTimeout(app.redis.master.client.ping(), 1000, 'redis master PING'),
        withTimeout(app.pg.query('SELECT 1'), 1000, 'postgresql SELECT 1'),
        withTimeout(app.pgAcceptsConnections(), 1500, 'postgresql new connection').catch((err: Error) => {
          throw new Error(`new connection refused: ${err.message}`);
        }),
      ]);
      const [redis, pool, fresh] = checks.map((c) =>
        c.status === 'fulfilled' ? 'ok' : (c.reason as Error).message,
      );
      const postgres = pool !== 'ok' ? pool! : fresh!;
      const now = Date.now();
      if (postgres === 'ok') postgresFailingSince = undefined;
      else postgresFailingSince ??= now;
      if (app.draining || app.starting) {
        reply.code(503);
        const reason = app.draining ? 'shutting down' : 'starting: waiting for PostgreSQL';
        return { status: 'not_ready', reason, redis, postgres };
      }
      const graceMs = app.config.postgres.readinessGraceMs;
      const failingMs = postgresFailingSince === undefined ? 0 : now - postgresFailingSince;
      const ready = redis === 'ok' && (postgres === 'ok' || failingMs < graceMs);
      const grace = postgres === 'ok' ? {} : { postgresFailingMs: failingMs, postgresGraceMs: graceMs };
      if (redis !== 'ok' || postgres !== 'ok')
        request.log.warn(
          { event: ready ? 'degraded' : 'not_ready', redis, postgres, ...grace },
          ready ? 'postgresql failing, within the readiness grace' : 'not ready',
        );
      reply.code(ready ? 200 : 503);
      return { status: ready ? 'ready' : 'not_ready', redis, postgres, ...grace };
    });
  },
);
