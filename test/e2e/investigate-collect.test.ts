// `hindsight investigate --kubeconfig ...`: collect, then investigate, through the built CLI. The
// Kubernetes and Helm sources run over HTTP against recorded API responses (packages/collect's
// fixture server); a Redis that is down gives a clear error and exit code 3.
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_WINDOW, shopServers, startKubeApi } from '@hindsight/collect/testing';
import { hindsight } from './helpers.js';

let tmp: string;
let api: Awaited<ReturnType<typeof startKubeApi>>;
let deadPort: number;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-e2e-investigate-collect-'));
  api = await startKubeApi(tmp);
  deadPort = await (await shopServers()).freePort();
});
afterAll(async () => {
  await api?.server.close();
  await rm(tmp, { recursive: true, force: true });
});

const window = (): string[] => [
  '--from',
  FIXTURE_WINDOW.from.toISOString(),
  '--to',
  FIXTURE_WINDOW.to.toISOString(),
];

describe('hindsight investigate --kubeconfig', () => {
  it('collects from the cluster (recorded API responses over HTTP), then investigates the bundle it kept', async () => {
    const kept = path.join(tmp, 'kept');
    const r = await hindsight([
      'investigate',
      '--kubeconfig',
      api.kubeconfig,
      '-n',
      'shop',
      ...window(),
      '--keep-bundle',
      kept,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/collected 3 of 3 sources into .*kept/);
    const report = JSON.parse(r.stdout) as {
      schema: string;
      stats: { changes: number; logLines: number };
      bundle: string;
      hypotheses: Array<{ title: string }>;
    };
    expect(report.schema).toBe('hindsight-report');
    expect(report.stats.changes).toBeGreaterThan(0);
    expect(report.stats.logLines).toBeGreaterThan(0);
    // The recorded release history's values change is among the candidates.
    expect(report.hypotheses.map((h) => h.title).join('\n')).toMatch(/redis\.replica\.replicaCount: 2 -> 6/);
    expect(report.bundle).toBe(kept);
    await access(path.join(kept, 'manifest.json'));
  });

  it('removes the temporary bundle it collected', async () => {
    const r = await hindsight([
      'investigate',
      '--kubeconfig',
      api.kubeconfig,
      '-n',
      'shop',
      ...window(),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const bundle = (JSON.parse(r.stdout) as { bundle: string }).bundle;
    await expect(access(bundle)).rejects.toThrow();
  });

  it('fails with exit code 3 and names the source when every endpoint is down', async () => {
    const r = await hindsight(['investigate', '--redis', `redis://127.0.0.1:${deadPort}`, ...window()]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/every source failed, nothing to investigate \(redis: .*127\.0\.0\.1:\d+/);
  });

  it('rejects a bundle together with options to collect, and neither', async () => {
    const both = await hindsight(['investigate', tmp, '--kubeconfig', api.kubeconfig]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/not both/);
    const none = await hindsight(['investigate'], { KUBECONFIG: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give a bundle to investigate, or --kubeconfig/);
  });
});
