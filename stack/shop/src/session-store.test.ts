import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InjectClient, startShopTestStack, type ShopTestStack } from './testing/stack.js';

let stack: ShopTestStack;
beforeAll(async () => {
  stack = await startShopTestStack({ replicas: 2 });
  // The first app migrates and seeds; the tests below build their own.
  const { app } = await stack.app();
  await app.close();
});
afterAll(async () => {
  await stack?.stop();
});

/**
 * Replica 0 stops applying the master's writes but keeps answering reads, as a replica that is
 * behind does (REPLICAOF NO ONE keeps its data; re-attaching resyncs it).
 */
async function withLaggingReplica<T>(fn: () => Promise<T>): Promise<T> {
  const replica = stack.redis.replicas[0]!;
  await replica.command('REPLICAOF', 'NO', 'ONE');
  try {
    return await fn();
  } finally {
    await replica.command('REPLICAOF', '127.0.0.1', String(stack.redis.master.port));
    for (let i = 0; i < 200 && (await replica.replicationInfo())['master_link_status'] !== 'up'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Login, read, add to cart, read again: what a user does in the first seconds of a visit. */
async function shortVisit(c: InjectClient, user: string): Promise<{ lost: boolean; cartEmpty: boolean }> {
  const statuses: number[] = [];
  statuses.push((await c.login(user)).status);
  statuses.push((await c.request('GET', '/cart')).status);
  statuses.push((await c.request('POST', '/cart/items', { sku: 'tea-green' })).status);
  const cart = await c.request('GET', '/cart');
  statuses.push(cart.status);
  return {
    lost: statuses.some((s) => s === 401),
    cartEmpty: cart.status === 200 && cart.body.items.length === 0,
  };
}

function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && !l.startsWith('#'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('redis session store', () => {
  it('keeps every session through a lagging replica when reads go to replicas with the guard on', async () => {
    const { app, logs } = await stack.app({
      SESSION_READ_FROM: 'replicas',
      SESSION_READ_YOUR_WRITES: 'true',
    });
    try {
      const visits = await withLaggingReplica(() =>
        Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            shortVisit(new InjectClient(app), `shopper${String(i + 1).padStart(2, '0')}`),
          ),
        ),
      );
      expect(visits.filter((v) => v.lost).length).toBe(0);
      expect(visits.filter((v) => v.cartEmpty).length).toBe(0);
      const metrics = (await app.inject('/metrics')).body;
      expect(metric(metrics, 'session_missing_total')).toBe(0);
      // The lag was real: the guard saw the lagging replica's stale answers and retried them on the master.
      expect(metric(metrics, 'session_stale_reads_total')).toBeGreaterThan(0);
      expect(logs.lines.filter((l) => l['event'] === 'stale_read_retried').length).toBe(
        metric(metrics, 'session_stale_reads_total'),
      );
      expect(logs.lines.filter((l) => l['event'] === 'missing')).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('loses sessions through the same lag with the guard off (the story), and counts each loss', async () => {
    const { app, logs } = await stack.app({
      SESSION_READ_FROM: 'replicas',
      SESSION_READ_YOUR_WRITES: 'false',
    });
    try {
      const visits = await withLaggingReplica(() =>
        Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            shortVisit(new InjectClient(app), `shopper${String(i + 1).padStart(2, '0')}`),
          ),
        ),
      );
      const lost = visits.filter((v) => v.lost).length;
      expect(lost).toBeGreaterThan(0);
      const missingLines = logs.lines.filter((l) => l['msg'] === 'session missing');
      expect(missingLines.length).toBeGreaterThanOrEqual(lost);
      expect(missingLines[0]).toMatchObject({
        event: 'missing',
        node: `127.0.0.1:${stack.redis.replicas[0]!.port}`,
        pod: 'shop-test',
      });
      // The loss is silent to the usual checks: no error-level line at all.
      expect(logs.lines.filter((l) => Number(l['level']) >= 50)).toEqual([]);
      const metrics = (await app.inject('/metrics')).body;
      expect(metric(metrics, 'session_missing_total')).toBe(missingLines.length);
    } finally {
      await app.close();
    }
  });

  it('fails a session write loudly (503 and an error line naming the store) when the master hangs', async () => {
    const { app, logs } = await stack.app({ REDIS_COMMAND_TIMEOUT_MS: '200' });
    try {
      const c = new InjectClient(app);
      expect((await c.login('carol')).status).toBe(200);
      // Writes block on the paused master; reads still answer. The command timeout turns the hang into an error.
      await stack.redis.master.command('CLIENT', 'PAUSE', '1500', 'WRITE');
      const add = await c.request('POST', '/cart/items', { sku: 'mug' });
      expect(add.status).toBe(503);
      expect(add.body.error.code).toBe('SHOP_SESSION_STORE_UNAVAILABLE');
      const line = logs.lines.find((l) => l['event'] === 'session_store_error');
      expect(line).toMatchObject({
        level: 50,
        store: 'redis',
        role: 'master',
        node: `127.0.0.1:${stack.redis.master.port}`,
        op: 'write',
      });
      expect(String(line?.['err'])).toMatch(/timed? ?out/i);
    } finally {
      await stack.redis.master.command('CLIENT', 'UNPAUSE');
      await app.close();
    }
  });

  it('fails writes loudly and reports not ready when the master is down', async () => {
    const { app, logs } = await stack.app({ SESSION_READ_FROM: 'replicas' });
    try {
      const c = new InjectClient(app);
      expect((await c.login('bob')).status).toBe(200);
      await stack.redis.master.stop();
      const add = await c.request('POST', '/cart/items', { sku: 'mug' });
      expect(add.status).toBe(503);
      expect(add.body.error.code).toBe('SHOP_SESSION_STORE_UNAVAILABLE');
      expect(
        logs.lines.some(
          (l) => l['event'] === 'session_store_error' && l['op'] === 'write' && l['store'] === 'redis',
        ),
      ).toBe(true);
      expect((await new InjectClient(app).login('alice')).status).toBe(503);
      const ready = await app.inject('/readyz');
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'not_ready', postgres: 'ok' });
      expect(ready.json().redis).not.toBe('ok');
      expect((await app.inject('/healthz')).statusCode).toBe(200);
      const metrics = (await app.inject('/metrics')).body;
      expect(metrics).toMatch(
        /session_store_operations_total\{op="set",node="127\.0\.0\.1:\d+",outcome="error"\} [1-9]/,
      );
    } finally {
      await app.close();
    }
  });
});

describe('replica connections', () => {
  it('opens a pool per replica URL and replaces connections past their maximum age, so new replicas get reads', async () => {
    const { app, config } = await stack.app({
      SESSION_READ_FROM: 'replicas',
      REDIS_REPLICA_URLS: `redis://127.0.0.1:${stack.redis.replicas[0]!.port}`,
      REDIS_REPLICA_POOL_SIZE: '3',
      REDIS_REPLICA_MAX_CONN_AGE_SECONDS: '1',
    });
    const shopClients = async (): Promise<string[]> =>
      (await stack.redis.replicas[0]!.command('CLIENT', 'LIST'))
        .split('\n')
        .filter((l) => l.includes(`name=shop:${config.podName}`))
        .map((l) => /id=(\d+)/.exec(l)![1]!)
        .sort();
    try {
      const before = await shopClients();
      expect(before).toHaveLength(3);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const after = await shopClients();
      // One fresh connection may be open for a moment before the one it replaces has quit.
      expect(after.length).toBeGreaterThanOrEqual(3);
      expect(after.length).toBeLessThanOrEqual(4);
      expect(after.filter((id) => before.includes(id))).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
