import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWriter } from '@hindsight/core';
import { investigate, type Report } from './index.js';

const from = Date.parse('2026-03-02T10:00:00Z');
const to = Date.parse('2026-03-02T10:20:00Z');
const downFrom = Date.parse('2026-03-02T10:10:00Z');
const downTo = Date.parse('2026-03-02T10:10:30Z');

/** 1 every `stepMs` over the window, 0 while the link is down. */
function link(stepMs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = from; t < to; t += stepMs) out.push([t, t >= downFrom && t < downTo ? 0 : 1]);
  return out;
}

/**
 * One replica's replication link, down for 30 s, sampled by the redis source every second and
 * scraped from its exporter through Prometheus every 5 s (labels as each writes them); a second
 * replica only Prometheus saw, down at the same time.
 */
async function writeBundle(dir: string): Promise<void> {
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  const add = (labels: Record<string, string>, points: Array<[number, number]>) =>
    w.addSeries({ name: 'redis_master_link_up', labels, kind: 'gauge', points });
  const scraped = (pod: string, instance: string) => ({
    source: 'prometheus',
    component: 'redis',
    container: 'metrics',
    instance,
    job: 'kubernetes-pods',
    namespace: 'default',
    pod,
  });
  await add(
    {
      source: 'redis',
      component: 'redis',
      node: '127.0.0.1:41240',
      pod: 'shop-redis-replica-0',
      role: 'replica',
    },
    link(1000),
  );
  await add(scraped('shop-redis-replica-0', '127.0.0.1:9121'), link(5000));
  await add(scraped('shop-redis-replica-1', '127.0.0.1:9122'), link(5000));
  await w.finish();
}

describe('one measure seen by two sources', () => {
  let tmp: string;
  let report: Report;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hindsight-sources-'));
    await writeBundle(path.join(tmp, 'bundle'));
    report = await investigate(path.join(tmp, 'bundle'), { now: new Date(0) });
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  const linkDown = (pod: string) =>
    report.findings.filter((f) => f.analyzer === 'redis' && f.title.includes(`link down on ${pod}`));

  it('is one finding, from the finer source', () => {
    const found = linkDown('shop-redis-replica-0');
    expect(found.map((f) => f.title)).toEqual([
      'redis: replication link down on shop-redis-replica-0 (30 samples)',
    ]);
    expect(found[0]?.signal).toContain('node=127.0.0.1:41240');
  });

  it('keeps what only one source saw', () => {
    expect(linkDown('shop-redis-replica-1')).toHaveLength(1);
  });
});
