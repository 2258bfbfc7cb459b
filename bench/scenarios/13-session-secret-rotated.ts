// 13. The session signing secret rotated with a rollout: every signed-in user is signed out.
import type { Scenario } from '@hindsight/lab/demo';

// The Secret alone does not restart a pod (a pod reads a Secret's env at start), so the rotation
// comes with a pod annotation that rolls the shop, as teams do with a checksum annotation. Every
// cookie signed with the old secret then fails its check: 401s at the proxy, sessions lost, and
// no error line in the shop's log.
export const scenario: Scenario = {
  name: 'session-secret-rotated',
  mechanism: 'the session signing secret rotated under signed-in users (401s, sessions lost)',
  up: ['shop.sessionSecret=first-secret-of-the-shop-0001'],
  fault: ['shop.sessionSecret=second-secret-of-the-shop-002', 'shop.podAnnotations.secret-rotated=second'],
  decoys: [['shop.logLevel=debug'], ['nginx.logLevel=error']],
  expected: ['shop.sessionSecret'],
};
