import type pg from 'pg';
import { ShopError } from './errors.js';
import { hashPassword } from './password.js';

/**
 * Runs `fn` in one transaction on a client checked out of the pool. While the client is held it
 * has an 'error' listener of its own: pg-pool listens only on idle clients, and a checked-out
 * client whose server goes away (PostgreSQL's fast shutdown terminates every backend) emits
 * 'error', which without a listener is an uncaught exception that ends the process. The query in
 * flight rejects too, so the caller still gets the error; the broken client is destroyed on release,
 * never handed to the next request.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw new ShopError('SHOP_DATABASE_UNAVAILABLE', (err as Error).message, { cause: err });
  }
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (broken === undefined) await client.query('ROLLBACK').catch(() => undefined);
    // After a connection error the next query fails with "not queryable": the cause is the error.
    if (broken !== undefined && !(err instanceof ShopError))
      throw new ShopError('SHOP_DATABASE_UNAVAILABLE', broken.message, { cause: err });
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/** Schema changes in order; each runs once, recorded in schema_migrations. */
const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE products (
        sku text PRIMARY KEY,
        name text NOT NULL,
        price_cents integer NOT NULL CHECK (price_cents >= 0),
        stock integer NOT NULL CHECK (stock >= 0)
      );
      CREATE TABLE users (
        id serial PRIMARY KEY,
        username text NOT NULL UNIQUE,
        password_hash text NOT NULL
      );
      CREATE TABLE orders (
        id bigserial PRIMARY KEY,
        user_id integer NOT NULL REFERENCES users(id),
        session_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'paid', 'confirmed', 'released')),
        total_cents integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        released_at timestamptz
      );
      CREATE INDEX orders_pending ON orders (updated_at) WHERE status = 'pending';
      CREATE TABLE order_items (
        order_id bigint NOT NULL REFERENCES orders(id),
        sku text NOT NULL REFERENCES products(sku),
        qty integer NOT NULL CHECK (qty > 0),
        price_cents integer NOT NULL,
        PRIMARY KEY (order_id, sku)
      );
      CREATE TABLE payments (
        idempotency_key text PRIMARY KEY,
        order_id bigint NOT NULL REFERENCES orders(id),
        amount_cents integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX payments_one_per_order ON payments (order_id);
    `,
  },
  {
    // Who closed an order: the user (confirm) or the sweeper (a release, or the completion of a paid
    // order left behind). Paid orders are swept too, so the index covers both open states.
    version: 2,
    sql: `
      ALTER TABLE orders ADD COLUMN closed_by text CHECK (closed_by IN ('user', 'sweeper'));
      CREATE INDEX orders_open ON orders (updated_at) WHERE status IN ('pending', 'paid');
      DROP INDEX orders_pending;
    `,
  },
];

/**
 * Applies the migrations not applied yet, under an advisory lock so that several pods starting at
 * once migrate one after another. Idempotent.
 */
export async function migrate(pool: pg.Pool): Promise<number[]> {
  return inTransaction(pool, async (client) => {
    const applied: number[] = [];
    await client.query('SELECT pg_advisory_xact_lock(7243001)');
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
      applied.push(m.version);
    }
    return applied;
  });
}

/** Where {@link prepareDatabase} reports its attempts (a pino or Fastify logger fits). */
export interface AttemptLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/**
 * Migrates and seeds, waiting for PostgreSQL as long as it takes: each failed attempt is logged
 * (`migrate_retry`, with the attempt and the wait) and retried after an exponential backoff from
 * `firstDelayMs`, doubling up to `maxDelayMs`. A pod that exits instead makes the kubelet's own
 * back-off (up to 5 minutes) the time to recover after the database returns. Rejects only when
 * `signal` aborts (the process is told to stop), with the signal's reason.
 */
export async function prepareDatabase(
  pool: pg.Pool,
  log: AttemptLog,
  options: { signal?: AbortSignal; firstDelayMs?: number; maxDelayMs?: number } = {},
): Promise<number[]> {
  const first = options.firstDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      const applied = await migrate(pool);
      await seed(pool);
      return applied;
    } catch (err) {
      const delayMs = Math.min(max, first * 2 ** (attempt - 1));
      log.warn(
        { event: 'migrate_retry', store: 'postgresql', attempt, delayMs, err: (err as Error).message },
        'database not ready; retrying',
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delayMs);
        function done() {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', done);
          resolve();
        }
        options.signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}

/** The seeded catalogue: sku, name, price in cents, initial stock. */
export const SEED_PRODUCTS: readonly { sku: string; name: string; priceCents: number; stock: number }[] = [
  { sku: 'tea-green', name: 'Green tea, 100 g', priceCents: 650, stock: 100_000 },
  { sku: 'tea-black', name: 'Black tea, 100 g', priceCents: 590, stock: 100_000 },
  { sku: 'mug', name: 'Stoneware mug', priceCents: 1400, stock: 100_000 },
  { sku: 'kettle', name: 'Kettle, 1 l', priceCents: 3900, stock: 100_000 },
  { sku: 'teapot', name: 'Cast iron teapot', priceCents: 5200, stock: 100_000 },
];

/** Seeded users: alice, bob, carol and shopper01..shopper20; each password is `<username>-password`. */
export const SEED_USERS: readonly { username: string; password: string }[] = [
  'alice',
  'bob',
  'carol',
  ...Array.from({ length: 20 }, (_, i) => `shopper${String(i + 1).padStart(2, '0')}`),
].map((username) => ({ username, password: `${username}-password` }));

/** Inserts the seeded products and users that are not there yet (idempotent). */
export async function seed(pool: pg.Pool): Promise<void> {
  for (const p of SEED_PRODUCTS) {
    await pool.query(
      'INSERT INTO products (sku, name, price_cents, stock) VALUES ($1, $2, $3, $4) ON CONFLICT (sku) DO NOTHING',
      [p.sku, p.name, p.priceCents, p.stock],
    );
  }
  const existing = new Set(
    (await pool.query<{ username: string }>('SELECT username FROM users')).rows.map((r) => r.username),
  );
  for (const u of SEED_USERS) {
    if (existing.has(u.username)) continue;
    await pool.query(
      'INSERT INTO users (username, password_hash) VALUES ($1, $2) ON CONFLICT (username) DO NOTHING',
      [u.username, await hashPassword(u.password)],
    );
  }
}
