import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { inTransaction } from './db.js';
import { ShopError } from './errors.js';
import { traced } from './otel.js';
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
  if (latencyMs > 0)
    await traced('payment provider', () => new Promise((resolve) => setTimeout(resolve, latencyMs)));
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

/**
 * Completes a paid order. Idempotent: an order the sweeper completed meanwhile (see
 * {@link sweepStuckOrders}) answers as confirmed too, since the user asked for exactly that.
 */
export async function confirmOrder(pool: pg.Pool, orderId: number, userId: number): Promise<void> {
  const r = await pool.query(
    `UPDATE orders SET status = 'confirmed', closed_by = coalesce(closed_by, 'user'), updated_at = now()
      WHERE id = $1 AND user_id = $2 AND status IN ('paid', 'confirmed')`,
    [orderId, userId],
  );
  if (r.rowCount !== 1) throw new ShopError('SHOP_ORDER_NOT_PAID', `order ${orderId}`);
}

/** An order's status, or null when the user has no such order. */
export async function orderStatus(pool: pg.Pool, orderId: number, userId: number): Promise<string | null> {
  const r = await pool.query<{ status: string }>('SELECT status FROM orders WHERE id = $1 AND user_id = $2', [
    orderId,
    userId,
  ]);
  return r.rows[0]?.status ?? null;
}

/** An order left behind: pending or paid, and no longer on its way to completion. */
export interface StuckOrder {
  orderId: number;
  userId: number;
  status: 'pending' | 'paid';
  ageSeconds: number;
  /**
   * `session_missing`: its session is gone; `session_forgot_order`: the session names no order or
   * another one (a session write after COMMIT failed); `abandoned`: the session still names it, but it
   * has not moved for the stuck threshold (the user left after an error).
   */
  reason: 'session_missing' | 'session_forgot_order' | 'abandoned';
}

/**
 * Lists open (pending or paid) orders at least `minAgeSeconds` old whose session is gone or no
 * longer names them, and those that have not moved for `stuckAfterSeconds` whatever their session
 * says. Reads PostgreSQL, then Redis, never both at once.
 */
export async function listStuckOrders(
  pool: pg.Pool,
  master: RedisNodeClient,
  stuckAfterSeconds: number,
  minAgeSeconds = 0,
  limit = 1000,
): Promise<StuckOrder[]> {
  // Oldest first, so that a backlog of fresh orders never hides the ones past due.
  const open = await pool.query<{
    id: string;
    user_id: number;
    session_id: string;
    status: 'pending' | 'paid';
    age: number;
  }>(
    `SELECT id, user_id, session_id, status, extract(epoch FROM now() - updated_at)::float8 AS age
       FROM orders WHERE status IN ('pending', 'paid') AND updated_at <= now() - make_interval(secs => $1)
      ORDER BY updated_at, id LIMIT $2`,
    [minAgeSeconds, limit],
  );
  if (open.rows.length === 0) return [];
  const raws = await master.client.mget(open.rows.map((r) => sessionKey(r.session_id)));
  const stuck: StuckOrder[] = [];
  open.rows.forEach((row, i) => {
    const raw = raws[i] ?? null;
    const orderId = Number(row.id);
    const session = raw === null ? null : (JSON.parse(raw) as SessionData);
    const reason =
      session === null
        ? 'session_missing'
        : session.order?.id !== orderId
          ? 'session_forgot_order'
          : row.age >= stuckAfterSeconds
            ? 'abandoned'
            : null;
    if (reason === null) return;
    stuck.push({ orderId, userId: row.user_id, status: row.status, ageSeconds: Math.floor(row.age), reason });
  });
  return stuck;
}

/** What one sweep did: the orders still stuck (too young), those released and those completed. */
export interface SweepResult {
  stuck: number;
  released: number[];
  completed: number[];
}

/**
 * Closes the stuck orders older than `stuckAfterSeconds`, by one rule: a pending order (nothing
 * paid) is released and its stock returned; a paid order (the payment is taken and its stock held)
 * is completed, `confirmed` with `closed_by = 'sweeper'`, so no charge is left without its order.
 * Each is one conditional statement (`WHERE status = 'pending'` / `'paid'`) that takes the row lock,
 * so when several pods sweep at once, or a user pays or confirms meanwhile, each order is closed
 * exactly once.
 */
export async function sweepStuckOrders(
  pool: pg.Pool,
  master: RedisNodeClient,
  stuckAfterSeconds: number,
  log: FastifyBaseLogger,
): Promise<SweepResult> {
  const stuck = await listStuckOrders(pool, master, stuckAfterSeconds);
  const due = stuck.filter((s) => s.ageSeconds >= stuckAfterSeconds);
  const pending = due.filter((s) => s.status === 'pending').map((s) => s.orderId);
  const paid = due.filter((s) => s.status === 'paid').map((s) => s.orderId);
  const released = pending.length === 0 ? [] : await releaseOrders(pool, pending);
  const completed = paid.length === 0 ? [] : await completeOrders(pool, paid);
  for (const orderId of released) log.info({ event: 'order_released', orderId }, 'stuck order released');
  for (const orderId of completed)
    log.info({ event: 'order_completed', orderId }, 'paid order left behind completed');
  return { stuck: stuck.length - released.length - completed.length, released, completed };
}

async function releaseOrders(pool: pg.Pool, ids: number[]): Promise<number[]> {
  const r = await pool.query<{ id: string }>(
    `WITH r AS (
       UPDATE orders SET status = 'released', closed_by = 'sweeper', released_at = now(), updated_at = now()
        WHERE id = ANY($1::bigint[]) AND status = 'pending'
       RETURNING id
     ), items AS (
       SELECT oi.sku, sum(oi.qty)::int AS qty FROM order_items oi JOIN r ON r.id = oi.order_id GROUP BY oi.sku
     ), restock AS (
       UPDATE products p SET stock = p.stock + items.qty FROM items WHERE p.sku = items.sku RETURNING p.sku
     )
     SELECT id FROM r ORDER BY id`,
    [ids],
  );
  return r.rows.map((row) => Number(row.id));
}

async function completeOrders(pool: pg.Pool, ids: number[]): Promise<number[]> {
  const r = await pool.query<{ id: string }>(
    `UPDATE orders SET status = 'confirmed', closed_by = 'sweeper', updated_at = now()
      WHERE id = ANY($1::bigint[]) AND status = 'paid'
      RETURNING id`,
    [ids],
  );
  return r.rows.map((row) => Number(row.id)).sort((a, b) => a - b);
}
