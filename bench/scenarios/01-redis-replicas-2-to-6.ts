// 1. The story: more replicas while sessions are read from replicas, raised alone (the story).
import { storyScenario, type Scenario } from '@hindsight/lab/demo';

// The demo flips readinessRequiresSync in the same upgrade (see storyScenario). Here the replicas are
// ready before their first sync from the start, and the upgrade raises replicaCount alone. Why a
// short replica connection age: kube-proxy balances connections, not commands, so only a new
// connection can land on a new replica; the shop replaces a replica connection when it reaches
// shop.redisReplicaMaxConnAgeSeconds (60 by default; 5 here, so that a lab minute holds what a
// production hour does), and fresh connections land on the new replicas while they are still
// empty. Measured in one run (time scale 0.2, 20 users): 0.08 sessions lost a second before the
// upgrade, 2.25 after it (a redis.logLevel decoy after it included); the bench's runs lost 118-277.
// Not the demo's yet: after the fix (replicaCount back to 2) 30 sessions were still lost in 12 s
// against 261 before it, above the demo test's tenth.
// The demo keeps its decoy before the fault; here the split is drawn from the seed like the others.
export const scenario: Scenario = {
  ...storyScenario,
  up: [
    ...storyScenario.up.filter((s) => !s.startsWith('redis.replica.readinessRequiresSync=')),
    'shop.redisReplicaMaxConnAgeSeconds=5',
    'redis.replica.readinessRequiresSync=false',
  ],
  fault: ['redis.replica.replicaCount=6'],
  decoysBefore: undefined,
};
