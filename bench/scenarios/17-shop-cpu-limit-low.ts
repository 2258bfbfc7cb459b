// 17. A CPU limit put on the shop below what it needs under load: throttled, slow, timing out.
import type { Scenario } from '@hindsight/lab/demo';

// The rendered change adds the shop container's resources.limits.cpu (none -> 100m): a CFS quota
// of a tenth of a core, which the lab enforces in a cgroup where the machine allows (lab status
// says when it does not). Logins (scrypt) and bursts queue behind the throttle.
export const scenario: Scenario = {
  name: 'shop-cpu-limit-low',
  mechanism: 'a CPU limit on the shop below what it needs under load (throttled: slow requests, timeouts)',
  up: ['shop.resources.limits.memory=256Mi'],
  fault: ['shop.resources.limits.cpu=100m'],
  decoys: [['redis.logLevel=warning'], ['nginx.logLevel=error']],
  expected: ['shop.resources.limits.cpu'],
  caveat: 'the lab enforces CPU limits only where it can make a cgroup (root, cgroup v1 cpu or v2 cpu.max)',
};
