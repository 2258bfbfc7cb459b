import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type LogLine } from '@hindsight/core';
import { collect } from '../collect.js';
import { kubernetesSource } from './kubernetes.js';
import { FIXTURE_WINDOW, startKubeApi } from '../kube-fixture.js';
import { tempDir, type TestHttpServer } from '../test-support.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let api: { server: TestHttpServer; kubeconfig: string };

beforeAll(async () => {
  tmp = await tempDir('hs-collect-k8s-budget-');
  api = await startKubeApi(tmp.dir);
});
afterAll(async () => {
  await api?.server.close();
  await tmp?.cleanup();
});

describe('kubernetes source with a line budget (--max-log-lines)', () => {
  it('keeps at most the budget per container log, spread over it, and says what it skipped', async () => {
    const out = `${tmp.dir}/cut`;
    const r = await collect({
      output: out,
      window: FIXTURE_WINDOW,
      kubeconfig: api.kubeconfig,
      maxLogLines: 2,
      sources: [kubernetesSource],
    });
    expect(await validateBundle(out)).toEqual([]);
    const b = await openBundle(out);
    const all = new Map<string, LogLine[]>();
    for (const ref of await b.logs()) {
      const got: LogLine[] = [];
      for await (const l of b.readLog(ref)) got.push(l);
      all.set(ref.file, got);
    }
    for (const got of all.values()) expect(got.length).toBeLessThanOrEqual(2);
    // The shop's log holds 3 lines in the window: the 1st and 3rd are kept, not the first two.
    const shop = all.get('logs/shop/shop-shop-7d9f8b6c5d-x2p4q/shop.log') ?? [];
    expect(shop).toHaveLength(2);
    expect(shop.map((l) => l.time)).toEqual([
      Date.parse('2026-11-25T10:31:12.100Z'),
      Date.parse('2026-11-25T10:45:10Z'),
    ]);
    // Partial, with why: investigate turns it into a warning of its report.
    const k = r.manifest.sources[0];
    expect(k).toMatchObject({ name: 'kubernetes', status: 'partial' });
    expect(k?.error).toMatch(/--max-log-lines 2: \d+ lines skipped in \d+ logs/);
    expect(k?.error).toContain('shop-shop-7d9f8b6c5d-x2p4q/shop kept 2 of 3');
    expect(r.manifest.notes?.some((n) => n.startsWith('kubernetes: --max-log-lines 2'))).toBe(true);
    expect(r.warnings.some((w) => w.message.includes('--max-log-lines 2'))).toBe(true);
  });

  it('skips nothing and says nothing when the logs fit', async () => {
    const out = `${tmp.dir}/fit`;
    const r = await collect({
      output: out,
      window: FIXTURE_WINDOW,
      kubeconfig: api.kubeconfig,
      maxLogLines: 10,
      sources: [kubernetesSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'kubernetes', status: 'ok' });
    expect(r.manifest.notes ?? []).toEqual([]);
  });
});
