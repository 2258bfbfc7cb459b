import { diffValues, type Change } from '@hindsight/core';
import { isObject, list, str, time, type K8sWorkload } from './k8s.js';

function normalizeTemplate(t: K8sWorkload['spec']): unknown {
  const spec: Record<string, unknown> = isObject(t?.template?.spec) ? { ...t.template.spec } : {};
  // Containers are a list keyed by name: diff them as `containers.<name>.image`, not as one blob.
  for (const key of ['containers', 'initContainers']) {
    if (Array.isArray(spec[key])) {
      spec[key] = Object.fromEntries(
        list(spec[key]).map((c) => [(isObject(c) ? str(c['name']) : undefined) ?? '?', c]),
      );
    }
  }
  const meta = t?.template?.metadata;
  const labels = isObject(meta?.labels) ? { ...meta.labels } : {};
  delete labels['pod-template-hash'];
  return { labels, annotations: isObject(meta?.annotations) ? meta.annotations : {}, spec };
}

/**
 * Rollouts: each Deployment revision after the first, from its ReplicaSets' pod templates (the
 * `deployment.kubernetes.io/revision` annotation orders them).
 */
export function rollouts(replicaSets: K8sWorkload[]): Change[] {
  const byDeployment = new Map<string, Array<{ rev: number; rs: K8sWorkload }>>();
  for (const rs of replicaSets) {
    const m = rs.metadata ?? {};
    const owner = list(m.ownerReferences).find((o) => isObject(o) && o['kind'] === 'Deployment') as
      { name?: unknown } | undefined;
    const name = str(owner?.name);
    const rev = Number(m.annotations?.['deployment.kubernetes.io/revision']);
    if (!name || !Number.isInteger(rev)) continue;
    const key = JSON.stringify([str(m.namespace) ?? '', name]);
    const revisions = byDeployment.get(key) ?? [];
    revisions.push({ rev, rs });
    byDeployment.set(key, revisions);
  }
  const out: Change[] = [];
  for (const [key, revisions] of byDeployment) {
    revisions.sort((a, b) => a.rev - b.rev);
    const [namespace, name] = JSON.parse(key) as [string, string];
    for (let i = 1; i < revisions.length; i += 1) {
      const prev = revisions[i - 1]!;
      const cur = revisions[i]!;
      const t = time(cur.rs.metadata?.creationTimestamp);
      if (Number.isNaN(t)) continue;
      const diff = diffValues(normalizeTemplate(prev.rs.spec), normalizeTemplate(cur.rs.spec));
      const images = diff.some((d) => /\.image$/.test(d.path));
      out.push({
        id: `deployment/${namespace}/${name}/${cur.rev}`,
        time: new Date(t).toISOString(),
        kind: images ? 'image' : 'deployment',
        target: `deployment/${name}`,
        namespace,
        fromRevision: prev.rev,
        toRevision: cur.rev,
        components: [name],
        message: `rollout of deployment ${name}: revision ${prev.rev} -> ${cur.rev}`,
        diff,
      });
    }
  }
  return out;
}
