// 3. Replication backlog and replica output-buffer limit too small for write bursts.
import type { Scenario } from '@hindsight/lab/demo';

export const scenario: Scenario = {
  name: 'replication-backlog-too-small',
  mechanism:
    'a replication backlog and replica output-buffer limit too small for write bursts (drop, full resync, repeat)',
  up: [
    'shop.session.readFrom=replicas',
    'shop.session.readYourWrites=false',
    'shop.session.rolling=true',
    'redis.replica.readinessRequiresSync=false',
  ],
  fault: ['redis.replication.backlogSize=16kb', 'redis.replication.replicaOutputBufferLimit=32kb 16kb 1'],
  decoys: [['nginx.proxyConnectTimeout=6s'], ['shop.podLabels.team=checkout']],
  expected: ['redis.replication.backlogSize', 'redis.replication.replicaOutputBufferLimit'],
};
