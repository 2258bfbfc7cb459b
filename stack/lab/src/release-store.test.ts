import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HelmRelease } from '@hindsight/core';
import { ReleaseStore, decodeSecret, historyEntries } from './release-store.js';
import { mergeValues, parseSetValues } from './values.js';

function release(version: number, config: Record<string, unknown>): HelmRelease {
  return {
    name: 'shop',
    namespace: 'default',
    version,
    info: {
      status: 'deployed',
      description: version === 1 ? 'Install complete' : 'Upgrade complete',
      last_deployed: new Date().toISOString(),
    },
    chart: { metadata: { name: 'shop', version: '0.1.0', appVersion: '0.1.0' } },
    config,
    manifest: `---\n# Source: shop/templates/x.yaml\nkind: ConfigMap\n# rev ${version}\n`,
  };
}

describe('release store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lab-store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores each revision as Helm 3 does: a Secret whose release is base64 of base64(gzip(JSON))', async () => {
    const store = new ReleaseStore(dir, 'default');
    await store.create(release(1, { redis: { replica: { replicaCount: 2 } } }));
    const [secret] = await store.secrets();
    expect(secret!.metadata.name).toBe('sh.helm.release.v1.shop.v1');
    expect(secret!.type).toBe('helm.sh/release.v1');
    expect(secret!.metadata.labels).toMatchObject({
      owner: 'helm',
      name: 'shop',
      status: 'deployed',
      version: '1',
    });
    const inner = Buffer.from(secret!.data.release, 'base64').toString('latin1');
    const json = JSON.parse(gunzipSync(Buffer.from(inner, 'base64')).toString('utf8')) as HelmRelease;
    expect(json.config).toEqual({ redis: { replica: { replicaCount: 2 } } });
    expect(decodeSecret(secret!).version).toBe(1);
  });

  it('marks the previously deployed revision superseded when a new one is deployed', async () => {
    const store = new ReleaseStore(dir, 'default');
    await store.create(release(1, {}));
    await store.create({ ...release(2, { a: 1 }), info: { status: 'pending-upgrade' } });
    expect((await store.history('shop')).map((r) => r.info.status)).toEqual(['deployed', 'pending-upgrade']);
    await store.setStatus('shop', 2, 'deployed');
    const secrets = await store.secrets();
    expect(secrets.map((s) => s.metadata.labels.status)).toEqual(['superseded', 'deployed']);
    expect(historyEntries(await store.history('shop')).map((h) => [h.revision, h.status, h.chart])).toEqual([
      [1, 'superseded', 'shop-0.1.0'],
      [2, 'deployed', 'shop-0.1.0'],
    ]);
  });
});

describe('--set values', () => {
  it('types values as helm --set does and merges onto earlier values', () => {
    const v = parseSetValues([
      'redis.replica.replicaCount=4,shop.session.readFrom=replicas',
      'shop.session.readYourWrites=false',
      'a.ratio=1.5',
      'b.zip=0123',
      'c[1]=x',
    ]);
    expect(v).toEqual({
      redis: { replica: { replicaCount: 4 } },
      shop: { session: { readFrom: 'replicas', readYourWrites: false } },
      a: { ratio: '1.5' },
      b: { zip: '0123' },
      c: [undefined, 'x'],
    });
    expect(mergeValues({ shop: { session: { readFrom: 'master', ttlSeconds: 60 } } }, v).shop).toEqual({
      session: { readFrom: 'replicas', readYourWrites: false, ttlSeconds: 60 },
    });
    expect(() => parseSetValues(['novalue'])).toThrow(/key=value/);
  });
});
