import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepOnce } from './app.js';
import { configPlugin } from './plugins/config.js';
import { routesPlugin } from './plugins/routes.js';
import { loadConfig } from './config.js';
import { InjectClient, startShopTestStack, type ShopTestStack } from './testing/stack.js';

let stack: ShopTestStack;
beforeAll(async () => {
  stack = await startShopTestStack({ replicas: 2 });
});
afterAll(async () => {
  await stack?.stop();
});

async function stock(sku: string): Promise<number> {
  return Number(await stack.postgres.psql(`SELECT stock FROM products WHERE sku = '${sku}'`));
}

describe('shop', () => {
  it('fails at boot, not at the first request, when a plugin it depends on is missing', async () => {
    const loaded = loadConfig(stack.env());
    if (!loaded.ok) throw new Error(loaded.message);
    const app = Fastify();
    const boot = (async () => {
      await app.register(configPlugin, { config: loaded.config });
      await app.register(routesPlugin);
      await app.ready();
    })();
    await expect(boot).rejects.toMatchObject({ code: 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED' });
  });

  it('runs the whole user flow: login, cart, checkout start, pay, confirm', async () => {
    const { app, logs } = await stack.app({ PAYMENT_LATENCY_MS: '5' });
    try {
      const before = await stock('mug');
      const c = new InjectClient(app);
      expect((await c.request('GET', '/cart')).body.error.code).toBe('SHOP_NOT_LOGGED_IN');
      expect((await c.login('alice', 'wrong')).status).toBe(401);
      expect((await c.login('alice')).status).toBe(200);
      expect((await c.request('POST', '/cart/items', { sku: 'mug', qty: 2 })).status).toBe(200);
      expect((await c.request('POST', '/cart/items', { sku: 'kettle' })).status).toBe(200);
      expect((await c.request('POST', '/cart/items', { sku: 'no-such-thing' })).body.error.code).toBe(
        'SHOP_UNKNOWN_SKU',
      );
      expect((await c.request('DELETE', '/cart/items/kettle')).body.items).toEqual([{ sku: 'mug', qty: 2 }]);

      const start = await c.request('POST', '/checkout/start');
      expect(start.status).toBe(200);
      expect(start.body).toMatchObject({ status: 'pending', totalCents: 2800 });
      expect(await stock('mug')).toBe(before - 2);
      expect((await c.request('GET', '/cart')).body).toEqual({
        items: [],
        order: { id: start.body.orderId, status: 'pending' },
      });

      const pay = await c.request('POST', '/checkout/pay', { idempotencyKey: 'pay-alice-0001' });
      expect(pay.body).toMatchObject({ orderId: start.body.orderId, amountCents: 2800, replayed: false });
      const replay = await c.request('POST', '/checkout/pay', {}, { 'idempotency-key': 'pay-alice-0001' });
      expect(replay.body).toMatchObject({ orderId: start.body.orderId, replayed: true });
      expect(
        (await c.request('POST', '/checkout/pay', { idempotencyKey: 'pay-alice-0002' })).body.error.code,
      ).toBe('SHOP_ORDER_NOT_PAYABLE');
      expect(
        await stack.postgres.psql(`SELECT count(*) FROM payments WHERE order_id = ${start.body.orderId}`),
      ).toBe('1');

      expect((await c.request('POST', '/checkout/confirm')).body).toEqual({
        orderId: start.body.orderId,
        status: 'confirmed',
      });
      expect(await stack.postgres.psql(`SELECT status FROM orders WHERE id = ${start.body.orderId}`)).toBe(
        'confirmed',
      );
      expect((await c.request('POST', '/logout')).status).toBe(200);
      expect((await c.request('GET', '/cart')).body.error.code).toBe('SHOP_NOT_LOGGED_IN');

      // One log line per request, with the route template, and one per session event.
      const requests = logs.lines.filter((l) => l['event'] === 'request');
      expect(requests.length).toBe(15);
      expect(requests.find((l) => l['route'] === '/cart/items/:sku')).toMatchObject({
        method: 'DELETE',
        status: 200,
        pod: 'shop-test',
      });
      const events = new Set(logs.lines.map((l) => l['event']));
      for (const e of ['created', 'read', 'saved']) expect(events).toContain(e);
      expect(JSON.stringify(logs.lines)).not.toContain('alice-password');

      const metrics = (await app.inject('/metrics')).body;
      expect(metrics).toMatch(/http_requests_total\{route="\/checkout\/pay",status="200"\} 2/);
      expect(metrics).toContain('http_request_duration_seconds_bucket');
      expect(metrics).toMatch(
        /session_store_operations_total\{op="set",node="127\.0\.0\.1:\d+",outcome="ok"\}/,
      );
      expect(metrics).toContain('session_missing_total 0');
      expect(metrics).toContain('checkout_stuck_orders');
    } finally {
      await app.close();
    }
  });

  it('writes the session only when it changed, unless SESSION_ROLLING=true', async () => {
    const sets = async (rolling: string): Promise<number> => {
      const { app } = await stack.app({ SESSION_ROLLING: rolling });
      try {
        const c = new InjectClient(app);
        await c.login('bob');
        for (let i = 0; i < 5; i++) expect((await c.request('GET', '/cart')).status).toBe(200);
        const text = (await app.inject('/metrics')).body;
        return Number(
          /session_store_operations_total\{op="set",[^}]*outcome="ok"\} (\d+)/.exec(text)?.[1] ?? 0,
        );
      } finally {
        await app.close();
      }
    };
    expect(await sets('false')).toBe(1); // the login
    expect(await sets('true')).toBe(6); // the login and every read
  });

  it('refuses the second of two concurrent writes of one session instead of silently losing the first', async () => {
    const { app, logs } = await stack.app({ REDIS_COMMAND_TIMEOUT_MS: '5000' });
    try {
      const tab1 = new InjectClient(app);
      expect((await tab1.login('carol')).status).toBe(200);
      const tab2 = new InjectClient(app);
      tab2.cookie = tab1.cookie;
      // Both requests read version 1 while writes are held, then both try to write version 2.
      await stack.redis.master.command('CLIENT', 'PAUSE', '1000', 'WRITE');
      const results = await Promise.all([
        tab1.request('POST', '/cart/items', { sku: 'mug' }),
        tab2.request('POST', '/cart/items', { sku: 'kettle' }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const refused = results.find((r) => r.status === 409)!;
      expect(refused.body.error.code).toBe('SHOP_SESSION_CONFLICT');
      const winner = results.find((r) => r.status === 200)!;
      expect((await tab1.request('GET', '/cart')).body.items).toEqual(winner.body.items);
      expect(logs.lines.filter((l) => l['event'] === 'conflict')).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it('tells a lost session (missing) from one whose TTL ran out (expired)', async () => {
    const { app, logs } = await stack.app({ SESSION_TTL_SECONDS: '60' });
    try {
      const now = Math.floor(Date.now() / 1000);
      const cookieFor = (writtenAt: number) =>
        `shop_sid=${app.signCookie(`${'x'.repeat(32)}.3.${writtenAt}`)}`;
      const lost = await app.inject({ url: '/cart', headers: { cookie: cookieFor(now - 10) } });
      expect(lost.json().error.code).toBe('SHOP_SESSION_MISSING');
      const old = await app.inject({ url: '/cart', headers: { cookie: cookieFor(now - 120) } });
      expect(old.json().error.code).toBe('SHOP_NOT_LOGGED_IN');
      expect(
        logs.lines.filter((l) => l['event'] === 'missing' || l['event'] === 'expired').map((l) => l['event']),
      ).toEqual(['missing', 'expired']);
      const forged = await app.inject({
        url: '/cart',
        headers: { cookie: `shop_sid=${'x'.repeat(32)}.3.${now}.bad-signature` },
      });
      expect(forged.json().error.code).toBe('SHOP_NOT_LOGGED_IN');
      expect((await app.inject('/metrics')).body).toContain('session_missing_total 1');
    } finally {
      await app.close();
    }
  });

  it('answers /healthz and /readyz from the Redis master and PostgreSQL', async () => {
    const { app } = await stack.app();
    try {
      expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok', pod: 'shop-test' });
      expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready', redis: 'ok', postgres: 'ok' });
    } finally {
      await app.close();
    }
  });

  it('many concurrent checkouts neither lose nor double-release stock, with two pods sweeping', async () => {
    const podA = await stack.app({ POD_NAME: 'shop-a' });
    const podB = await stack.app({ POD_NAME: 'shop-b' });
    try {
      await stack.postgres.psql(`UPDATE products SET stock = 20 WHERE sku = 'teapot'`);
      const clients = Array.from(
        { length: 30 },
        (_, i) => new InjectClient(i % 2 === 0 ? podA.app : podB.app),
      );
      for (const [i, c] of clients.entries()) {
        expect((await c.login(`shopper${String((i % 20) + 1).padStart(2, '0')}`)).status).toBe(200);
        expect((await c.request('POST', '/cart/items', { sku: 'teapot', qty: 1 })).status).toBe(200);
      }
      const starts = await Promise.all(clients.map((c) => c.request('POST', '/checkout/start')));
      const ok = starts.filter((s) => s.status === 200).length;
      expect(ok).toBe(20);
      expect(starts.filter((s) => s.body?.error?.code === 'SHOP_OUT_OF_STOCK').length).toBe(10);
      expect(await stock('teapot')).toBe(0);

      // Half of the checkouts lose their session (as when a replica serves an empty read), the other
      // half pay; nothing is stuck before the sessions go.
      expect((await podA.app.inject('/admin/stuck')).json().count).toBe(0);
      const winners = clients.filter((_, i) => starts[i]!.status === 200);
      const lost = winners.slice(0, 10);
      for (const c of lost) await c.request('POST', '/logout');
      await Promise.all(
        winners
          .slice(10)
          .map((c, i) => c.request('POST', '/checkout/pay', { idempotencyKey: `concurrent-${i}-key` })),
      );
      const stuck = (await podB.app.inject('/admin/stuck')).json();
      expect(stuck.count).toBe(10);
      expect(stuck.orders[0].reason).toBe('session_missing');

      // A pod with the default threshold (300 s) leaves these young stuck orders alone.
      expect((await podB.app.inject('/admin/stuck?minAgeSeconds=3600')).json().count).toBe(0);
      const patient = await stack.app({ POD_NAME: 'shop-c' });
      try {
        expect(await sweepOnce(patient.app)).toEqual({ stuck: 10, released: [], completed: [] });
        expect((await patient.app.inject('/metrics')).body).toContain('checkout_stuck_orders 10');
      } finally {
        await patient.app.close();
      }

      // CHECKOUT_STUCK_AFTER_SECONDS (300 s) pass for the lost ones.
      await stack.postgres.psql(
        `UPDATE orders SET updated_at = now() - interval '1 hour' WHERE status = 'pending' AND id IN (${starts
          .filter((s) => s.status === 200)
          .map((s) => s.body.orderId as number)
          .join(',')})`,
      );
      // Both pods sweep at the same time, twice: each stuck order is released exactly once.
      const sweeps = await Promise.all([
        sweepOnce(podA.app),
        sweepOnce(podB.app),
        sweepOnce(podA.app),
        sweepOnce(podB.app),
      ]);
      const released = sweeps.flatMap((s) => s.released);
      expect(released.length).toBe(10);
      expect(new Set(released).size).toBe(10);
      expect(await stock('teapot')).toBe(10);
      expect(
        await stack.postgres.psql(
          `SELECT count(*) FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.sku = 'teapot' AND o.status = 'paid'`,
        ),
      ).toBe('10');
      expect((await podA.app.inject('/admin/stuck')).json().count).toBe(0);
      expect((await podA.app.inject('/metrics')).body).toContain('checkout_stuck_orders 0');
      // A released order can no longer be paid: its stock is back on the shelf.
      expect(
        (await lost[0]!.request('POST', '/checkout/pay', { idempotencyKey: 'too-late-key' })).body.error.code,
      ).toBe('SHOP_NOT_LOGGED_IN');
    } finally {
      await Promise.all([podA.app.close(), podB.app.close()]);
    }
  });

  it('holds no transaction open while Redis stalls; a session write refused after COMMIT leaves a stuck order the sweeper releases', async () => {
    const { app } = await stack.app({
      REDIS_COMMAND_TIMEOUT_MS: '800',
      POD_NAME: 'shop-stall',
    });
    try {
      const c = new InjectClient(app);
      expect((await c.login('carol')).status).toBe(200);
      expect((await c.request('POST', '/cart/items', { sku: 'kettle', qty: 3 })).status).toBe(200);
      const before = await stock('kettle');

      // 1. Redis writes stall for 3 s. The reservation commits while the session write still waits
      // (a Redis call inside the transaction would hold the commit, and the rows, until Redis answers);
      // then the request times out (503), its transaction long committed.
      await stack.redis.master.command('CLIENT', 'PAUSE', '3000', 'WRITE');
      let settled = false;
      const pending = c.request('POST', '/checkout/start').finally(() => (settled = true));
      let committedWhileWaiting = false;
      while (!settled && !committedWhileWaiting) {
        const now = await stock('kettle');
        committedWhileWaiting = now === before - 3 && !settled;
        if (!committedWhileWaiting) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(committedWhileWaiting).toBe(true);
      expect(
        await stack.postgres.psql(
          `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'shop:shop-stall' AND state LIKE 'idle in transaction%'`,
        ),
      ).toBe('0');
      const stalled = await pending;
      expect(stalled.status).toBe(503);
      expect(stalled.body.error.code).toBe('SHOP_SESSION_STORE_UNAVAILABLE');
      // A timeout does not cancel a command Redis already holds: the write lands when the pause
      // ends (reads on that connection queue behind it meanwhile, and time out too), and the session
      // then names the order, so the user can go on (the guard accepts a newer version).
      let order: unknown;
      for (let i = 0; i < 50 && !order; i++) {
        order = (await c.request('GET', '/cart')).body.order;
        if (!order) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(order).toMatchObject({ status: 'pending' });
      expect((await c.request('POST', '/checkout/pay', { idempotencyKey: 'stall-pay-1' })).status).toBe(200);
      expect((await c.request('POST', '/checkout/confirm')).status).toBe(200);

      // 2. The master refuses writes (maxmemory reached, noeviction): the order commits, the session
      // write fails, and the order is stuck with no session naming it, until the sweeper releases it.
      expect((await c.request('POST', '/cart/items', { sku: 'kettle', qty: 2 })).status).toBe(200);
      await stack.redis.master.command('CONFIG', 'SET', 'maxmemory', '1');
      const refused = await c.request('POST', '/checkout/start');
      await stack.redis.master.command('CONFIG', 'SET', 'maxmemory', '0');
      expect(refused.status).toBe(503);
      expect(await stock('kettle')).toBe(before - 5);
      const stuck = (await app.inject('/admin/stuck')).json();
      expect(stuck.orders).toEqual([expect.objectContaining({ reason: 'session_forgot_order' })]);
      await stack.postgres.psql(
        `UPDATE orders SET updated_at = now() - interval '1 hour' WHERE id = ${stuck.orders[0].orderId}`,
      );
      expect((await sweepOnce(app)).released).toHaveLength(1);
      expect(await stock('kettle')).toBe(before - 3);
      // The session kept its cart: the user checks out again.
      expect((await c.request('POST', '/checkout/start')).status).toBe(200);
      expect(await stock('kettle')).toBe(before - 5);
    } finally {
      await stack.redis.master.command('CLIENT', 'UNPAUSE');
      await stack.redis.master.command('CONFIG', 'SET', 'maxmemory', '0');
      await app.close();
    }
  });
});
