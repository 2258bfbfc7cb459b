import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepOnce } from './app.js';
import { InjectClient, startShopTestStack, stockDrift, type ShopTestStack } from './testing/stack.js';

let stack: ShopTestStack;
beforeAll(async () => {
  stack = await startShopTestStack({ replicas: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

async function checkout(c: InjectClient, user: string, steps: ('pay' | 'confirm')[]): Promise<number> {
  expect((await c.login(user)).status).toBe(200);
  expect((await c.request('POST', '/cart/items', { sku: 'kettle', qty: 2 })).status).toBe(200);
  const start = await c.request('POST', '/checkout/start');
  expect(start.status).toBe(200);
  if (steps.includes('pay'))
    expect((await c.request('POST', '/checkout/pay', { idempotencyKey: `pay-${user}-key` })).status).toBe(
      200,
    );
  if (steps.includes('confirm')) expect((await c.request('POST', '/checkout/confirm')).status).toBe(200);
  return start.body.orderId as number;
}

describe('no order left behind', () => {
  it('lists paid orders left behind and closes every one: pending released, paid completed', async () => {
    const { app, logs } = await stack.app({ POD_NAME: 'shop-sweep' });
    try {
      // A paid order whose session is lost; two the user walked away from after an error (their
      // session still names them); one done; one in progress.
      const lostPaid = new InjectClient(app);
      const lostPaidId = await checkout(lostPaid, 'shopper01', ['pay']);
      await lostPaid.request('POST', '/logout');
      const leftPaid = new InjectClient(app);
      const leftPaidId = await checkout(leftPaid, 'shopper02', ['pay']);
      const leftPending = new InjectClient(app);
      const leftPendingId = await checkout(leftPending, 'shopper03', []);
      await checkout(new InjectClient(app), 'shopper04', ['pay', 'confirm']);
      const busy = new InjectClient(app);
      const busyId = await checkout(busy, 'shopper05', ['pay']);

      const listed = (await app.inject('/admin/stuck')).json();
      expect(listed.orders).toEqual([
        expect.objectContaining({ orderId: lostPaidId, status: 'paid', reason: 'session_missing' }),
      ]);
      // Time passes for the abandoned ones (as if CHECKOUT_STUCK_AFTER_SECONDS went by).
      await stack.postgres.psql(
        `UPDATE orders SET updated_at = now() - interval '1 hour' WHERE id IN (${lostPaidId}, ${leftPaidId}, ${leftPendingId})`,
      );
      expect(
        (await app.inject('/admin/stuck'))
          .json()
          .orders.map((o: { orderId: number; reason: string }) => [o.orderId, o.reason]),
      ).toEqual([
        [lostPaidId, 'session_missing'],
        [leftPaidId, 'abandoned'],
        [leftPendingId, 'abandoned'],
      ]);

      expect(await sweepOnce(app)).toEqual({
        stuck: 0,
        released: [leftPendingId],
        completed: [lostPaidId, leftPaidId].sort((a, b) => a - b),
      });
      expect(
        await stack.postgres.psql(
          `SELECT id || ':' || status || ':' || coalesce(closed_by, '-') FROM orders ORDER BY id`,
        ),
      ).toBe(
        [
          `${lostPaidId}:confirmed:sweeper`,
          `${leftPaidId}:confirmed:sweeper`,
          `${leftPendingId}:released:sweeper`,
          `${leftPendingId + 1}:confirmed:user`,
          `${busyId}:paid:-`,
        ].join('\n'),
      );
      expect(
        logs.lines.filter((l) => l['event'] === 'order_completed').map((l) => l['orderId']),
      ).toHaveLength(2);
      expect(await stockDrift(stack.postgres)).toEqual([]);
      expect((await app.inject('/admin/stuck')).json().count).toBe(0);

      // The users come back: a confirm of an order the sweeper completed answers as confirmed; a
      // released order no longer blocks a new checkout.
      expect((await leftPaid.request('POST', '/checkout/confirm')).body).toEqual({
        orderId: leftPaidId,
        status: 'confirmed',
      });
      expect((await leftPending.request('POST', '/cart/items', { sku: 'mug' })).status).toBe(200);
      expect((await leftPending.request('POST', '/checkout/start')).status).toBe(200);
      expect((await busy.request('POST', '/checkout/confirm')).status).toBe(200);
      expect(await stockDrift(stack.postgres)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
