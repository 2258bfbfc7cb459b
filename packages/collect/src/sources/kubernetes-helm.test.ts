import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type LogLine } from '@hindsight/core';
import { collect } from '../collect.js';
import { kubernetesSource } from './kubernetes.js';
import { helmSource } from './helm.js';
import { nginxSource } from './nginx.js';
import { FIXTURE_WINDOW, PLANTED, startKubeApi } from '../kube-fixture.js';
import { filesContaining, tempDir, type TestHttpServer } from '../test-support.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let api: { server: TestHttpServer; kubeconfig: string };
let out: string;
let result: Awaited<ReturnType<typeof collect>>;

beforeAll(async () => {
  tmp = await tempDir('hs-collect-k8s-');
  api = await startKubeApi(tmp.dir);
  out = `${tmp.dir}/bundle`;
  result = await collect({
    output: out,
    window: FIXTURE_WINDOW,
    kubeconfig: api.kubeconfig,
    sources: [kubernetesSource, helmSource],
  });
});
afterAll(async () => {
  await api?.server.close();
  await tmp?.cleanup();
});

async function lines(file: string): Promise<LogLine[]> {
  const b = await openBundle(out);
  const ref = (await b.logs()).find((r) => r.file === file);
  const got: LogLine[] = [];
  if (ref) for await (const l of b.readLog(ref)) got.push(l);
  return got;
}

