import type { BundleWriter, Series } from '@hindsight/core';
import type { Warn } from './files.js';
import { str, type K8sWorkload } from './k8s.js';

/**
 * Writes each Deployment's desired and ready replicas at collection (time `at`), as
 * kube-state-metrics names them, so that a reader of the bundle finds them where a cluster's
 * metrics would put them; a Deployment short of ready replicas gets a note. A Deployment whose
 * counts are not numbers is skipped with a warning naming the file and field.
 */
export async function writeReplicaSeries(
  writer: BundleWriter,
  deployments: Array<{ item: K8sWorkload; file: string; index: number }>,
  at: number,
  warn: Warn,
): Promise<number> {
  let written = 0;
  for (const { item: d, file, index } of deployments) {
    const m = d.metadata ?? {};
    const name = str(m.name);
    if (!name) continue;
    const where = { file, what: `deployment ${name} (item ${index})` };
    const labels = { source: 'support-bundle', namespace: str(m.namespace) ?? '', deployment: name };
    const want = d.spec?.replicas ?? 0;
    const ready = d.status?.readyReplicas ?? 0;
    const bad = typeof want !== 'number' || !Number.isFinite(want) ? 'spec.replicas' : undefined;
    const field =
      bad ?? (typeof ready !== 'number' || !Number.isFinite(ready) ? 'status.readyReplicas' : undefined);
    if (field) {
      warn(file, `${where.what}: field ${field}: not a number; skipped`);
      continue;
    }
    const gauge = (metric: string, value: number): Series => ({
      name: metric,
      labels,
      kind: 'gauge',
      points: [[at, value]],
    });
    await writer.addSeries(gauge('kube_deployment_spec_replicas', want as number));
    await writer.addSeries(gauge('kube_deployment_status_replicas_ready', ready as number));
    written += 1;
    const [w, r] = [want as number, ready as number];
    if (r < w)
      writer.addNote(`deployment ${labels.namespace}/${name}: ${r} of ${w} replicas ready at collection`);
  }
  return written;
}
