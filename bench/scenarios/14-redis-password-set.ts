// 14. A password set on Redis while the shop's pods keep the empty one they started with.
import type { Scenario } from '@hindsight/lab/demo';

// The Redis StatefulSets roll with --requirepass; the shop's Deployment renders the same (its
// REDIS_PASSWORD comes from the Secret), so its pods keep the old password and every command on a
// new connection fails with NOAUTH.
export const scenario: Scenario = {
  name: 'redis-password-set',
  mechanism: 'a Redis password set under clients that keep the old one (NOAUTH on every command)',
  up: ['redis.auth.password='],
  fault: ['redis.auth.password=now-with-a-password-42'],
  decoys: [['redis.logLevel=warning'], ['shop.logLevel=debug']],
  expected: ['redis.auth.password'],
};
