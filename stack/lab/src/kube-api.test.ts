import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeApi, type KubeObject } from './kube-api.js';
import { kubeconfigText } from './kubeconfig.js';

const pod = (name: string, component: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'default',
    labels: { 'app.kubernetes.io/component': component },
    creationTimestamp: '2026-01-01T00:00:00Z',
  },
  spec: { containers: [{ name: 'redis', image: 'redis:7' }] },
  status: {
    phase: 'Running',
    containerStatuses: [
      {
        name: 'redis',
        ready: true,
        restartCount: 1,
        state: { running: {} },
        lastState: { terminated: { exitCode: 137, reason: 'Error' } },
      },
    ],
  },
});

describe('the Kubernetes API over a cluster view (answered to @kubernetes/client-node)', () => {
  let dir: string;
  let server: Server;
  let kc: k8s.KubeConfig;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-api-'));
    await writeFile(
      join(dir, 'cur.log'),
      '2026-01-01T00:00:01.000000000Z one\n2026-01-01T00:00:02.000000000Z two\n2026-01-01T00:00:03.000000000Z three\n',
    );
    await writeFile(join(dir, 'prev.log'), '2026-01-01T00:00:00.500000000Z before the restart\n');
    const objects: Record<string, KubeObject[]> = {
      pods: [pod('shop-redis-master-0', 'redis'), pod('shop-shop-abc-1', 'shop')],
      events: [
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: 'e1', namespace: 'default' },
          reason: 'Unhealthy',
          involvedObject: { kind: 'Pod', name: 'shop-redis-master-0' },
        },
      ],
      secrets: [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: 'sh.helm.release.v1.shop.v1',
            namespace: 'default',
            labels: { owner: 'helm', name: 'shop' },
          },
          data: { release: 'eA==' },
        },
      ],
    };
    server = createKubeApi({
      list: async (r) => objects[r] ?? [],
      logFile: async (_ns, name, _c, previous) =>
        name === 'shop-redis-master-0'
          ? join(dir, previous ? 'prev.log' : 'cur.log')
          : { status: 404, message: 'no such pod' },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    kc = new k8s.KubeConfig();
    kc.loadFromString(
      kubeconfigText(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'default'),
    );
  });
  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists pods with a label selector, with restart counts and last states', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const all = await core.listNamespacedPod({ namespace: 'default' });
    expect(all.items.map((p) => p.metadata?.name)).toEqual(['shop-redis-master-0', 'shop-shop-abc-1']);
    const redis = await core.listNamespacedPod({
      namespace: 'default',
      labelSelector: 'app.kubernetes.io/component=redis',
    });
    expect(redis.items).toHaveLength(1);
    expect(redis.items[0]!.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(137);
  });

  it('reads logs with timestamps, sinceTime, tailLines and previous', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const tail = await core.readNamespacedPodLog({
      name: 'shop-redis-master-0',
      namespace: 'default',
      tailLines: 2,
      timestamps: true,
    });
    expect(tail).toBe('2026-01-01T00:00:02.000000000Z two\n2026-01-01T00:00:03.000000000Z three\n');
    const since = await core.readNamespacedPodLog({
      name: 'shop-redis-master-0',
      namespace: 'default',
      sinceSeconds: undefined,
      timestamps: false,
    });
    expect(since.split('\n')[0]).toBe('one');
    const prev = await core.readNamespacedPodLog({
      name: 'shop-redis-master-0',
      namespace: 'default',
      previous: true,
    });
    expect(prev).toBe('before the restart\n');
    const res = await fetch(
      `${kc.getCurrentCluster()!.server}/api/v1/namespaces/default/pods/shop-redis-master-0/log?timestamps=true&sinceTime=2026-01-01T00:00:02Z`,
    );
    expect((await res.text()).split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('lists events and the helm release secrets; other namespaces are empty; writes are refused', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    expect((await core.listNamespacedEvent({ namespace: 'default' })).items[0]!.reason).toBe('Unhealthy');
    const secrets = await core.listNamespacedSecret({ namespace: 'default', labelSelector: 'owner=helm' });
    expect(secrets.items.map((s) => s.metadata?.name)).toEqual(['sh.helm.release.v1.shop.v1']);
    expect((await core.listNamespacedPod({ namespace: 'kube-system' })).items).toEqual([]);
    await expect(core.deleteNamespacedPod({ name: 'shop-shop-abc-1', namespace: 'default' })).rejects.toThrow(
      /405/,
    );
  });
});
