import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { inTransaction } from './db.js';
import { ShopError } from './errors.js';
import type { RedisNodeClient } from './plugins/redis.js';
import { sessionKey, type SessionData } from './session-store.js';

/**
 * Reserves the cart's stock and creates a pending order, in one transaction that makes no Redis
 * call (the caller writes the session after COMMIT), so a stalled Redis never holds row locks.
 * Rows are locked in sku order, so two checkouts never deadlock.
 */
export async function startCheckout(
  pool: pg.Pool,
  userId: number,
  sessionId: string,
  cart: Record<string, number>,
): Promise<{ orderId: number; totalCents: number }> {
  const skus = Object.keys(cart).sort();
  return inTransaction(pool, async (client) => {
    let total = 0;
    const lines: { sku: string; qty: number; price: number }[] = [];
    for (const sku of skus) {
      const qty = cart[sku]!;
      const r = await client.query<{ price_cents: number }>(
        'UPDATE products SET stock = stock - $2 WHERE sku = $1 AND stock >= $2 RETURNING price_cents',
        [sku, qty],
      );
      if (r.rowCount !== 1) throw new ShopError('SHOP_OUT_OF_STOCK', `${sku} x${qty}`);
      total += r.rows[0]!.price_cents * qty;
      lines.push({ sku, qty, price: r.rows[0]!.price_cents });
    }
    const order = await client.query<{ id: string }>(
      `INSERT INTO orders (user_id, session_id, status, total_cents) VALUES ($1, $2, 'pending', $3) RETURNING id`,
      [userId, sessionId, total],
    );
    const orderId = Number(order.rows[0]!.id);
    await client.query(
      'INSERT INTO order_items (order_id, sku, qty, price_cents) SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[])',
      [orderId, lines.map((l) => l.sku), lines.map((l) => l.qty), lines.map((l) => l.price)],
    );
    return { orderId, totalCents: total };
  });
}

/** The result of a payment: `replayed` when the idempotency key had been used for this order. */
export interface PaymentResult {
  orderId: number;
  amountCents: number;
  replayed: boolean;
}

async function existingPayment(
  db: pg.Pool | pg.PoolClient,
  key: string,
  orderId: number,
): Promise<PaymentResult | null> {
  const r = await db.query<{ order_id: string; amount_cents: number }>(
    'SELECT order_id, amount_cents FROM payments WHERE idempotency_key = $1',
    [key],
  );
  const row = r.rows[0];
  if (row === undefined) return null;
  if (Number(row.order_id) !== orderId) throw new ShopError('SHOP_IDEMPOTENCY_CONFLICT');
  return { orderId, amountCents: row.amount_cents, replayed: true };
}

/**
 * Pays a pending order once per idempotency key: the same key again returns the first result; a
 * second key for a paid order, or a released order, is refused. The simulated provider latency is
 * spent before the transaction opens, never inside it.
 */
export async function payOrder(
  pool: pg.Pool,
  orderId: number,
  userId: number,
  key: string,
  latencyMs: number,
): Promise<PaymentResult> {
  const before = await existingPayment(pool, key, orderId);
  if (before !== null) return before;
  if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
  return inTransaction(pool, async (client) => {
    const order = await client.query<{ status: string; total_cents: number }>(
      'SELECT status, total_cents FROM orders WHERE id = $1 AND user_id = $2 FOR UPDATE',
      [orderId, userId],
    );
    const row = order.rows[0];
    if (row === undefined) throw new ShopError('SHOP_NO_PENDING_ORDER');
    // Under the row lock, a concurrent request with the same key has either committed or not.
    const replay = await existingPayment(client, key, orderId);
    if (replay !== null) return replay;
    if (row.status !== 'pending')
      throw new ShopError('SHOP_ORDER_NOT_PAYABLE', `order ${orderId} is ${row.status}`);
    await client.query('INSERT INTO payments (idempotency_key, order_id, amount_cents) VALUES ($1, $2, $3)', [
      key,
      orderId,
      row.total_cents,
    ]);
    await client.query(`UPDATE orders SET status = 'paid', updated_at = now() WHERE id = $1`, [orderId]);
    return { orderId, amountCents: row.total_cents, replayed: false };
  });
}

