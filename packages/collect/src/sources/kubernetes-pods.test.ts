// Where a pod listens and what the kubelet asks it, as the kubernetes source records them, over HTTP
// against a scripted Kubernetes API serving pods as the API server lists them.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type Pod } from '@hindsight/core';
import { collect } from '../collect.js';
import { kubernetesSource } from './kubernetes.js';
import { httpServer, sendJson, tempDir, type TestHttpServer } from '../test-support.js';

const WINDOW = { from: new Date('2026-11-25T10:00:00Z'), to: new Date('2026-11-25T11:00:00Z') };

function pod(name: string, spec: Record<string, unknown>, status: Record<string, unknown>): unknown {
  return {
    metadata: { name, namespace: 'shop', labels: { 'app.kubernetes.io/component': name.split('-')[0] } },
    spec,
    status: { phase: 'Running', ...status },
  };
}

const PODS = [
  // Dual stack: podIPs lists both, podIP is the first.
  pod(
    'shop-a',
    {
      containers: [
        {
          name: 'shop',
          ports: [
            { containerPort: 8080, name: 'http', protocol: 'TCP' },
            { containerPort: 9090, protocol: 'TCP' },
          ],
          // A named port, a numeric one, and a path the API server left empty.
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
          readinessProbe: { httpGet: { path: '/readyz', port: 9090 } },
          startupProbe: { httpGet: { port: 8080 } },
        },
        // A sidecar probed by command and by TCP: no HTTP request, nothing recorded.
        {
          name: 'metrics',
          ports: [{ containerPort: 9121, name: 'metrics' }],
          livenessProbe: { exec: { command: ['true'] } },
          readinessProbe: { tcpSocket: { port: 'metrics' } },
        },
      ],
    },
    { podIP: '10.1.2.3', podIPs: [{ ip: '10.1.2.3' }, { ip: 'fd00::3' }] },
  ),
  // An older API server: podIP only. A probe on a port name no container declares keeps its path.
  pod(
    'nginx-b',
    { containers: [{ name: 'nginx', livenessProbe: { httpGet: { path: '/nginx-healthz', port: 'web' } } }] },
    { podIP: '10.1.2.4' },
  ),
  // Pending: not scheduled yet, no IP.
  pod('redis-c', { containers: [{ name: 'redis' }] }, { phase: 'Pending' }),
];

let tmp: Awaited<ReturnType<typeof tempDir>>;
let api: TestHttpServer;
let pods: Pod[];
let out: string;

beforeAll(async () => {
  tmp = await tempDir('hs-collect-k8s-pods-');
  api = await httpServer((url, _req, res) => {
    if (url.pathname === '/api/v1/namespaces/shop/pods')
      return sendJson(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: PODS });
    if (url.pathname === '/api/v1/namespaces/shop/events')
      return sendJson(res, 200, { kind: 'EventList', apiVersion: 'v1', metadata: {}, items: [] });
    const apps = /^\/apis\/apps\/v1\/namespaces\/shop\/(deployments|statefulsets|daemonsets)$/.exec(
      url.pathname,
    );
    if (apps) return sendJson(res, 200, { kind: 'List', apiVersion: 'apps/v1', metadata: {}, items: [] });
    if (url.pathname.endsWith('/log')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('');
    }
    return sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', code: 404, message: `not found` });
  });
  const kubeconfig = path.join(tmp.dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: scripted
  cluster: { server: '${api.url}', insecure-skip-tls-verify: true }
contexts:
- name: scripted
  context: { cluster: scripted, user: reader, namespace: shop }
current-context: scripted
users:
- name: reader
  user: { token: t }
`,
  );
  out = path.join(tmp.dir, 'bundle');
  await collect({ output: out, window: WINDOW, kubeconfig, sources: [kubernetesSource] });
  pods = await (await openBundle(out)).pods();
});
afterAll(async () => {
  await api?.close();
  await tmp?.cleanup();
});

describe('kubernetes source: pod addresses and HTTP probes', () => {
  it('records every IP of a pod, podIPs first, else podIP, else none', async () => {
    expect(await validateBundle(out)).toEqual([]);
    expect(pods.map((p) => [p.name, p.ips])).toEqual([
      ['nginx-b', ['10.1.2.4']],
      ['redis-c', undefined],
      ['shop-a', ['10.1.2.3', 'fd00::3']],
    ]);
  });

  it("records each container's ports and its HTTP probes with their ports resolved", () => {
    const [shop, metrics] = pods.find((p) => p.name === 'shop-a')?.containers ?? [];
    expect(shop?.ports).toEqual([
      { containerPort: 8080, name: 'http', protocol: 'TCP' },
      { containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(shop?.probes).toEqual([
      { kind: 'liveness', path: '/healthz', port: 8080 },
      { kind: 'readiness', path: '/readyz', port: 9090 },
      { kind: 'startup', path: '/', port: 8080 },
    ]);
    expect(metrics).toMatchObject({ ports: [{ containerPort: 9121, name: 'metrics' }] });
    expect(metrics?.probes).toBeUndefined();
    const nginx = pods.find((p) => p.name === 'nginx-b')?.containers[0];
    expect(nginx?.ports).toBeUndefined();
    expect(nginx?.probes).toEqual([{ kind: 'liveness', path: '/nginx-healthz' }]);
  });
});
