import http from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, spawnShop } from './testing/shop-process.js';
import { startShopTestStack, type ShopTestStack } from './testing/stack.js';

let stack: ShopTestStack;
beforeAll(async () => {
  stack = await startShopTestStack({ replicas: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One kept-alive connection, as a proxy holds to an upstream: requests go one after another on it. */
function keptAlive(baseUrl: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<Socket>();
  const request = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const req = http.request(new URL(path, baseUrl), {
        method,
        agent,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      });
      req.on('socket', (s: Socket) => sockets.add(s));
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }),
        );
      });
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const closed = () => [...sockets].every((s) => s.destroyed);
  return { request, sockets, closed };
}

describe('graceful shutdown', () => {
  it('on SIGTERM keeps answering on kept-alive connections with Connection: close, finishes requests in flight, then exits 0', async () => {
    const shop = spawnShop(stack.env({ SHUTDOWN_DRAIN_MS: '1500', PAYMENT_LATENCY_MS: '1000' }));
    try {
      const url = await shop.ready();
      const busy = keptAlive(url);
      const idle = keptAlive(url);
      expect((await busy.request('GET', '/products')).status).toBe(200);
      expect((await idle.request('GET', '/products')).connection).toBe('keep-alive');

      // A checkout whose payment (1 s) is in flight when SIGTERM comes.
      const buyer = new HttpClient(url);
      expect((await buyer.login('alice')).status).toBe(200);
      expect((await buyer.request('POST', '/cart/items', { sku: 'mug' })).status).toBe(200);
      expect((await buyer.request('POST', '/checkout/start')).status).toBe(200);
      const paying = buyer.request('POST', '/checkout/pay', { idempotencyKey: 'drain-pay-0001' });
      await sleep(200);
      shop.child.kill('SIGTERM');
      while (!shop.lines.some((l) => l['event'] === 'shutdown')) await sleep(10);

      // A POST on a connection kept alive from before is answered, and the shop asks to close it.
      const during = await busy.request('POST', '/login', { username: 'bob', password: 'bob-password' });
      expect(during).toMatchObject({ status: 200, connection: 'close' });
      const ready = await keptAlive(url).request('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'not_ready', reason: 'shutting down' });
      expect((await paying).status).toBe(200);

      expect(await shop.exited()).toBe(0);
      // The idle connection the client never closed was closed by the shop on its way out.
      expect(idle.closed()).toBe(true);
      expect(await stack.postgres.psql(`SELECT status FROM orders ORDER BY id DESC LIMIT 1`)).toBe('paid');
    } finally {
      await shop.stop();
    }
  });
});
