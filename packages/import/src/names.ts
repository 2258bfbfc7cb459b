// The rule lives in core, with the other writers of `Pod.workload`; these names are the importer's.
export { workloadOfPodName as serviceOfPod, looksLikePodName as looksLikePod } from '@hindsight/core';

/** Lower-case letters and digits only: `PodName`, `pod_name` and `pod-name` compare equal. */
export function normalizeColumn(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}