/** Completes a paid order. */
export async function confirmOrder(pool: pg.Pool, orderId: number, userId: number): Promise<void> {
  const r = await pool.query(
    `UPDATE orders SET status = 'confirmed', updated_at = now() WHERE id = $1 AND user_id = $2 AND status = 'paid'`,
    [orderId, userId],
  );
  if (r.rowCount !== 1) throw new ShopError('SHOP_ORDER_NOT_PAID', `order ${orderId}`);
}

/** A pending order whose session no longer records it. */
export interface StuckOrder {
  orderId: number;
  userId: number;
  ageSeconds: number;
  reason: 'session_missing' | 'session_forgot_order';
}

/**
 * Lists pending orders whose session is gone (or no longer names the order, as when the session
 * write after COMMIT failed). Reads PostgreSQL, then Redis, never both at once.
 */
export async function listStuckOrders(
  pool: pg.Pool,
  master: RedisNodeClient,
  minAgeSeconds = 0,
  limit = 1000,
): Promise<StuckOrder[]> {
  // Oldest first, so that a backlog of fresh pending orders never hides the ones past due.
  const pending = await pool.query<{ id: string; user_id: number; session_id: string; age: number }>(
    `SELECT id, user_id, session_id, extract(epoch FROM now() - updated_at)::float8 AS age
       FROM orders WHERE status = 'pending' AND updated_at <= now() - make_interval(secs => $1)
      ORDER BY updated_at, id LIMIT $2`,
    [minAgeSeconds, limit],
  );
  if (pending.rows.length === 0) return [];
  const raws = await master.client.mget(pending.rows.map((r) => sessionKey(r.session_id)));
  const stuck: StuckOrder[] = [];
  pending.rows.forEach((row, i) => {
    const raw = raws[i] ?? null;
    const orderId = Number(row.id);
    const session = raw === null ? null : (JSON.parse(raw) as SessionData);
    if (session !== null && session.order?.id === orderId) return;
    stuck.push({
      orderId,
      userId: row.user_id,
      ageSeconds: Math.floor(row.age),
      reason: session === null ? 'session_missing' : 'session_forgot_order',
    });
  });
  return stuck;
}

/**
 * Releases the stock of stuck orders older than `stuckAfterSeconds`. One statement flips each order
 * from pending to released and returns its stock: the conditional UPDATE takes the row lock, so when
 * several pods sweep at once each order is released exactly once (a second sweeper re-reads the row
 * after the first commits and finds it no longer pending).
 */
export async function sweepStuckOrders(
  pool: pg.Pool,
  master: RedisNodeClient,
  stuckAfterSeconds: number,
  log: FastifyBaseLogger,
): Promise<{ stuck: number; released: number[] }> {
  const stuck = await listStuckOrders(pool, master);
  const due = stuck.filter((s) => s.ageSeconds >= stuckAfterSeconds).map((s) => s.orderId);
  if (due.length === 0) return { stuck: stuck.length, released: [] };
  const r = await pool.query<{ id: string }>(
    `WITH r AS (
       UPDATE orders SET status = 'released', released_at = now(), updated_at = now()
        WHERE id = ANY($1::bigint[]) AND status = 'pending'
       RETURNING id
     ), items AS (
       SELECT oi.sku, sum(oi.qty)::int AS qty FROM order_items oi JOIN r ON r.id = oi.order_id GROUP BY oi.sku
     ), restock AS (
       UPDATE products p SET stock = p.stock + items.qty FROM items WHERE p.sku = items.sku RETURNING p.sku
     )
     SELECT id FROM r ORDER BY id`,
    [due],
  );
  const released = r.rows.map((row) => Number(row.id));
  for (const orderId of released) log.info({ event: 'order_released', orderId }, 'stuck order released');
  return { stuck: stuck.length - released.length, released };
}
