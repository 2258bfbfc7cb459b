// The lab's scrape targets from the chart as the real helm renders it: the prometheus.io annotations
// by default, the ServiceMonitor or PodMonitors when the values turn them on. No process runs: the
// pods are the workloads' templates, each container port given a made-up local port.
import { describe, expect, it } from 'vitest';
import { defaultChartDir } from '../paths.js';
import { renderChart } from '../helm.js';
import type { Values } from '../values.js';
import { parseManifest } from './cluster.js';
import type { LabPod, Workload } from './pod.js';
import { scrapeTargets } from './scrape-targets.js';

async function rendered(
  values: Values = {},
): Promise<{ objects: ReturnType<typeof parseManifest>; pods: LabPod[] }> {
  const { manifest } = await renderChart({
    chartDir: defaultChartDir,
    release: 'shop',
    namespace: 'lab',
    values,
  });
  const objects = parseManifest(manifest);
  let next = 40000;
  const pods: LabPod[] = [];
  for (const w of objects.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
    const spec = w.spec.template.spec;
    const ports = new Map<number, number>();
    const portNames = new Map<string, number>();
    for (const c of spec.containers)
      for (const p of c.ports ?? []) {
        ports.set(p.containerPort, next++);
        if (p.name) portNames.set(p.name, p.containerPort);
      }
    pods.push({
      name: `${w.metadata.name}-0`,
      labels: w.spec.template.metadata.labels ?? {},
      annotations: w.spec.template.metadata.annotations ?? {},
      spec,
      ports,
      portNames,
      deleting: false,
    } as LabPod);
  }
  return { objects, pods };
}

const summary = (targets: ReturnType<typeof scrapeTargets>['targets']) =>
  targets.map((t) => `${t.labels['job']} ${t.labels['pod']}/${t.labels['container']}${t.path}`);

describe('scrape targets of the rendered chart', () => {
  it('follows the prometheus.io annotations: the shop and each exporter sidecar, at its local port', async () => {
    const { objects, pods } = await rendered();
    const { discovery, targets } = scrapeTargets(objects, pods, 'lab');
    expect(discovery).toBe('annotations');
    expect(summary(targets)).toEqual([
      'kubernetes-pods shop-nginx-0/metrics/metrics',
      'kubernetes-pods shop-postgresql-0/metrics/metrics',
      'kubernetes-pods shop-redis-master-0/metrics/metrics',
      'kubernetes-pods shop-redis-replica-0/metrics/metrics',
      'kubernetes-pods shop-shop-0/shop/metrics',
    ]);
    const pg = pods.find((p) => p.name === 'shop-postgresql-0')!;
    expect(targets[1]).toEqual({
      address: `127.0.0.1:${pg.ports.get(9187)}`,
      path: '/metrics',
      labels: { namespace: 'lab', pod: 'shop-postgresql-0', container: 'metrics', job: 'kubernetes-pods' },
    });
  });

  it('leaves out a pod being deleted and a sidecar the lab could not run', async () => {
    const { objects, pods } = await rendered();
    pods.find((p) => p.name === 'shop-shop-0')!.deleting = true;
    pods.find((p) => p.name === 'shop-nginx-0')!.leftOut = [{ container: 'metrics', why: 'not installed' }];
    const { targets } = scrapeTargets(objects, pods, 'lab');
    expect(targets.map((t) => t.labels['pod'])).toEqual([
      'shop-postgresql-0',
      'shop-redis-master-0',
      'shop-redis-replica-0',
    ]);
  });

  it('reads the ServiceMonitor instead, when the revision has one: job and service are the Service', async () => {
    const { objects, pods } = await rendered({ metrics: { serviceMonitor: { enabled: true } } });
    const { discovery, targets } = scrapeTargets(objects, pods, 'lab');
    expect(discovery).toBe('monitors');
    expect(summary(targets)).toEqual([
      'shop-nginx-metrics shop-nginx-0/metrics/metrics',
      'shop-postgresql-metrics shop-postgresql-0/metrics/metrics',
      'shop-redis-metrics shop-redis-master-0/metrics/metrics',
      'shop-redis-metrics shop-redis-replica-0/metrics/metrics',
      'shop-shop-metrics shop-shop-0/shop/metrics',
    ]);
    expect(targets[0]?.labels).toMatchObject({ service: 'shop-nginx-metrics', endpoint: 'metrics' });
  });

  it('reads the PodMonitors: the shop by its http port, the exporters by theirs, never nginx as the shop', async () => {
    const { objects, pods } = await rendered({
      metrics: { podMonitor: { enabled: true }, postgresql: { enabled: false } },
    });
    const { targets } = scrapeTargets(objects, pods, 'lab');
    expect(summary(targets)).toEqual([
      'lab/shop-exporters shop-nginx-0/metrics/metrics',
      'lab/shop-exporters shop-redis-master-0/metrics/metrics',
      'lab/shop-exporters shop-redis-replica-0/metrics/metrics',
      'lab/shop-shop shop-shop-0/shop/metrics',
    ]);
  });
});
