// 4. Master memory limit lowered with persistence off: the killed master restarts empty.
import type { Scenario } from '@hindsight/lab/demo';

export const scenario: Scenario = {
  name: 'master-memory-no-persistence',
  mechanism:
    'master memory limit lowered with persistence off (the killed master restarts empty, replicas copy the emptiness)',
  up: [
    'redis.master.persistence.enabled=false',
    'redis.master.memoryLimit=256Mi',
    'shop.session.rolling=true',
  ],
  fault: ['redis.master.memoryLimit=13Mi'],
  decoys: [['redis.logLevel=warning'], ['shop.podAnnotations.owner=payments']],
  expected: ['redis.master.memoryLimit'],
  caveat:
    'the lab kills a container whose main process RSS passes its limit; redis-server starts at ~11.5 MiB here, so 13Mi leaves ~1.5 MiB for sessions, client buffers and the replication backlog',
};
