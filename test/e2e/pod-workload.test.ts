// One rule for "which workload owns this pod": collect (over HTTP against recorded Kubernetes API
// responses) and the support-bundle importer (fed the same recorded pods) write the same
// `Pod.workload`, so an investigation names a workload the same way whichever wrote the bundle.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, type Pod } from '@hindsight/core';
import { collect, sources } from '@hindsight/collect';
import { importSupportBundle } from '@hindsight/import';
import { FIXTURE_WINDOW, startKubeApi } from '@hindsight/collect/testing';
import { repoRoot } from './helpers.js';

const recordedPods = path.join(repoRoot, 'packages/collect/fixtures/kube-api/pods.json');

let tmp: string;
let api: Awaited<ReturnType<typeof startKubeApi>> | undefined;

async function podsOf(bundle: string): Promise<Pod[]> {
  const b = await openBundle(bundle);
  try {
    return await b.pods();
  } finally {
    await b.close();
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-e2e-pod-workload-'));
  api = await startKubeApi(tmp);
});
afterAll(async () => {
  await api?.server.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('Pod.workload, written by collect and by the support-bundle importer', () => {
  it('is the same string for the same pods, a ReplicaSet of a Deployment and a StatefulSet', async () => {
    const collected = path.join(tmp, 'collected');
    await collect({
      output: collected,
      window: FIXTURE_WINDOW,
      kubeconfig: api?.kubeconfig ?? '',
      sources: sources.filter((s) => s.name === 'kubernetes'),
    });
    // The same pods, as a support bundle records them (cluster-resources/pods/<namespace>.json).
    const sb = path.join(tmp, 'support-bundle');
    await mkdir(path.join(sb, 'cluster-resources', 'pods'), { recursive: true });
    await writeFile(path.join(sb, 'cluster-resources', 'pods', 'shop.json'), await readFile(recordedPods));
    const imported = path.join(tmp, 'imported');
    await importSupportBundle(sb, imported);

    const byName = (pods: Pod[]): Record<string, string | undefined> =>
      Object.fromEntries(pods.map((p) => [p.name, p.workload]));
    const fromCollect = byName(await podsOf(collected));
    const fromImport = byName(await podsOf(imported));
    // shop-shop-7d9f8b6c5d-x2p4q is owned by ReplicaSet shop-shop-7d9f8b6c5d of Deployment shop-shop.
    expect(fromCollect['shop-shop-7d9f8b6c5d-x2p4q']).toBe('shop-shop');
    expect(fromCollect['shop-redis-master-0']).toBe('shop-redis-master');
    expect(Object.keys(fromCollect)).toHaveLength(4);
    expect(fromImport).toEqual(fromCollect);
  });
});
