// 6. Session TTL below the length of a checkout.
import type { Scenario } from '@hindsight/lab/demo';

export const scenario: Scenario = {
  name: 'session-ttl-short',
  mechanism: 'session TTL below the length of a checkout',
  up: ['shop.session.ttlSeconds=1800', 'shop.checkout.paymentLatencyMs=1500'],
  fault: ['shop.session.ttlSeconds=1'],
  decoys: [['redis.logLevel=warning'], ['postgresql.maxConnections=120']],
  expected: ['shop.session.ttlSeconds'],
};
