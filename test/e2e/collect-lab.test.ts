// `hindsight collect` against the lab: real redis-server (master and replicas), PostgreSQL and nginx
// run from the chart, read through the lab's read-only Kubernetes API with the kubeconfig it writes.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type Manifest, type Series } from '@hindsight/core';
import { Lab, type LabStatus } from '@hindsight/lab';
import { filesContaining } from '@hindsight/collect/testing';
import { hindsight } from './helpers.js';

let dir: string;
let lab: Lab;
let status: LabStatus;
let out: string;
let pgPassword: string;
let result: { code: number; stdout: string; stderr: string };
const series: Series[] = [];

async function waitFor(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hs-e2e-collect-lab-'));
  lab = new Lab({ dir: path.join(dir, 'lab'), timeScale: 0.2 });
  await lab.up();
  await lab.upgrade({ set: ['redis.replica.replicaCount=3'] });
  await waitFor(async () => {
    const s = await lab.status();
    return s.pods.filter((p) => p.name.startsWith('shop-redis-replica-') && p.ready).length === 3;
  }, 'three ready replicas');
  status = await lab.status();
  for (let i = 0; i < 20; i++) await fetch(`${status.nginxUrl}/products`).then((r) => r.arrayBuffer());
  // The PostgreSQL password is in the release's Secret, as in a cluster; read it as a user would.
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(status.kubeconfig);
  const secret = await kc
    .makeApiClient(k8s.CoreV1Api)
    .readNamespacedSecret({ name: `${status.release}-shop`, namespace: status.namespace });
  pgPassword = Buffer.from(secret.data?.['postgres-password'] ?? '', 'base64').toString('utf8');
  const port = (name: string): number => {
    const svc = status.services.find((s) => s.name === name);
    if (!svc) throw new Error(`no service ${name} in the lab`);
    return svc.localPort;
  };
  out = path.join(dir, 'bundle');
  result = await hindsight(
    [
      'collect',
      '--kubeconfig',
      status.kubeconfig,
      '-n',
      status.namespace,
      '--since',
      '15m',
      '--redis',
      `redis://127.0.0.1:${port(`${status.release}-redis-master`)}`,
      '--postgres',
      `postgres://shop:${encodeURIComponent(pgPassword)}@127.0.0.1:${port(`${status.release}-postgresql`)}/shop`,
      '--out-dir',
      out,
    ],
    {},
    240_000,
  );
  for await (const s of (await openBundle(out)).series()) series.push(s);
}, 300_000);
afterAll(async () => {
  await lab?.down({ purge: true }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('hindsight collect against the lab', () => {
  it('collects every source into a bundle that validates', async () => {
    expect(result.stderr).not.toMatch(/warning/);
    expect(result.code).toBe(0);
    const m: Manifest = (await openBundle(out)).manifest;
    expect(m.sources.map((s) => [s.name, s.status])).toEqual([
      ['kubernetes', 'ok'],
      ['helm', 'ok'],
      ['redis', 'ok'],
      ['postgres', 'ok'],
      ['nginx', 'ok'],
    ]);
    expect(await validateBundle(out)).toEqual([]);
  });

  it('holds the pods and their logs', async () => {
    const b = await openBundle(out);
    const pods = (await b.pods()).map((p) => p.name);
    for (const p of status.pods) expect(pods).toContain(p.name);
    const logs = (await b.logs()).map((l) => l.pod);
    expect(logs).toContain(`${status.release}-redis-master-0`);
    expect(logs.some((p) => p.startsWith(`${status.release}-shop-`))).toBe(true);
  });

  it('holds the release revision with its values diff and the replica change', async () => {
    const changes = await (await openBundle(out)).changes();
    const rev2 = changes.find((c) => c.kind === 'helm' && c.toRevision === 2);
    expect(rev2?.diff).toContainEqual(expect.objectContaining({ path: 'redis.replica.replicaCount', to: 3 }));
    expect(
      changes.find((c) => c.kind === 'scale' && c.target === `StatefulSet/${status.release}-redis-replica`)
        ?.diff,
    ).toEqual([{ path: 'spec.replicas', from: 2, to: 3 }]);
  });

  it('holds Redis series from the master and each replica, and PostgreSQL and nginx series', () => {
    const nodes = series.filter((s) => s.name === 'redis_connected_clients').map((s) => s.labels['role']);
    expect(nodes.sort()).toEqual(['master', 'replica', 'replica', 'replica']);
    expect(series.some((s) => s.name === 'pg_database_xact_commit')).toBe(true);
    // No --nginx-pod: the nginx pods are found by their component label.
    const requests = series.find((s) => s.name === 'nginx_requests');
    expect(requests?.labels['pod']).toBe(status.pods.find((p) => p.component === 'nginx')?.name);
    expect((requests?.points ?? []).reduce((a, [, v]) => a + v, 0)).toBeGreaterThanOrEqual(20);
  });

  it('writes no password to disk', async () => {
    expect(pgPassword.length).toBeGreaterThan(0);
    expect(await filesContaining(out, pgPassword)).toEqual([]);
  });
});
