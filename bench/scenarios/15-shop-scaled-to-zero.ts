// 15. The shop scaled to zero: the proxy has no upstream.
import type { Scenario } from '@hindsight/lab/demo';

// spec.replicas of the shop's Deployment 2 -> 0: nginx answers every request with a 502 or 503 and
// the shop's logs fall silent; nothing in them says why.
export const scenario: Scenario = {
  name: 'shop-scaled-to-zero',
  mechanism: 'the shop scaled to zero pods (every request a 502 at the proxy)',
  up: ['shop.replicaCount=2'],
  fault: ['shop.replicaCount=0'],
  decoys: [['nginx.logLevel=error'], ['redis.logLevel=warning']],
  expected: ['shop.replicaCount'],
};
