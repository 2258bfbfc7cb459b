import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBundle } from '@hindsight/core';
import { writeEpochBundle } from '../../../test/fixtures/hostile/make.mjs';
import { analysisWindow, investigate } from './index.js';
import { MAX_BUCKETS, boundedBucketMs } from './extent.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the analysis grid of a window that starts in 1970', () => {
  it('keeps at most MAX_BUCKETS buckets, however wide the window, and the report says why', async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-extent-')), 'bundle');
    temps.push(path.dirname(dir));
    await writeEpochBundle(dir);
    const bundle = await openBundle(dir);
    const grid = await analysisWindow(bundle);
    // A user's own width is widened too: 1 s over 56 years would be 1.8 billion buckets.
    const asked = await analysisWindow(bundle, 1000);
    await bundle.close();
    for (const g of [grid, asked]) {
      expect(Math.ceil((g.window.to - g.window.from) / g.bucketMs)).toBeLessThanOrEqual(MAX_BUCKETS);
      expect(g.warning?.message).toMatch(/^the data spans 56 years/);
    }
    // It completes (it took 6 GiB before: memory is measured in bench/hostile.ts).
    const report = await investigate(dir, { now: new Date(0) });
    expect(report.warnings.map((w) => w.code)).toContain('HINDSIGHT_BUNDLE_WINDOW');
  });

  it('leaves the grid of an ordinary window as it was', () => {
    expect(boundedBucketMs(3_600_000, 20_000)).toBe(20_000);
    expect(boundedBucketMs(30 * 86_400_000, 300_000)).toBe(300_000);
    expect(boundedBucketMs(365 * 86_400_000, 300_000)).toBe(1_580_000);
  });
});
