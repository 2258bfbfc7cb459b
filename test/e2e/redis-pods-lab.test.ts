// Redis nodes named by their pods, end to end on the lab: real redis-server pods behind the lab's
// read-only Kubernetes API, `hindsight collect --watch` sampling them while an upgrade adds a
// replica (a pod with an address never seen before), then `hindsight investigate` on that bundle.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, type Series } from '@hindsight/core';
import { Lab, type LabStatus } from '@hindsight/lab';
import { hindsight, type CliResult } from './helpers.js';

let dir: string;
let lab: Lab;
let status: LabStatus;
let out: string;
let collected: CliResult;
const series: Series[] = [];

async function waitFor(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What the server at `host:port` answers to one inline Redis command, or the error that stopped it. */
function ask(host: string, port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, host, () => s.write(`${command}\r\n`));
    s.once('data', (d) => {
      resolve(d.toString());
      s.destroy();
    });
    s.once('error', (err) => resolve(err.message));
  });
}

const readyReplicas = async (): Promise<number> =>
  (await lab.status()).pods.filter((p) => p.name.startsWith(`${status.release}-redis-replica-`) && p.ready)
    .length;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hs-e2e-redis-pods-'));
  lab = new Lab({ dir: path.join(dir, 'lab'), timeScale: 0.2 });
  status = await lab.up();
  await waitFor(async () => (await readyReplicas()) === 2, 'two ready replicas');
  const master = status.services.find((s) => s.name === `${status.release}-redis-master`);
  if (!master) throw new Error('no Redis master Service in the lab');
  out = path.join(dir, 'bundle');
  const collecting = hindsight(
    [
      'collect',
      '--kubeconfig',
      status.kubeconfig,
      '-n',
      status.namespace,
      '--since',
      '10m',
      // The master through its Service, as a user gives it; the replicas are found from it.
      '--redis',
      `redis://127.0.0.1:${master.localPort}`,
      '--watch',
      '40s',
      '--interval',
      '1s',
      '--out-dir',
      out,
    ],
    {},
    180_000,
  );
  // Enough samples before the upgrade for the replica count to have a level to move from.
  await new Promise((r) => setTimeout(r, 15_000));
  await lab.upgrade({ set: ['redis.replica.replicaCount=3'] });
  await waitFor(async () => (await readyReplicas()) === 3, 'three ready replicas');
  collected = await collecting;
  status = await lab.status();
  for await (const s of (await openBundle(out)).series()) series.push(s);
}, 300_000);
afterAll(async () => {
  await lab?.down({ purge: true }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('Redis nodes named by their pods (the lab: real redis-servers, its Kubernetes API)', () => {
  it('serves each Redis pod at the podIP and containerPort where its redis-server answers', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(status.kubeconfig);
    const pods = (
      await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: status.namespace })
    ).items.filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === 'redis');
    expect(pods).toHaveLength(4);
    const addresses = new Set<string>();
    for (const p of pods) {
      const ip = p.status?.podIP ?? '';
      const port = p.spec?.containers[0]?.ports?.[0]?.containerPort ?? 0;
      addresses.add(`${ip}:${port}`);
      const role = p.metadata?.name?.includes('-master-') ? 'master' : 'slave';
      expect(await ask(ip, port, 'INFO replication')).toContain(`role:${role}`);
    }
    expect(addresses.size).toBe(4);
  });

  it('labels every Redis series with the pod of its node, the new replica included', () => {
    expect(collected.stderr).not.toMatch(/warning/);
    expect(collected.code).toBe(0);
    const clients = series.filter((s) => s.name === 'redis_connected_clients');
    expect(clients.map((s) => [s.labels['pod'], s.labels['role']]).sort()).toEqual([
      [`${status.release}-redis-master-0`, 'master'],
      [`${status.release}-redis-replica-0`, 'replica'],
      [`${status.release}-redis-replica-1`, 'replica'],
      [`${status.release}-redis-replica-2`, 'replica'],
    ]);
    // The address stays beside the pod: the raw fact the pod name was matched from.
    for (const s of clients) expect(s.labels['node']).toMatch(/^127\.0\.0\.1:\d+$/);
    const replicaPods = series
      .filter((s) => s.name === 'redis_replica_online')
      .map((s) => s.labels['replica_pod'])
      .sort();
    expect(replicaPods).toEqual([0, 1, 2].map((i) => `${status.release}-redis-replica-${i}`));
  });

  it('names the master pod, not an address, in the findings and the report', async () => {
    const r = await hindsight(['investigate', out, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      findings: Array<{ analyzer: string; title: string; pod?: string; component?: string }>;
    };
    const redis = report.findings.filter((f) => f.analyzer === 'redis');
    const replicas = redis.find((f) => f.title.startsWith('redis: connected replicas'));
    expect(replicas).toMatchObject({
      title: `redis: connected replicas up 2 -> 3 on ${status.release}-redis-master-0`,
      pod: `${status.release}-redis-master-0`,
      component: 'redis',
    });
    for (const f of redis) expect(f.title).not.toMatch(/127\.0\.0\.1:\d+/);
  });
});
