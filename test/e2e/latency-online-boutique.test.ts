import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hindsight, repoRoot } from './helpers.js';

// A real network delay into one service of Online Boutique (nezha-ob-dev, 2022-08-23 14:30:10): its
// callers wait on it, and they are bystanders, not causes.
const ob = path.resolve(repoRoot, '../shared/data/nezha-ob-dev');
if (!existsSync(ob)) console.warn(`skipping the real Online Boutique delay: ${ob} is absent`);

const temps: string[] = [];
afterAll(async () => {
  for (const d of temps) await rm(d, { recursive: true, force: true });
});

interface LatencyReport {
  hypotheses: Array<{ cause: { component?: string } }>;
  findings: Array<{ analyzer: string; component?: string; title: string; bystanders?: string[] }>;
}

describe.skipIf(!existsSync(ob))('hindsight on a real Online Boutique network delay', () => {
  it('ranks productcatalogservice first and names its callers as bystanders', async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), 'hs-ob-'));
    temps.push(d);
    const bundle = path.join(d, 'bundle');
    const at = Date.parse('2022-08-23T14:30:10Z');
    const imported = await hindsight([
      'import',
      'rca-dataset',
      ob,
      '--out-dir',
      bundle,
      '--from',
      new Date(at - 10 * 60_000).toISOString(),
      '--to',
      new Date(at + 10 * 60_000).toISOString(),
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    const r = await hindsight(['investigate', bundle, '--json', '--incident-at', new Date(at).toISOString()]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as LatencyReport;
    expect(report.hypotheses[0]?.cause).toMatchObject({ component: 'productcatalogservice' });
    const found = report.findings.filter((f) => f.analyzer === 'latency');
    const catalog = found.find((f) => f.component === 'productcatalogservice');
    expect(catalog?.title).toMatch(/only waited on it/);
    for (const caller of ['frontend', 'recommendationservice', 'checkoutservice']) {
      expect(found.some((f) => f.component === caller)).toBe(false);
      expect(catalog?.title).toContain(caller);
    }
    // A caller whose whole answer slowed while its own work did not is listed as a bystander: here
    // recommendationservice (frontend's answers hold much besides the catalog's).
    expect(catalog?.bystanders).toContain('recommendationservice');
    for (const b of catalog?.bystanders ?? [])
      expect(['frontend', 'recommendationservice', 'checkoutservice']).toContain(b);
  }, 240_000);
});
