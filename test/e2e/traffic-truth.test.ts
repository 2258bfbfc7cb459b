import { runTraffic } from '@hindsight/lab';
import { spawnShop, startShopTestStack, stockDrift, type ShopTestStack } from '@hindsight/shop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `lab traffic`'s ground truth against a real shop process, real Redis and a real PostgreSQL whose
// postmaster is stopped (SIGINT, by pid) mid-run and started again; the database is read afterwards.

let stack: ShopTestStack;
beforeAll(async () => {
  stack = await startShopTestStack({ replicas: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lab traffic ground truth', () => {
  it('counts every order a fault leaves behind, not only those of lost sessions', async () => {
    // The default stuck threshold (300 s): the sweeper leaves the run's orders as the run left them.
    const shop = spawnShop(stack.env({ PG_CONNECT_TIMEOUT_MS: '500', PAYMENT_LATENCY_MS: '200' }));
    try {
      const baseUrl = await shop.ready();
      const run = runTraffic({ baseUrl, users: 8, durationMs: 8000 });
      // The fault comes once checkouts are under way (logins cost scrypt time on a loaded machine);
      // the payment latency keeps each of them open for a while.
      while (Number(await stack.postgres.psql('SELECT count(*) FROM orders')) < 8) await sleep(100);
      stack.postgres.kill('SIGINT');
      await stack.postgres.exited();
      await sleep(800);
      await stack.postgres.start();
      const s = await run;

      expect(shop.child.exitCode).toBeNull();
      expect(s.sessionsLost).toBe(0);
      expect(s.errors).toBeGreaterThan(0);
      const open = Number(
        await stack.postgres.psql(`SELECT count(*) FROM orders WHERE status IN ('pending', 'paid')`),
      );
      // Every order the users saw started and never confirmed is counted; a start answered 5xx may
      // have committed one more each, unseen.
      expect(open).toBeGreaterThan(0);
      expect(s.checkoutsStuck).toBeGreaterThan(0);
      expect(open).toBeGreaterThanOrEqual(s.checkoutsStuck);
      expect(open).toBeLessThanOrEqual(s.checkoutsStuck + s.checkoutStartsCut);
      expect(s.checkoutsStarted).toBe(s.checkoutsConfirmed + s.checkoutsStuck + s.checkoutsInFlightAtEnd);
      expect(await stockDrift(stack.postgres)).toEqual([]);
    } finally {
      await shop.stop();
    }
  });
});
