// 16. maxmemory below the sessions' size with no eviction: Redis refuses writes.
import type { Scenario } from '@hindsight/lab/demo';

// `maxmemory 1200kb` with `maxmemory-policy noeviction`: once the sessions pass it, every session
// write fails with "OOM command not allowed", logins and carts fail loudly.
export const scenario: Scenario = {
  name: 'redis-maxmemory-noeviction',
  mechanism:
    "Redis maxmemory below the sessions' size with no eviction (writes refused: OOM command not allowed)",
  up: ['redis.master.maxmemoryPolicy=noeviction', 'shop.session.rolling=true'],
  fault: ['redis.master.maxmemory=1200kb'],
  decoys: [['shop.podLabels.team=checkout'], ['nginx.logLevel=error']],
  expected: ['redis.master.maxmemory'],
};
