import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWriter } from '@hindsight/core';
import { investigate, reporters, type Finding, type Report } from '../index.js';

const from = Date.parse('2026-03-02T10:00:00Z');
const to = Date.parse('2026-03-02T10:20:00Z');
const step = Date.parse('2026-03-02T10:10:00Z');

/** A sample every 5 s over the window: `before`, then `after` from 10:10. */
function points(before: number, after = before): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = from; t < to; t += 5000) out.push([t, t < step ? before : after]);
  return out;
}

const redis = (pod: string, node: string, role: string) => ({
  source: 'redis',
  component: 'redis',
  node,
  pod,
  role,
});

/**
 * Redis memory on a master and two replicas (only the master's moves); a client latency per pod,
 * each pod scraped at its own `instance`; one replica pod seen at two addresses at once, another
 * restarted at a new one; nginx error-log
 * lines by level, with no pod or node.
 */
async function writeBundle(dir: string): Promise<void> {
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  const add = (name: string, labels: Record<string, string>, p: Array<[number, number]>) =>
    w.addSeries({ name, labels, kind: 'gauge', points: p });
  await add('redis_used_memory', redis('shop-redis-master-0', '127.0.0.1:41234', 'master'), points(1e6, 5e6));
  await add('redis_used_memory', redis('shop-redis-replica-0', '127.0.0.1:41240', 'replica'), points(1e6));
  await add('redis_used_memory', redis('shop-redis-replica-1', '127.0.0.1:41250', 'replica'), points(1e6));
  const latency = (pod: string, instance: string) => ({
    source: 'prometheus',
    component: 'ts-travel-service',
    pod,
    instance,
  });
  await add(
    'PodClientLatencyP99(s)',
    latency('ts-travel-service-64469b5b48-25zj6', '10.0.0.7:9100'),
    points(0.45, 27),
  );
  await add(
    'PodClientLatencyP99(s)',
    latency('ts-travel-service-64469b5b48-x8k2p', '10.0.0.8:9100'),
    points(0.4),
  );
  for (const node of ['127.0.0.1:41250', '127.0.0.1:41260'])
    await add('redis_connected_clients', redis('shop-redis-replica-1', node, 'replica'), points(3, 30));
  // Restarted at 10:15 on a new port: the same pod, one address after the other.
  const restart = Date.parse('2026-03-02T10:15:00Z');
  const rolled = points(3, 30);
  await add(
    'redis_connected_clients',
    redis('shop-redis-replica-2', '127.0.0.1:41270', 'replica'),
    rolled.filter(([t]) => t < restart),
  );
  await add(
    'redis_connected_clients',
    redis('shop-redis-replica-2', '127.0.0.1:41280', 'replica'),
    rolled.filter(([t]) => t >= restart),
  );
  await add('nginx_error_log_lines', { source: 'nginx', component: 'nginx', level: 'error' }, points(0, 4));
  await add('nginx_error_log_lines', { source: 'nginx', component: 'nginx', level: 'warn' }, points(1));
  await w.finish();
}

describe('metric-changes: finding titles', () => {
  let tmp: string;
  let report: Report;
  const changed = (name: string): Finding[] =>
    report.findings.filter((f) => f.analyzer === 'metric-changes' && f.signal.startsWith(`${name}{`));
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-metric-changes-'));
    await writeBundle(path.join(tmp, 'bundle'));
    report = await investigate(path.join(tmp, 'bundle'), { now: new Date(0) });
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('names the series, its pod and the labels that tell it apart; the signal keeps the full key', () => {
    const [memory] = changed('redis_used_memory');
    expect(memory?.title).toBe(
      'redis_used_memory on shop-redis-master-0 (role=master) up 1000000 -> 5000000',
    );
    expect(memory?.signal).toBe(
      'redis_used_memory{component=redis,node=127.0.0.1:41234,pod=shop-redis-master-0,role=master}',
    );
  });

  it('leaves out a label that only renames the pod (a scrape instance)', () => {
    expect(changed('PodClientLatencyP99(s)').map((f) => f.title)).toEqual([
      'PodClientLatencyP99(s) on ts-travel-service-64469b5b48-25zj6 up 0.45 -> 27',
    ]);
  });

  it('names the component when a series has no pod or node', () => {
    expect(changed('nginx_error_log_lines').map((f) => f.title)).toEqual([
      'nginx_error_log_lines on nginx (level=error) up 0 -> 4',
    ]);
  });

  it('keeps the addresses of a pod seen at two at once, not of one restarted at a new one', () => {
    expect(
      changed('redis_connected_clients')
        .map((f) => f.title)
        .sort(),
    ).toEqual([
      'redis_connected_clients on shop-redis-replica-1 (node=127.0.0.1:41250) up 3 -> 30',
      'redis_connected_clients on shop-redis-replica-1 (node=127.0.0.1:41260) up 3 -> 30',
      'redis_connected_clients on shop-redis-replica-2 up 3 -> 30',
    ]);
  });

  it('shows the same titles in the terminal, Markdown and HTML reports', () => {
    const title = 'redis_used_memory on shop-redis-master-0 (role=master) up 1000000 -> 5000000';
    expect(reporters.markdown.render(report)).toContain(title);
    const html = reporters.html.render(report);
    expect(html).toContain(title.replace('->', '-&gt;'));
    // The chart's caption keeps the full key on hover.
    expect(html).toContain(
      '<figcaption title="redis_used_memory{component=redis,node=127.0.0.1:41234,pod=shop-redis-master-0,role=master}">',
    );
    const terminal = reporters.terminal.render(report, { paint: (_style, text) => text });
    expect(terminal).toContain('on ts-travel-service-64469b5b48-25zj6 up 0.45 -> 27');
    expect(terminal).not.toMatch(/\{component=/);
  });
});
