// 10. The shop's memory limit lowered below what a pod uses under load: OOM kills once load grows.
import type { Scenario } from '@hindsight/lab/demo';

// A shop pod starts well under 200 MiB and grows to ~230-245 MiB of RSS under the bench's load (measured
// with ps during a run), so the pods pass their readiness and are killed for memory seconds later,
// once load has grown: the harm starts after the change, and a benign rollout may come in between.
export const scenario: Scenario = {
  name: 'shop-memory-limit-low',
  mechanism: 'shop memory limit lowered below its working set under load (OOMKilled once load grows)',
  up: ['shop.resources.limits.memory=256Mi'],
  fault: ['shop.resources.limits.memory=200Mi'],
  decoys: [['redis.logLevel=warning'], ['shop.podLabels.team=checkout']],
  expected: ['shop.resources.limits.memory'],
  caveat: 'the lab kills a container whose main process RSS passes its limit, as the kernel would the cgroup',
};
