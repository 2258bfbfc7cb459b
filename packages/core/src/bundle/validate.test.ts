import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BundleWriter, openBundle, validateBundle } from '../index.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-core-validate-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const from = Date.parse('2026-01-01T10:00:00Z');

async function sample(): Promise<string> {
  const dir = path.join(tmp, 'bundle');
  const w = await BundleWriter.create(dir, {
    window: { from: new Date(from), to: new Date(from + 3_600_000) },
  });
  const log = await w.openLog({ namespace: 'shop', pod: 'shop-0', container: 'shop', previous: false });
  await log.write(from, 'started');
  for (const name of ['a', 'b'])
    await w.addSeries({
      name: `redis_${name}`,
      labels: { source: 'redis' },
      kind: 'gauge',
      points: [
        [from, 1],
        [from + 60_000, 2],
        [from + 120_000, 3],
      ],
    });
  await w.addEvent({
    time: new Date(from + 60_000).toISOString(),
    object: { kind: 'Pod', name: 'shop-0' },
    reason: 'Unhealthy',
    message: 'probe failed',
    type: 'Warning',
    count: 1,
  });
  await w.finish();
  return dir;
}

describe('validate on records no reader can use', () => {
  it('names the file and line of a series time beyond the range of dates (1e300), and reads the rest', async () => {
    const dir = await sample();
    const file = path.join(dir, 'series', 'redis.jsonl');
    const [first, second] = (await readFile(file, 'utf8')).trim().split('\n') as [string, string];
    // In the middle of the series: the window check looked only at the first and last points.
    await writeFile(file, `${first}\n${second.replace(String(from + 60_000), '1e300')}\n`);
    const problems = await validateBundle(dir);
    expect(problems).toEqual([
      {
        file: 'series/redis.jsonl',
        line: 2,
        code: 'HINDSIGHT_BUNDLE_SCHEMA',
        severity: 'warning',
        message: expect.stringMatching(/^time 1e\+300 is outside the range of dates/),
      },
    ]);
    // Analysis never sees the record: every series it gets has real instants.
    const bundle = await openBundle(dir);
    const names: string[] = [];
    for await (const s of bundle.series()) names.push(s.name);
    await bundle.close();
    expect(names).toEqual(['redis_a']);
  });

  for (const rel of ['events.jsonl', 'series/redis.jsonl', 'logs/shop/shop-0/shop.log']) {
    it(`names ${rel} when it is a folder, and reads the rest`, async () => {
      const dir = await sample();
      await rm(path.join(dir, rel));
      await mkdir(path.join(dir, rel, 'inside'), { recursive: true });
      const problems = await validateBundle(dir);
      expect(problems).toEqual([
        {
          file: rel,
          code: 'HINDSIGHT_BUNDLE_SCHEMA',
          severity: 'error',
          message: 'a folder where a file of records belongs; not read',
        },
      ]);
    });
  }

  it('says manifest.json is a folder rather than missing', async () => {
    const dir = await sample();
    await rm(path.join(dir, 'manifest.json'));
    await mkdir(path.join(dir, 'manifest.json'));
    expect(await validateBundle(dir)).toEqual([
      {
        file: path.join(dir, 'manifest.json'),
        code: 'HINDSIGHT_BUNDLE_MANIFEST',
        severity: 'error',
        message: 'manifest.json cannot be read (it is a folder)',
      },
    ]);
  });
});
