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
    const shop = spawnShop(stack.env({ PG_CONNECT_TIMEOUT_MS: '500', PAYMENT_LATENCY_MS: '0' }));
    try {
      const url = await shop.listening();
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
      expect(await shop.stop()).toBe(0);
    } finally {
      await shop.stop();
    }
  });
});
