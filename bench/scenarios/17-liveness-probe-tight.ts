// 17. The shop's liveness probe tightened until a busy pod fails it: restarts under load.
import type { Scenario } from '@hindsight/lab/demo';

// The rendered change is the shop container's livenessProbe (timeoutSeconds 2 -> 1, failureThreshold
// 3 -> 1, periodSeconds 10 -> 2): one slow answer from a pod whose event loop is busy (a login's
// scrypt, a GC pause) restarts it, and the requests it was serving are cut.
export const scenario: Scenario = {
  name: 'liveness-probe-tight',
  mechanism: "the shop's liveness probe tightened below a busy pod's answer time (restarts mid-request)",
  up: ['shop.probes.liveness.timeoutSeconds=2', 'shop.probes.liveness.failureThreshold=3'],
  fault: [
    'shop.probes.liveness.timeoutSeconds=1',
    'shop.probes.liveness.failureThreshold=1',
    'shop.probes.liveness.periodSeconds=2',
  ],
  decoys: [['redis.logLevel=warning'], ['shop.podLabels.team=checkout']],
  expected: [
    'shop.probes.liveness.timeoutSeconds',
    'shop.probes.liveness.failureThreshold',
    'shop.probes.liveness.periodSeconds',
  ],
  caveat:
    'a probe times out in real seconds in the lab, as the kubelet times it; how often it fails depends on the load of the machine',
};
