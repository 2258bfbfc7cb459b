import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BundleWriter } from '@hindsight/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzers, investigate } from './index.js';

// A Redis master sampled every 2 s for 10 minutes, written through BundleWriter as a collection
// would, with its counters and its replica's link as the test scripts them.
const start = Date.parse('2026-03-02T09:00:00Z');
const inBursts = (t: number, bursts: Array<[number, number]>): boolean =>
  bursts.some(([from, to]) => t >= start + from * 1000 && t <= start + to * 1000);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-checks-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function redisBundle(
  resyncs: Array<[number, number]>,
  linkDown: Array<[number, number]>,
): Promise<string> {
  const dir = path.join(tmp, 'redis');
  const w = await BundleWriter.create(dir, {
    window: { from: new Date(start), to: new Date(start + 600_000) },
    namespace: 'shop',
    cluster: 'test',
  });
  const labels = { source: 'redis', component: 'redis', node: '127.0.0.1:6379', role: 'master' };
  const full: Array<[number, number]> = [];
  const link: Array<[number, number]> = [];
  let total = 0;
  for (let t = start; t <= start + 600_000; t += 2000) {
    if (inBursts(t, resyncs)) total += 1;
    full.push([t, total]);
    link.push([t, inBursts(t, linkDown) ? 0 : 1]);
  }
  await w.addSeries({ name: 'redis_sync_full', labels, kind: 'counter', points: full });
  await w.addSeries({
    name: 'redis_master_link_status',
    labels: { ...labels, role: 'replica', node: '127.0.0.1:6380' },
    kind: 'gauge',
    points: link,
  });
  await w.finish();
  return dir;
}

describe('component checks', () => {
  it('reports each burst of a counter and each outage of a link as its own finding, with its end', async () => {
    const dir = await redisBundle(
      [
        [200, 210],
        [400, 406],
      ],
      [
        [198, 212],
        [398, 404],
      ],
    );
    const redis = analyzers.filter((a) => a.name === 'redis');
    const r = await investigate(dir, { analyzers: redis });
    const of = (what: RegExp) =>
      r.findings
        .filter((f) => what.test(f.title))
        .map((f) => [Math.round((f.time - start) / 1000), Math.round(((f.end ?? 0) - start) / 1000)]);
    const resyncs = of(/full resyncs increased/);
    const outages = of(/replication link down/);
    expect(resyncs).toHaveLength(2);
    expect(outages).toHaveLength(2);
    for (const [[from, to], [t, end]] of [
      [[200, 210], resyncs[0]],
      [[400, 406], resyncs[1]],
      [[198, 212], outages[0]],
      [[398, 404], outages[1]],
    ] as Array<[[number, number], [number, number]]>) {
      expect(t).toBeGreaterThanOrEqual(from - 2);
      expect(t).toBeLessThanOrEqual(from + 2);
      expect(end).toBeGreaterThanOrEqual(to - 2);
      expect(end).toBeLessThanOrEqual(to + 2);
    }
  });

  it('takes errors from the first line of a pod created mid-window as news, at its start', async () => {
    const dir = path.join(tmp, 'nginx');
    const w = await BundleWriter.create(dir, {
      window: { from: new Date(start), to: new Date(start + 600_000) },
      namespace: 'shop',
      cluster: 'test',
    });
    // The old pod's access log went with it; the new one answers 5xx from its first second.
    const points: Array<[number, number]> = [];
    for (let t = start + 300_000; t <= start + 600_000; t += 1000) points.push([t, 5]);
    const labels = { source: 'nginx', component: 'nginx', pod: 'shop-nginx-new' };
    await w.addSeries({ name: 'nginx_status_5xx', labels, kind: 'gauge', unit: 'requests/s', points });
    await w.finish();
    const r = await investigate(dir, { analyzers: analyzers.filter((a) => a.name === 'nginx') });
    const errors = r.findings.filter((f) => /5xx responses/.test(f.title));
    expect(errors).toHaveLength(1);
    expect(Math.abs((errors[0]?.time ?? 0) - (start + 300_000))).toBeLessThanOrEqual(5000);
    expect(errors[0]?.userFacing).toBe(true);
  });
});
