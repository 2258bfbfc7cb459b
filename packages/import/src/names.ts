// Kubernetes naming conventions, not any application's names: a Deployment's pod is
// `<deployment>-<pod-template-hash>-<5 random>` and a StatefulSet's is `<statefulset>-<ordinal>`
// (kubernetes.io/docs/concepts/workloads). The service is the workload's name.
const DEPLOYMENT_POD = /^(.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$/;
const STATEFULSET_POD = /^(.+)-\d+$/;

/** The workload (and so the service) a pod belongs to, from its name; the name itself when unknown. */
export function serviceOfPod(pod: string): string {
  const d = DEPLOYMENT_POD.exec(pod);
  if (d) return d[1] as string;
  const s = STATEFULSET_POD.exec(pod);
  if (s) return s[1] as string;
  return pod;
}

/** Whether a name has the shape of a Deployment's or StatefulSet's pod. */
export function looksLikePod(name: string): boolean {
  return DEPLOYMENT_POD.test(name) || STATEFULSET_POD.test(name);
}

/** Lower-case letters and digits only: `PodName`, `pod_name` and `pod-name` compare equal. */
export function normalizeColumn(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}
