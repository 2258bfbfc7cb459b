// The chart's metrics (values metrics.*), rendered by the real helm: exporter sidecars beside Redis,
// PostgreSQL and nginx, the prometheus.io annotations, and the Prometheus Operator's monitors.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const execFileP = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const chartDir = join(repoRoot, 'stack/chart');

function findHelm(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, 'helm'), constants.X_OK);
      return join(dir, 'helm');
    } catch {
      /* next */
    }
  }
  return join(repoRoot, '.tools/bin/helm');
}
const helm = findHelm();

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = Record<string, any>;

async function render(sets: Record<string, string | number | boolean> = {}): Promise<K8sObject[]> {
  const args = ['template', 'shop', chartDir, '--namespace', 'lab'];
  for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${String(v)}`);
  const { stdout } = await execFileP(helm, args, { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function get(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o;
}

const containers = (w: K8sObject): K8sObject[] => w.spec.template.spec.containers as K8sObject[];
const annotations = (w: K8sObject): Record<string, string> =>
  (w.spec.template.metadata.annotations ?? {}) as Record<string, string>;

const workloads: Array<[kind: string, name: string, port: number]> = [
  ['StatefulSet', 'shop-redis-master', 9121],
  ['StatefulSet', 'shop-redis-replica', 9121],
  ['StatefulSet', 'shop-postgresql', 9187],
  ['Deployment', 'shop-nginx', 9113],
];

describe('chart metrics (helm template)', () => {
  it('runs an exporter beside Redis, PostgreSQL and nginx and annotates each pod with its port', async () => {
    const objects = await render();
    for (const [kind, name, port] of workloads) {
      const w = get(objects, kind, name);
      // The main container stays first: clients and the lab read a pod's first container as its own.
      expect(containers(w).map((c) => c.name as string)).toEqual([containers(w)[0]!.name, 'metrics']);
      const sidecar = containers(w)[1]!;
      expect(sidecar.ports).toEqual([{ name: 'metrics', containerPort: port, protocol: 'TCP' }]);
      expect(sidecar.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });
      expect(annotations(w)).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(port),
        'prometheus.io/path': '/metrics',
      });
    }
    expect(annotations(get(objects, 'Deployment', 'shop-shop'))).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
    });
    const pg = containers(get(objects, 'StatefulSet', 'shop-postgresql'))[1]!;
    const env = Object.fromEntries((pg.env as K8sObject[]).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toEqual({
      DATA_SOURCE_URI: '127.0.0.1:5432/shop?sslmode=disable',
      DATA_SOURCE_USER: 'shop',
      DATA_SOURCE_PASS: { secretKeyRef: { name: 'shop-shop', key: 'postgres-password' } },
    });
    const nginx = get(objects, 'Deployment', 'shop-nginx');
    expect(containers(nginx)[1]!.args).toContain('--nginx.scrape-uri=http://127.0.0.1:8081/stub_status');
    const conf = get(objects, 'ConfigMap', 'shop-nginx').data['nginx.conf'] as string;
    expect(conf).toMatch(/listen 127\.0\.0\.1:8081;[\s\S]*location = \/stub_status \{\s*stub_status;/);
    // Off by default: the CRDs exist only where the Prometheus Operator runs.
    expect(objects.filter((o) => /Monitor$/.test(o.kind as string))).toEqual([]);
  });

  it('passes the Redis password to the exporter from the Secret, never as a value', async () => {
    const objects = await render({ 'redis.auth.password': 'pw-in-secret' });
    const exporter = containers(get(objects, 'StatefulSet', 'shop-redis-replica'))[1]!;
    expect(exporter.env).toEqual([
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'shop-shop', key: 'redis-password' } } },
    ]);
    expect(JSON.stringify(exporter)).not.toContain('pw-in-secret');
  });

  it('drops a sidecar, its annotations and the stub_status server when its exporter is off', async () => {
    const objects = await render({
      'metrics.redis.enabled': false,
      'metrics.postgresql.enabled': false,
      'metrics.nginx.enabled': false,
    });
    for (const [kind, name] of workloads) {
      const w = get(objects, kind, name);
      expect(containers(w)).toHaveLength(1);
      expect(annotations(w)['prometheus.io/scrape']).toBeUndefined();
    }
    expect(get(objects, 'ConfigMap', 'shop-nginx').data['nginx.conf']).not.toContain('stub_status');
    const none = await render({ 'metrics.annotations': false });
    expect(annotations(get(none, 'Deployment', 'shop-shop'))['prometheus.io/scrape']).toBeUndefined();
  });

  it('renders a ServiceMonitor over metrics Services, and PodMonitors, only when asked', async () => {
    const objects = await render({
      'metrics.serviceMonitor.enabled': true,
      'metrics.serviceMonitor.labels.release': 'kube-prometheus-stack',
      'metrics.podMonitor.enabled': true,
      'metrics.podMonitor.interval': '15s',
      'metrics.nginx.enabled': false,
    });
    const sm = get(objects, 'ServiceMonitor', 'shop-shop');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.spec.endpoints).toEqual([
      { port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' },
    ]);
    const selected = objects.filter(
      (o) =>
        o.kind === 'Service' &&
        Object.entries(sm.spec.selector.matchLabels as Record<string, string>).every(
          ([k, v]) => o.metadata.labels?.[k] === v,
        ),
    );
    expect(selected.map((s) => [s.metadata.name, s.spec.ports[0].port, s.spec.ports[0].targetPort])).toEqual([
      ['shop-shop-metrics', 8080, 'http'],
      ['shop-redis-metrics', 9121, 'metrics'],
      ['shop-postgresql-metrics', 9187, 'metrics'],
    ]);
    for (const s of selected) expect(s.spec.clusterIP).toBe('None');
    const shopPm = get(objects, 'PodMonitor', 'shop-shop');
    expect(shopPm.spec.podMetricsEndpoints).toEqual([
      { port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '10s' },
    ]);
    const exporters = get(objects, 'PodMonitor', 'shop-exporters');
    expect(exporters.spec.selector.matchExpressions).toEqual([
      { key: 'app.kubernetes.io/component', operator: 'In', values: ['redis', 'postgresql'] },
    ]);
    expect(exporters.spec.podMetricsEndpoints[0].port).toBe('metrics');
  });

  it('refuses a monitor interval that is not a Prometheus duration', async () => {
    await expect(render({ 'metrics.serviceMonitor.interval': 'often' })).rejects.toThrow(
      /metrics\/serviceMonitor\/interval/,
    );
  });
});
