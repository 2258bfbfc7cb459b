// 11. The shop's PostgreSQL statement timeout lowered below what a checkout's statements take.
import type { Scenario } from '@hindsight/lab/demo';

// The rendered change is the shop container's PG_STATEMENT_TIMEOUT_MS (5000 -> 2): PostgreSQL
// cancels the checkout's statements ("canceling statement due to statement timeout") and the shop
// answers 5xx; the decoys roll the shop and PostgreSQL's neighbours.
export const scenario: Scenario = {
  name: 'pg-statement-timeout-low',
  mechanism: "the shop's PostgreSQL statement timeout below its statements' time (statements cancelled)",
  up: ['shop.postgres.statementTimeoutMs=5000'],
  fault: ['shop.postgres.statementTimeoutMs=2'],
  decoys: [['shop.logLevel=debug'], ['postgresql.maxConnections=120']],
  expected: ['shop.postgres.statementTimeoutMs'],
};
