import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnShop, HttpClient, type HttpAnswer } from './testing/shop-process.js';
import { startShopTestStack, stockDrift, type ShopTestStack } from './testing/stack.js';

// Real shop processes (node dist/main.js) against a real PostgreSQL whose postmaster is signalled
// by pid, as a pod deletion or an operator would; the database is read afterwards.

let stack: ShopTestStack;
beforeAll(async () => {
  stack = await startShopTestStack({ replicas: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Users looping over checkouts until `stop()`; every answer is kept with when it came. */
function checkoutLoop(baseUrl: string, users: number) {
  const answers: { at: number; path: string; answer: HttpAnswer }[] = [];
  let running = true;
  const user = async (i: number) => {
    const c = new HttpClient(baseUrl);
    const call = async (method: string, path: string, body?: unknown) => {
      const answer = await c.request(method, path, body);
      answers.push({ at: Date.now(), path, answer });
      return answer;
    };
    let n = 0;
    while (running) {
      if (
        c.cookie === undefined &&
        (await c.login(`shopper${String(i + 1).padStart(2, '0')}`)).status !== 200
      ) {
        await sleep(50);
        continue;
      }
      // A cut checkout leaves its order in the session: the next start says so, and the user logs in afresh.
      const ok =
        (await call('POST', '/cart/items', { sku: 'mug', qty: 1 })).status === 200 &&
        (await call('POST', '/checkout/start')).status === 200 &&
        (await call('POST', '/checkout/pay', { idempotencyKey: `fault-${i}-${n++}-key` })).status === 200 &&
        (await call('POST', '/checkout/confirm')).status === 200;
      if (!ok) {
        c.cookie = undefined;
        await sleep(20);
      }
    }
  };
  const all = Promise.all(Array.from({ length: users }, (_, i) => user(i)));
  return {
    answers,
    async stop() {
      running = false;
      await all;
    },
  };
}

describe('the shop under PostgreSQL faults', () => {
  it('survives a fast shutdown (SIGINT) during checkouts: JSON 503s while down, then serves again', async () => {
    const shop = spawnShop(
      stack.env({
        PG_CONNECT_TIMEOUT_MS: '500',
        PAYMENT_LATENCY_MS: '0',
        CHECKOUT_STUCK_AFTER_SECONDS: '1',
        SWEEP_INTERVAL_SECONDS: '1',
      }),
    );
    try {
      const url = await shop.ready();
      const traffic = checkoutLoop(url, 10);
      // Traffic until checkouts are running, then the postmaster is told to stop (fast).
      while (traffic.answers.filter((a) => a.answer.status === 200).length < 40) await sleep(20);
      const killedAt = Date.now();
      stack.postgres.kill('SIGINT');
      await stack.postgres.exited();
      await sleep(500);
      expect(shop.child.exitCode).toBeNull();
      await stack.postgres.start();
      const restartedAt = Date.now();
      await sleep(1500);
      await traffic.stop();

      expect(shop.child.exitCode, shop.stderr()).toBeNull();
      expect(shop.lines.filter((l) => l['level'] === 60)).toEqual([]);
      // Every request got an HTTP answer with a JSON body; the failures are the shop's own 503.
      expect(traffic.answers.filter((a) => a.answer.status === 0 || a.answer.failure)).toEqual([]);
      const failed = traffic.answers.filter((a) => a.answer.status >= 500);
      expect(failed.length).toBeGreaterThan(0);
      expect(
        shop.lines.filter(
          (l) => l['code'] === 'SHOP_INTERNAL' || (l['event'] === 'request_failed' && !l['code']),
        ),
      ).toEqual([]);
      expect(new Set(failed.map((a) => a.answer.body.error.code))).toEqual(
        new Set(['SHOP_DATABASE_UNAVAILABLE']),
      );
      expect(failed.every((a) => a.at >= killedAt)).toBe(true);
      // And checkouts complete again once PostgreSQL is back.
      expect(
        traffic.answers.some(
          (a) => a.at > restartedAt && a.path === '/checkout/confirm' && a.answer.status === 200,
        ),
      ).toBe(true);
      expect(await stockDrift(stack.postgres)).toEqual([]);
      // The checkouts the fault cut are closed by the sweeper within its period (1 s + 1 s here).
      const open = () =>
        stack.postgres.psql(`SELECT count(*) FROM orders WHERE status IN ('pending', 'paid')`);
      for (let i = 0; i < 50 && (await open()) !== '0'; i++) await sleep(100);
      expect(await open()).toBe('0');
      expect(await stockDrift(stack.postgres)).toEqual([]);
      expect(await shop.stop()).toBe(0);
    } finally {
      await shop.stop();
    }
  });

  it('stays ready through a PostgreSQL outage shorter than PG_READINESS_GRACE_MS, answering JSON 503s, and turns unready once it lasts longer', async () => {
    const { app } = await stack.app({ PG_READINESS_GRACE_MS: '3000', PG_CONNECT_TIMEOUT_MS: '500' });
    try {
      expect((await app.inject('/readyz')).statusCode).toBe(200);
      stack.postgres.kill('SIGINT');
      await stack.postgres.exited();
      // Down, within the grace: still ready (the Service keeps its endpoints), the failure named,
      // and the user's request gets the shop's JSON 503, not the proxy's 502.
      const firstFailure = Date.now();
      const within = await app.inject('/readyz');
      expect(within.statusCode).toBe(200);
      expect(within.json()).toMatchObject({ status: 'ready', redis: 'ok', postgresGraceMs: 3000 });
      expect(within.json().postgres).not.toBe('ok');
      const during = await app.inject('/products');
      expect(during.statusCode).toBe(503);
      expect(during.json().error.code).toBe('SHOP_DATABASE_UNAVAILABLE');
      // Past the grace, without a successful check in between: unready.
      let answer = within;
      while (answer.statusCode === 200 && Date.now() - firstFailure < 8000) {
        await sleep(200);
        answer = await app.inject('/readyz');
      }
      expect(answer.statusCode).toBe(503);
      expect(Date.now() - firstFailure).toBeGreaterThanOrEqual(3000);
      expect(answer.json().postgresFailingMs).toBeGreaterThanOrEqual(3000);
      // Back: ready at once, and a new outage gets a whole grace again.
      await stack.postgres.start();
      let ready = await app.inject('/readyz');
      for (let i = 0; i < 40 && ready.statusCode !== 200; i++) {
        await sleep(100);
        ready = await app.inject('/readyz');
      }
      expect(ready.json()).toEqual({ status: 'ready', redis: 'ok', postgres: 'ok' });
      stack.postgres.kill('SIGINT');
      await stack.postgres.exited();
      expect((await app.inject('/readyz')).statusCode).toBe(200);
    } finally {
      await app.close();
      if (stack.postgres.pid === undefined) await stack.postgres.start();
    }
  });

  it('is unready once the PostgreSQL smart shutdown (SIGTERM) has refused new connections past the grace, and lets its sessions go so the shutdown completes', async () => {
    const { app, logs } = await stack.app({ PG_READINESS_GRACE_MS: '1500' });
    // Another client's session keeps the smart shutdown going (PostgreSQL waits for every session).
    const other = new pg.Client({
      host: stack.postgres.host,
      port: stack.postgres.port,
      user: stack.postgres.user,
      database: stack.postgres.database,
    });
    other.on('error', () => undefined);
    await other.connect();
    try {
      // Ready, with a pooled connection left idle by the check: a smart shutdown waits for it.
      expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready', redis: 'ok', postgres: 'ok' });
      stack.postgres.kill('SIGTERM');
      let answer = await app.inject('/readyz');
      for (let i = 0; i < 40 && answer.json().postgres === 'ok'; i++) {
        await sleep(100);
        answer = await app.inject('/readyz');
      }
      // Refused, but within the grace: still ready.
      expect(answer.statusCode).toBe(200);
      expect(answer.json().postgres).toMatch(/new connection refused: .*shutting down/);
      for (let i = 0; i < 40 && answer.statusCode === 200; i++) {
        await sleep(100);
        answer = await app.inject('/readyz');
      }
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toMatchObject({ status: 'not_ready', redis: 'ok', postgresGraceMs: 1500 });
      // (the pool, recycled, is refused too: its error is the one named)
      expect(answer.json().postgres).toMatch(/shutting down/);
      expect(stack.postgres.pid).toBeDefined(); // still in its smart shutdown, held by the other session
      // The shop's pooled sessions were let go when refused: once the other one ends, the server exits
      // at once instead of after the pool's 10 s idle timeout.
      expect(logs.lines.filter((l) => l['event'] === 'postgres_pool_recycled').length).toBeGreaterThan(0);
      await other.end();
      const exited = await Promise.race([
        stack.postgres.exited().then(() => true),
        sleep(3000).then(() => false),
      ]);
      expect(exited).toBe(true);
      // Requests meanwhile get the shop's JSON 503; once the server is back, the new pool serves.
      const during = await app.inject('/products');
      expect(during.statusCode).toBe(503);
      expect(during.json().error.code).toBe('SHOP_DATABASE_UNAVAILABLE');
      await stack.postgres.start();
      let ready = await app.inject('/readyz');
      for (let i = 0; i < 40 && ready.statusCode !== 200; i++) {
        await sleep(100);
        ready = await app.inject('/readyz');
      }
      expect(ready.statusCode).toBe(200);
      expect((await app.inject('/products')).statusCode).toBe(200);
    } finally {
      await other.end().catch(() => undefined);
      await app.close();
      if (stack.postgres.pid === undefined) await stack.postgres.start();
    }
  });

  it('waits for PostgreSQL at start with backoff, logging each attempt, alive and unready, instead of exiting', async () => {
    stack.postgres.kill('SIGINT');
    await stack.postgres.exited();
    const shop = spawnShop(stack.env({ PG_CONNECT_TIMEOUT_MS: '500' }));
    try {
      // It listens while it waits: alive for liveness, unready, and the routes answer the shop's 503.
      const url = await shop.listening();
      while (shop.lines.filter((l) => l['event'] === 'migrate_retry').length < 3) {
        expect(shop.child.exitCode, shop.stderr()).toBeNull();
        await sleep(50);
      }
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const unready = await fetch(`${url}/readyz`);
      expect(unready.status).toBe(503);
      expect(await unready.json()).toMatchObject({
        status: 'not_ready',
        reason: 'starting: waiting for PostgreSQL',
      });
      const early = await fetch(`${url}/products`);
      expect(early.status).toBe(503);
      expect(((await early.json()) as { error: { code: string } }).error.code).toBe(
        'SHOP_DATABASE_UNAVAILABLE',
      );

      await stack.postgres.start();
      let ready = await fetch(`${url}/readyz`);
      for (let i = 0; i < 100 && ready.status !== 200; i++) {
        await sleep(100);
        ready = await fetch(`${url}/readyz`);
      }
      expect(ready.status).toBe(200);
      expect((await fetch(`${url}/products`)).status).toBe(200);
      const retries = shop.lines.filter((l) => l['event'] === 'migrate_retry');
      expect(retries.slice(0, 3).map((l) => [l['attempt'], l['delayMs']])).toEqual([
        [1, 200],
        [2, 400],
        [3, 800],
      ]);
      expect(await shop.stop()).toBe(0);
    } finally {
      await shop.stop();
    }
  });

  it('exits 0 when told to stop while it still waits for PostgreSQL', async () => {
    stack.postgres.kill('SIGINT');
    await stack.postgres.exited();
    const shop = spawnShop(stack.env({ PG_CONNECT_TIMEOUT_MS: '500' }));
    try {
      while (!shop.lines.some((l) => l['event'] === 'migrate_retry')) await sleep(50);
      expect(await shop.stop()).toBe(0);
    } finally {
      await shop.stop();
      await stack.postgres.start();
    }
  });
});