describe('kubernetes and helm sources over HTTP against recorded API responses', () => {
  it('writes a bundle that validates, with both sources recorded', async () => {
    expect(await validateBundle(out)).toEqual([]);
    // No namespace given: the kubeconfig context's is used, and the manifest says which.
    expect(result.manifest.namespace).toBe('shop');
    expect(result.manifest.sources.map((s) => [s.name, s.status])).toEqual([
      ['kubernetes', 'ok'],
      ['helm', 'partial'],
    ]);
  });

  it('records pods with their component, workload, restarts and last termination', async () => {
    const pods = await (await openBundle(out)).pods();
    expect(pods.map((p) => p.name)).toEqual([
      'shop-nginx-5c6b7d8f9-kq8zt',
      'shop-redis-master-0',
      'shop-redis-replica-0',
      'shop-shop-7d9f8b6c5d-x2p4q',
    ]);
    const shop = pods.find((p) => p.component === 'shop');
    expect(shop).toMatchObject({ workload: 'shop-shop', node: 'node-a', phase: 'Running' });
    expect(shop?.containers[0]).toMatchObject({
      name: 'shop',
      restartCount: 2,
      lastTermination: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-11-25T10:31:10.000Z' },
    });
    expect(pods.find((p) => p.name === 'shop-redis-master-0')?.workload).toBe('shop-redis-master');
  });

  it('normalises the events of the window, probe failures included, and the termination', async () => {
    const events = await (await openBundle(out)).events();
    expect(events.map((e) => e.reason)).toEqual([
      'SuccessfulCreate',
      'Started',
      'Unhealthy',
      'ContainerTerminated',
      'BackOff',
    ]);
    // An event about a workload carries the workload's component.
    expect(events[0]).toMatchObject({
      object: { kind: 'StatefulSet', name: 'shop-redis-replica' },
      component: 'redis',
      count: 4,
    });
    expect(events.find((e) => e.reason === 'Unhealthy')).toMatchObject({
      type: 'Warning',
      count: 7,
      component: 'shop',
      object: { kind: 'Pod', name: 'shop-shop-7d9f8b6c5d-x2p4q', namespace: 'shop' },
    });
    expect(events.find((e) => e.reason === 'ContainerTerminated')?.message).toMatch(
      /OOMKilled \(exit code 137\)/,
    );
  });

  it('streams every container log from the window start, and the previous instance of the restarted one', async () => {
    const shop = await lines('logs/shop/shop-shop-7d9f8b6c5d-x2p4q/shop.log');
    expect(shop.map((l) => new Date(l.time).toISOString())).toEqual([
      '2026-11-25T10:31:12.100Z',
      '2026-11-25T10:32:00.500Z',
      '2026-11-25T10:45:10.000Z',
    ]);
    expect(await lines('logs/shop/shop-shop-7d9f8b6c5d-x2p4q/shop.previous.log')).toHaveLength(2);
    // The line from 08:58 lies before the window: sinceTime asked the API to leave it out.
    expect(await lines('logs/shop/shop-redis-master-0/redis.log')).toHaveLength(2);
    const asked = api.server.requests.filter((u) => u.pathname.endsWith('/log'));
    for (const u of asked) {
      expect(u.searchParams.get('timestamps')).toBe('true');
      expect(u.searchParams.get('sinceTime')).toBe('2026-11-25T10:00:00.000Z');
    }
    expect(asked.filter((u) => u.searchParams.get('previous') === 'true')).toHaveLength(1);
  });

  it('reads the topology from the depends-on annotations and component labels', async () => {
    expect(await (await openBundle(out)).topology()).toEqual({
      components: [
        { name: 'nginx', dependsOn: ['shop'] },
        { name: 'postgresql', dependsOn: [] },
        { name: 'redis', dependsOn: [] },
        { name: 'shop', dependsOn: ['postgresql', 'redis'] },
      ],
    });
  });

  it('records desired and ready replicas per workload as kube-state-metrics names them', async () => {
    const got: Array<[string, string | undefined, number | undefined]> = [];
    for await (const s of (await openBundle(out)).series())
      if (s.name.startsWith('kube_'))
        got.push([s.name, s.labels['deployment'] ?? s.labels['statefulset'], s.points[0]?.[1]]);
    expect(got.sort()).toEqual(
      [
        ['kube_deployment_spec_replicas', 'shop-nginx', 1],
        ['kube_deployment_status_replicas_ready', 'shop-nginx', 1],
        ['kube_deployment_spec_replicas', 'shop-shop', 2],
        ['kube_deployment_status_replicas_ready', 'shop-shop', 2],
        ['kube_statefulset_replicas', 'shop-postgresql', 1],
        ['kube_statefulset_status_replicas_ready', 'shop-postgresql', 1],
        ['kube_statefulset_replicas', 'shop-redis-master', 1],
        ['kube_statefulset_status_replicas_ready', 'shop-redis-master', 1],
        ['kube_statefulset_replicas', 'shop-redis-replica', 6],
        ['kube_statefulset_status_replicas_ready', 'shop-redis-replica', 6],
      ].sort(),
    );
  });

  it('turns each release revision in the window into a values diff, plus replica and image changes', async () => {
    const changes = await (await openBundle(out)).changes();
    const helm = changes.filter((c) => c.kind === 'helm');
    expect(helm.map((c) => [c.fromRevision, c.toRevision])).toEqual([
      [1, 2],
      [2, 3],
    ]);
    expect(helm[0]?.diff).toEqual([
      { path: 'redis.replica.replicaCount', from: 2, to: 6 },
      { path: 'shop.image.tag', to: '1.4.0' },
    ]);
    expect(helm[0]?.components).toEqual(['redis', 'shop']);
    expect(helm[0]).toMatchObject({ time: '2026-11-25T10:20:00.000Z', release: 'shop', namespace: 'shop' });
    expect(helm[1]?.diff).toEqual([{ path: 'redis.auth.password', from: '[REDACTED]', to: '[REDACTED]' }]);
    expect(changes.find((c) => c.kind === 'scale')).toMatchObject({
      target: 'StatefulSet/shop-redis-replica',
      components: ['redis'],
      toRevision: 2,
      diff: [{ path: 'spec.replicas', from: 2, to: 6 }],
    });
    expect(changes.find((c) => c.kind === 'image')).toMatchObject({
      target: 'Deployment/shop-shop',
      diff: [{ path: 'containers.shop.image', from: 'shop:1.3.0', to: 'shop:1.4.0' }],
    });
  });

  it('names the broken release record in a warning and reads the others', () => {
    const w = result.warnings.find((x) => x.code === 'HINDSIGHT_RELEASE_RECORD');
    expect(w?.where).toBe('secret/shop/sh.helm.release.v1.shop.v4');
    expect(result.manifest.sources.find((s) => s.name === 'helm')?.error).toMatch(
      /sh\.helm\.release\.v1\.shop\.v4/,
    );
  });

  it('writes no planted secret to disk', async () => {
    for (const s of PLANTED) expect(await filesContaining(out, s)).toEqual([]);
    expect(JSON.stringify(result)).not.toMatch(/planted-/);
  });

  it('reads an nginx access log from a pod log', async () => {
    const dir = `${tmp.dir}/nginx-pod`;
    const r = await collect({
      output: dir,
      window: FIXTURE_WINDOW,
      kubeconfig: api.kubeconfig,
      nginxPod: 'shop-nginx-5c6b7d8f9-kq8zt',
      sources: [nginxSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'nginx', status: 'ok' });
    const b = await openBundle(dir);
    const series = [];
    for await (const s of b.series()) series.push(s);
    expect(series.find((s) => s.name === 'nginx_requests')?.points).toEqual([
      [Date.parse('2026-11-25T10:32:00Z'), 2],
      [Date.parse('2026-11-25T10:32:01Z'), 1],
    ]);
    expect(series.find((s) => s.name === 'nginx_status_502')?.labels['pod']).toBe(
      'shop-nginx-5c6b7d8f9-kq8zt',
    );
  });

  it('finds the nginx pods by their component label when no pod is named', async () => {
    const dir = `${tmp.dir}/nginx-auto`;
    const r = await collect({
      output: dir,
      window: FIXTURE_WINDOW,
      kubeconfig: api.kubeconfig,
      sources: [nginxSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'nginx', status: 'ok' });
    const series = [];
    for await (const s of (await openBundle(dir)).series()) series.push(s);
    expect(series.find((s) => s.name === 'nginx_status_502')?.labels).toEqual({
      source: 'nginx',
      component: 'nginx',
      pod: 'shop-nginx-5c6b7d8f9-kq8zt',
    });
    const asked = api.server.requests.find(
      (u) => u.pathname === '/api/v1/namespaces/shop/pods' && u.searchParams.has('labelSelector'),
    );
    expect(asked?.searchParams.get('labelSelector')).toBe('app.kubernetes.io/component=nginx');
  });

  it('keeps going when part of the API refuses, and marks the source partial', async () => {
    const api2 = await startKubeApi(`${tmp.dir}`, { failEvents: true });
    try {
      const r = await collect({
        output: `${tmp.dir}/forbidden`,
        window: FIXTURE_WINDOW,
        kubeconfig: api2.kubeconfig,
        selector: 'app.kubernetes.io/component=redis',
        sources: [kubernetesSource],
      });
      expect(r.manifest.sources[0]).toMatchObject({ name: 'kubernetes', status: 'partial' });
      expect(r.manifest.sources[0]?.error).toMatch(/events: HTTP 403: events is forbidden/);
      const pods = await (await openBundle(`${tmp.dir}/forbidden`)).pods();
      expect(pods.map((p) => p.name)).toEqual(['shop-redis-master-0', 'shop-redis-replica-0']);
    } finally {
      await api2.server.close();
    }
  });

  it('reports a log whose connection drops mid-way, and reads the other logs', async () => {
    const api3 = await startKubeApi(`${tmp.dir}`, { breakLogOf: 'shop-redis-master-0' });
    try {
      const r = await collect({
        output: `${tmp.dir}/broken-log`,
        window: FIXTURE_WINDOW,
        kubeconfig: api3.kubeconfig,
        sources: [kubernetesSource],
      });
      expect(r.manifest.sources[0]).toMatchObject({ name: 'kubernetes', status: 'partial' });
      expect(r.warnings.map((w) => w.message)).toEqual([
        expect.stringMatching(/cannot read the log of shop-redis-master-0\/redis/),
      ]);
      const logs = (await (await openBundle(`${tmp.dir}/broken-log`)).logs()).map((l) => l.file);
      expect(logs).toContain('logs/shop/shop-redis-replica-0/redis.log');
    } finally {
      await api3.server.close();
    }
  });

  it('records an API server that is down as failed sources in a valid bundle', async () => {
    const down = await startKubeApi(`${tmp.dir}`);
    await down.server.close();
    const dir = `${tmp.dir}/down`;
    const r = await collect({
      output: dir,
      window: FIXTURE_WINDOW,
      kubeconfig: down.kubeconfig,
      sources: [kubernetesSource, helmSource],
    });
    expect(r.manifest.sources.map((s) => s.status)).toEqual(['failed', 'failed']);
    expect(r.manifest.sources[0]?.error).toMatch(/cannot list pods in shop at http:\/\/127\.0\.0\.1/);
    expect(await validateBundle(dir)).toEqual([]);
  });
});
