// 9. PostgreSQL's connection limit lowered below what the shop's pools open under load.
import type { Scenario } from '@hindsight/lab/demo';

// shop.replicaCount x shop.postgres.poolMax (4 x 10) above postgresql.maxConnections: under load new
// connections fail with "too many clients", and the checkouts that needed them fail.
export const scenario: Scenario = {
  name: 'pg-max-connections-low',
  mechanism:
    'PostgreSQL max_connections lowered below the shop pools (new connections refused: too many clients)',
  up: ['shop.replicaCount=4', 'shop.postgres.poolMax=10', 'postgresql.maxConnections=100'],
  fault: ['postgresql.maxConnections=10'],
  decoys: [['shop.podLabels.team=checkout'], ['nginx.logLevel=error']],
  expected: ['postgresql.maxConnections'],
};
