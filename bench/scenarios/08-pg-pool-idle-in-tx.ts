// 8. PostgreSQL pool raised with idle_in_transaction_session_timeout removed while Redis stalls.
import type { Scenario } from '@hindsight/lab/demo';

export const scenario: Scenario = {
  name: 'pg-pool-idle-in-tx',
  mechanism:
    'PostgreSQL pool raised with idle_in_transaction_session_timeout removed while Redis stalls (idle-in-transaction lock pile-up)',
  up: [
    'shop.postgres.poolMax=10',
    'shop.postgres.idleInTransactionTimeoutMs=10000',
    'shop.redisCommandTimeoutMs=500',
  ],
  fault: [
    'shop.postgres.poolMax=40',
    'shop.postgres.idleInTransactionTimeoutMs=0',
    'shop.redisCommandTimeoutMs=3000',
  ],
  decoys: [['nginx.proxyConnectTimeout=6s'], ['shop.podLabels.team=checkout']],
  expected: ['shop.postgres.poolMax', 'shop.postgres.idleInTransactionTimeoutMs'],
  caveat:
    'the chart has no value that makes Redis stall; a longer Redis command timeout stands in, so a slow Redis holds the checkout transaction open longer',
};
