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

/**
 * A Prometheus histogram of one route's request time on one pod: 20 requests per 5 s scrape, all
 * under 0.1 s until 10:10, then all between 0.5 and 1 s; and a readiness route on a pod that starts
 * at 10:05, its probes counted from then on (no slower).
 */
async function writeHistogramBundle(dir: string): Promise<void> {
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  const bounds = ['0.1', '0.5', '1', '+Inf'];
  const histogram = async (labels: Record<string, string>, start: number, slowFrom: number) => {
    const totals = bounds.map(() => 0);
    const points: Array<Array<[number, number]>> = bounds.map(() => []);
    for (let t = start; t < to; t += 5000) {
      const fast = t < slowFrom;
      bounds.forEach((_, i) => {
        totals[i] = (totals[i] as number) + (fast || i >= 2 ? 20 : 0);
        points[i]?.push([t, totals[i] as number]);
      });
    }
    for (const [i, le] of bounds.entries())
      await w.addSeries({
        name: 'http_request_duration_seconds_bucket',
        labels: { source: 'prometheus', component: 'shop', ...labels, le },
        kind: 'counter',
        points: points[i] ?? [],
      });
    const count = points.at(-1) ?? [];
    await w.addSeries({
      name: 'http_request_duration_seconds_count',
      labels: { source: 'prometheus', component: 'shop', ...labels },
      kind: 'counter',
      points: count,
    });
  };
  await histogram({ pod: 'shop-a', route: '/pay' }, from, downFrom);
  // The readiness route of a pod that starts at 10:05 and of one up all along whose probes become
  // slow from 10:10 (both as pods.jsonl records them).
  await histogram({ pod: 'shop-b', route: '/readyz' }, Date.parse('2026-03-02T10:05:00Z'), Infinity);
  await histogram({ pod: 'shop-c', route: '/readyz' }, from, downFrom);
  for (const name of ['shop-b', 'shop-c'])
    await w.addPod({
      namespace: 'default',
      name,
      component: 'shop',
      labels: {},
      containers: [
        {
          name: 'shop',
          restartCount: 0,
          probes: [{ kind: 'readiness', path: '/readyz', port: 8080 }],
        },
      ],
    });
  await w.finish();
}

describe('a Prometheus histogram', () => {
  let tmp: string;
  let report: Report;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hindsight-histogram-'));
    await writeHistogramBundle(path.join(tmp, 'bundle'));
    report = await investigate(path.join(tmp, 'bundle'), { now: new Date(0) });
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('is read as its quantiles: the slowdown is one user-facing finding per quantile', () => {
    const slow = report.findings.filter((f) => f.signal.startsWith('http_request_duration_seconds{'));
    expect(slow.filter((f) => f.pod === 'shop-a').map((f) => [f.signal, f.direction, f.userFacing])).toEqual([
      ['http_request_duration_seconds{component=shop,pod=shop-a,quantile=0.5,route=/pay}', 'up', true],
      ['http_request_duration_seconds{component=shop,pod=shop-a,quantile=0.95,route=/pay}', 'up', true],
    ]);
    expect(slow.find((f) => f.pod === 'shop-a')?.title).toContain('up 0.050 -> 0.75');
  });

  it('makes no finding per bucket, and its count is the load', () => {
    expect(report.findings.filter((f) => f.signal.includes('_bucket'))).toEqual([]);
    const counts = report.findings.filter((f) => f.signal.startsWith('http_request_duration_seconds_count{'));
    expect(counts.every((f) => !f.userFacing)).toBe(true);
  });

  it("leaves out the kubelet's probes of a pod, by the paths pods.jsonl records", () => {
    expect(report.findings.filter((f) => f.signal.includes('route=/readyz')).map((f) => f.title)).toEqual([]);
  });
});

describe("Redis's per-command series", () => {
  let tmp: string;
  let report: Report;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hindsight-redis-cmd-'));
    const w = await BundleWriter.create(path.join(tmp, 'bundle'), {
      window: { from: new Date(from), to: new Date(to) },
    });
    // The 99th percentile of two commands, both 10x slower from 10:10: a data command, and the
    // INFO that an exporter sends on every scrape.
    for (const cmd of ['get', 'info', 'client|setname']) {
      const points: Array<[number, number]> = [];
      for (let t = from; t < to; t += 5000) points.push([t, t < downFrom ? 40 : 400]);
      await w.addSeries({
        name: 'redis_latency_percentiles_usec',
        labels: { source: 'prometheus', component: 'redis', pod: 'shop-redis-master-0', cmd, quantile: '99' },
        kind: 'gauge',
        points,
      });
    }
    await w.finish();
    report = await investigate(path.join(tmp, 'bundle'), { now: new Date(0) });
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('are analysed for the commands that use the server, not those that only look at it', () => {
    const cmds = report.findings
      .filter((f) => f.signal.startsWith('redis_latency_percentiles_usec{'))
      .map((f) => /cmd=([^,}]+)/.exec(f.signal)?.[1]);
    expect(cmds).toEqual(['get']);
  });
});
