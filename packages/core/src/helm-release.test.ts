import { describe, expect, it } from 'vitest';
import { decodeRelease, encodeRelease, releaseRecordName, type HelmRelease } from './index.js';

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
