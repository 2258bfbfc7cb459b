// --no-helm-secrets: the real helm binary (.tools/bin/helm, from setup) reads the release records
// served by the recorded API server, and the bundle holds the same changes as when hindsight
// lists the Secrets itself.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle } from '@hindsight/core';
import { collect } from '../collect.js';
import { helmSource } from './helm.js';
import { chartOf, helmRunner, parseHelmHistory } from './helm-history.js';
import { FIXTURE_WINDOW, startKubeApi } from '../kube-fixture.js';
import { tempDir, type TestHttpServer } from '../test-support.js';

const helm = fileURLToPath(new URL('../../../../.tools/bin/helm', import.meta.url));

let tmp: Awaited<ReturnType<typeof tempDir>>;
let api: { server: TestHttpServer; kubeconfig: string };

beforeAll(async () => {
  tmp = await tempDir('hs-collect-helm-history-');
  api = await startKubeApi(tmp.dir, { wellFormedHelm: true });
  // helm keeps a cache and a config folder; in a test they live in the temp folder.
  process.env['HELM_CACHE_HOME'] = path.join(tmp.dir, 'cache');
  process.env['HELM_CONFIG_HOME'] = path.join(tmp.dir, 'config');
  process.env['HELM_DATA_HOME'] = path.join(tmp.dir, 'data');
});
afterAll(async () => {
  await api?.server.close();
  await tmp?.cleanup();
});

async function run(out: string, settings: Record<string, unknown>) {
  const result = await collect({
    output: path.join(tmp.dir, out),
    window: FIXTURE_WINDOW,
    kubeconfig: api.kubeconfig,
    sources: [helmSource],
    ...settings,
  });
  return { result, changes: await (await openBundle(path.join(tmp.dir, out))).changes() };
}

describe('the helm source with --no-helm-secrets', () => {
  it('is run against the helm binary setup installs', () => {
    expect(existsSync(helm)).toBe(true);
  });

  it('writes through helm history and helm get the changes the release Secrets give', async () => {
    const viaHelm = await run('via-helm', { helmSecrets: false, helmBin: helm });
    expect(viaHelm.result.manifest.sources.map((s) => [s.name, s.status, s.error ?? ''])).toEqual([
      ['helm', 'ok', ''],
    ]);
    expect(await validateBundle(path.join(tmp.dir, 'via-helm'))).toEqual([]);
    const viaSecrets = await run('via-secrets', {});
    expect(viaSecrets.changes.length).toBeGreaterThan(1);
    expect(viaHelm.changes).toEqual(viaSecrets.changes);
    // Revisions 2 and 3 are in the window; 1 is only the baseline of 2's diff.
    expect([...new Set(viaHelm.changes.map((c) => c.toRevision))]).toEqual([2, 3]);
    // helm 3 (.tools/bin/helm3, from setup) prints the same; --helm-bin alone implies the helm path.
    const viaHelm3 = await run('via-helm3', { helmBin: `${helm}3` });
    expect(viaHelm3.result.manifest.sources.map((s) => [s.name, s.status, s.error ?? ''])).toEqual([
      ['helm', 'ok', ''],
    ]);
    expect(viaHelm3.changes).toEqual(viaSecrets.changes);
    expect(viaHelm.changes[0]).toMatchObject({ kind: 'helm', fromRevision: 1, chart: { name: 'shop' } });

    // The same output saved by helm into files (--helm-history), read with no cluster at all.
    const saved = path.join(tmp.dir, 'saved');
    const helmOut = helmRunner(helm, { kubeconfig: api.kubeconfig, namespace: 'shop' });
    await mkdir(saved);
    await writeFile(path.join(saved, 'shop.history.json'), await helmOut(['history', 'shop', '-o', 'json']));
    for (const rev of ['1', '2', '3']) {
      const r = ['--revision', rev];
      await writeFile(
        path.join(saved, `shop.values.${rev}.json`),
        await helmOut(['get', 'values', 'shop', ...r, '-o', 'json']),
      );
      await writeFile(
        path.join(saved, `shop.manifest.${rev}.yaml`),
        await helmOut(['get', 'manifest', 'shop', ...r]),
      );
    }
    const fromFiles = await collect({
      output: path.join(tmp.dir, 'from-files'),
      window: FIXTURE_WINDOW,
      namespace: 'shop',
      helmHistory: saved,
      sources: [helmSource],
    });
    expect(fromFiles.manifest.sources.map((s) => [s.name, s.status])).toEqual([['helm', 'ok']]);
    expect(await (await openBundle(path.join(tmp.dir, 'from-files'))).changes()).toEqual(viaSecrets.changes);
  });

  it('fails the source naming the helm binary when it cannot run', async () => {
    const missing = path.join(tmp.dir, 'no-such-helm');
    const { result } = await run('no-helm', { helmSecrets: false, helmBin: missing });
    const source = result.manifest.sources.find((s) => s.name === 'helm');
    expect(source?.status).toBe('failed');
    expect(JSON.stringify(source)).toContain(missing);
  });
});

describe('helm history output', () => {
  it('reads the JSON helm prints, oldest revision first, and splits the chart column', () => {
    const json = JSON.stringify([
      {
        revision: 2,
        updated: '2026-11-25T10:20:00Z',
        status: 'deployed',
        chart: 'ingress-nginx-4.11.3',
        app_version: '1.11.3',
        description: 'Upgrade complete',
      },
      {
        revision: 1,
        updated: '2026-11-25T08:58:40.123456789Z',
        status: 'superseded',
        chart: 'ingress-nginx-4.11.2',
        app_version: '1.11.2',
        description: 'Install complete',
      },
    ]);
    expect(parseHelmHistory(json, 'helm history x').map((h) => h.revision)).toEqual([1, 2]);
    expect(chartOf('ingress-nginx-4.11.3')).toEqual({ name: 'ingress-nginx', version: '4.11.3' });
    expect(chartOf('shop-1.0.0-rc.1')).toEqual({ name: 'shop', version: '1.0.0-rc.1' });
    expect(() => parseHelmHistory('Error: release: not found', 'helm history x')).toThrow(/helm history x/);
  });
});
