// What is still failing at collection, on a pod of 200,000 terminated containers: its time was a
// Math.max over a spread of them, which overflows the stack past about 120,000 (issue #16).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleWriter, openBundle } from '@hindsight/core';
import { atCollection } from './at-collection.js';
import { BundleData } from './data.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const from = Date.parse('2026-03-02T10:00:00Z');
const at = (min: number): string => new Date(from + min * 60_000).toISOString();

describe('atCollection on a very large pod', () => {
  it('dates a failed pod of 200,000 terminated containers by its last termination', async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-at-collection-large-')), 'bundle');
    temps.push(path.dirname(dir));
    const w = await BundleWriter.create(dir, {
      window: { from: new Date(from), to: new Date(from + 3_600_000) },
    });
    const containers = Array.from({ length: 200_000 }, (_, i) => ({
      name: `c${i}`,
      ready: false,
      restartCount: 0,
      lastTermination: { reason: 'Error', exitCode: 1, finishedAt: at(i === 123 ? 45 : 30) },
    }));
    await w.addPod({
      namespace: 'shop',
      name: 'batch-x1x2x',
      component: 'batch',
      labels: {},
      phase: 'Failed',
      containers,
    });
    await w.finish();
    const bundle = await openBundle(dir);
    try {
      const data = new BundleData(bundle, bundle.windowMs, 20_000);
      const still = await atCollection(bundle, data, []);
      expect(still.find((e) => e.what === 'failed')?.since).toBe(Date.parse(at(45)));
    } finally {
      await bundle.close();
    }
  });
});
