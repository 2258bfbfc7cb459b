import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleWriter, openBundle } from '../index.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const from = Date.parse('2026-01-01T10:00:00Z');

describe('what a bundle reaches, read cheaply', () => {
  it('spans the first series point to the last log line, skipping a bad record without reporting it', async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-extent-core-')), 'b');
    temps.push(path.dirname(dir));
    const w = await BundleWriter.create(dir, {
      window: { from: new Date(from), to: new Date(from + 3_600_000) },
    });
    const log = await w.openLog({ namespace: 'shop', pod: 'shop-0', container: 'shop', previous: false });
    for (let i = 0; i < 5_000; i++) await log.write(from + 120_000 + i * 400, `request ${i} done`);
    await w.addSeries({
      name: 'up',
      labels: { source: 'prometheus' },
      kind: 'gauge',
      points: [
        [from + 60_000, 1],
        [from + 1_800_000, 1],
      ],
    });
    await w.finish();
    await appendFile(path.join(dir, 'series/prometheus.jsonl'), '{"points": [[1e300, 1]]}\nnot json\n');
    const bundle = await openBundle(dir);
    try {
      expect(await bundle.dataExtent()).toEqual({ from: from + 60_000, to: from + 120_000 + 4_999 * 400 });
      const [ref] = await bundle.logs();
      expect(await bundle.logSize(ref!)).toBeGreaterThan(5_000 * 20);
      expect(bundle.warnings).toEqual([]);
    } finally {
      await bundle.close();
    }
  });
});
