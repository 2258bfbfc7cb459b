// 5. maxmemory with an evicting policy: sessions evicted without a word.
import type { Scenario } from '@hindsight/lab/demo';

export const scenario: Scenario = {
  name: 'maxmemory-evicting',
  mechanism: 'maxmemory with an evicting policy (sessions evicted without a word)',
  up: ['shop.session.rolling=true', 'redis.master.maxmemoryPolicy=noeviction'],
  fault: ['redis.master.maxmemory=1200kb', 'redis.master.maxmemoryPolicy=allkeys-lru'],
  decoys: [['nginx.logLevel=error'], ['shop.logLevel=debug']],
  expected: ['redis.master.maxmemory', 'redis.master.maxmemoryPolicy'],
};
