// 12. PostgreSQL's idle-in-transaction timeout, set by the shop, below a transaction's round trips.
import type { Scenario } from '@hindsight/lab/demo';

// The shop container's PG_IDLE_IN_TX_TIMEOUT_MS 10000 -> 1: PostgreSQL ends a session whose
// transaction waits over a millisecond for the shop's next statement ("terminating connection due
// to idle-in-transaction timeout"), which a loaded event loop often does, and the checkout fails.
// Tried first and dropped: the Redis command timeout at 1 ms (the new pods never passed readiness,
// the upgrade failed and the old pods kept serving: errors 2.8% -> 3.7%).
export const scenario: Scenario = {
  name: 'pg-idle-in-tx-timeout-low',
  mechanism:
    "PostgreSQL's idle-in-transaction timeout below a transaction's round trips (sessions ended mid-checkout)",
  up: ['shop.postgres.idleInTransactionTimeoutMs=10000'],
  fault: ['shop.postgres.idleInTransactionTimeoutMs=1'],
  decoys: [['redis.logLevel=warning'], ['shop.podLabels.team=checkout']],
  expected: ['shop.postgres.idleInTransactionTimeoutMs'],
};
