// 2. Reads moved to replicas without the read-your-writes guard: replication lag loses fresh sessions.
import type { Scenario } from '@hindsight/lab/demo';

export const scenario: Scenario = {
  name: 'reads-to-replicas-no-guard',
  mechanism: 'reads moved to replicas without the read-your-writes guard (lag loses fresh sessions)',
  up: ['shop.session.readFrom=master', 'shop.session.readYourWrites=true', 'shop.session.rolling=true'],
  fault: ['shop.session.readFrom=replicas', 'shop.session.readYourWrites=false'],
  decoys: [['shop.logLevel=debug'], ['postgresql.maxConnections=120']],
  expected: ['shop.session.readFrom', 'shop.session.readYourWrites'],
};
