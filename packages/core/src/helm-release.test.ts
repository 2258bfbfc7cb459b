import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  HindsightError,
  MAX_RELEASE_BYTES,
  decodeRelease,
  encodeRelease,
  releaseRecordName,
  type HelmRelease,
} from './index.js';

const release: HelmRelease = {
  name: 'shop',
  namespace: 'default',
  version: 3,
  info: { status: 'deployed', last_deployed: '2026-01-01T10:00:00Z' },
  chart: { metadata: { name: 'shop', version: '0.1.0' } },
  config: { redis: { replica: { replicaCount: 6 } } },
  manifest: '---\nkind: Service\n',
};

describe('Helm release records', () => {
  it('round-trips as stored in the record and as a Secret read from the API (base64 once more)', () => {
    const field = encodeRelease(release);
    expect(decodeRelease(field, 'x')).toEqual(release);
    expect(decodeRelease(Buffer.from(field).toString('base64'), 'x')).toEqual(release);
    expect(releaseRecordName('shop', 3)).toBe('sh.helm.release.v1.shop.v3');
  });

  it('names the record when it is broken', () => {
    const field = encodeRelease(release);
    expect(() => decodeRelease(field.slice(0, 40), 'secret default/sh.helm.release.v1.shop.v3')).toThrow(
      /sh\.helm\.release\.v1\.shop\.v3/,
    );
    expect(() => decodeRelease(Buffer.from('{"name": 1}').toString('base64'), 'r')).toThrow(/lacks name/);
  });
});

describe('Helm release records that would decompress without bound', () => {
  it('refuses a record past the cap, naming the release and revision, without inflating it all', () => {
    // 200 MiB of zeros gzip to about 200 KB: the bomb of the issue, scaled up.
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024), { level: 9 }).toString('base64');
    const where = 'secret prod/sh.helm.release.v1.shop.v7';
    let err: unknown;
    try {
      decodeRelease(bomb, where);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HindsightError);
    expect(err).toMatchObject({ code: 'HINDSIGHT_RELEASE_RECORD' });
    expect((err as Error).message).toMatch(/more than 64 MiB.*sh\.helm\.release\.v1\.shop\.v7/);
    // The cap is what bounds it: a smaller cap refuses a record that the default accepts.
    const big = encodeRelease({ ...release, manifest: 'x'.repeat(2 * 1024 * 1024) });
    expect(decodeRelease(big, where).manifest).toHaveLength(2 * 1024 * 1024);
    expect(() => decodeRelease(big, where, 1024 * 1024)).toThrow(/more than 1 MiB/);
    expect(MAX_RELEASE_BYTES).toBe(64 * 1024 * 1024);
  });

  it('refuses a record without info or chart metadata, which readers go on to read', () => {
    const noChart = Buffer.from(JSON.stringify({ name: 's', version: 1, manifest: '', info: {} }));
    expect(() => decodeRelease(noChart.toString('base64'), 'r')).toThrow(/lacks info or chart/);
  });
});
