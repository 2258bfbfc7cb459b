import type pg from 'pg';
import { hashPassword } from './password.js';

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
];

/**
 * Applies the migrations not applied yet, under an advisory lock so that several pods starting at
 * once migrate one after another. Idempotent.
 */
export async function migrate(pool: pg.Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
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
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  return applied;
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
