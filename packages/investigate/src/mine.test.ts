import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BundleWriter, openBundle } from '@hindsight/core';
import { TemplateMiner, templateId } from '@hindsight/drain';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogGroup, TemplateStats } from './log-model.js';
import { mineLogs, templateMatcher } from './mine.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

function groupOf(miner: TemplateMiner): LogGroup {
  const templates = new Map<string, TemplateStats>();
  for (const t of miner.templates()) {
    templates.set(t.id, {
      id: t.id,
      template: t.template,
      group: 'shop/app',
      component: 'shop',
      level: 'info',
      count: t.count,
      baselineCount: 0,
      counts: new Float64Array(1),
      pods: new Map(),
      podCounts: new Map(),
      firstTime: 0,
      lastTime: 0,
      samples: [],
    });
  }
  return {
    name: 'shop/app',
    workload: 'shop',
    container: 'app',
    component: 'shop',
    lines: 0,
    baselineLines: 0,
    totals: new Float64Array(1),
    templates,
    pods: new Set(),
  };
}

describe('templateMatcher', () => {
  it('finds the id a template kept while it generalised, not a hash of its final text', () => {
    const miner = new TemplateMiner();
    const first = miner.add('checkout 1 paid by alice');
    miner.add('checkout 2 paid by bob');
    miner.add('cache warmed in 3ms');
    const match = templateMatcher(groupOf(miner));
    expect(miner.get(first.id)?.template).toBe('checkout <*> paid by <*>');
    expect(match('checkout 77 paid by carol')).toBe(first.id);
    expect(match('cache warmed in 9ms')).toBe(miner.match('cache warmed in 1ms')?.id);
  });
});

describe('mineLogs', () => {
  it('counts a template that generalises in the window under the id it had in the baseline', async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-mine-')), 'bundle');
    temps.push(path.dirname(dir));
    const base = Date.parse('2026-03-02T08:00:00Z');
    const from = Date.parse('2026-03-02T10:00:00Z');
    const w = await BundleWriter.create(dir, {
      window: { from: new Date(from), to: new Date(from + 600_000) },
    });
    w.setBaseline({ from: new Date(base), to: new Date(base + 600_000) });
    const log = await w.openLog({ namespace: 'shop', pod: 'worker-0', container: 'app', previous: false });
    for (let i = 0; i < 10; i++) await log.write(base + i * 1000, `backup ${i} stored on alpha`);
    // In the window the host varies: the baseline's template generalises to `backup <*> stored on <*>`.
    for (let i = 0; i < 10; i++)
      await log.write(from + i * 1000, `backup ${i} stored on ${i % 2 ? 'beta' : 'gamma'}`);
    await w.finish();
    const bundle = await openBundle(dir);
    const [ref] = await bundle.logs();
    if (ref === undefined) throw new Error('the bundle has no log');
    const { groups } = await mineLogs(
      bundle,
      [{ ref, group: 'worker/app', workload: 'worker', component: 'worker' }],
      {
        from,
        bucketMs: 60_000,
        buckets: 10,
        baseline: { from: base, to: base + 600_000 },
      },
    );
    const templates = [...(groups[0]?.templates.values() ?? [])];
    expect(templates.map((t) => [t.id, t.template, t.baselineCount, t.count])).toEqual([
      [templateId('backup <*> stored on alpha'), 'backup <*> stored on <*>', 10, 10],
    ]);
  });

  it("keeps, in the same pass, the traced lines with the template they ended in, and an access log's requests", async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-mine-requests-')), 'bundle');
    temps.push(path.dirname(dir));
    const base = Date.parse('2026-03-02T08:00:00Z');
    const from = Date.parse('2026-03-02T10:00:00Z');
    const w = await BundleWriter.create(dir, {
      window: { from: new Date(from), to: new Date(from + 600_000) },
    });
    w.setBaseline({ from: new Date(base), to: new Date(base + 600_000) });
    const app = await w.openLog({ namespace: 'shop', pod: 'api-0', container: 'app', previous: false });
    const trace = (i: number): string => i.toString(16).padStart(32, '0');
    await app.write(base, `INFO c.s.Checkout#10 started trace_id=${trace(1)}`);
    // The first line's template generalises on the second: both name the same template.
    await app.write(from, `payment 1 refused for alice trace_id=${trace(2)}`);
    await app.write(from + 1000, `payment 2 refused for bob trace_id=${trace(3)}`);
    await app.write(from + 2000, 'no trace here');
    const proxy = await w.openLog({ namespace: 'shop', pod: 'proxy-0', container: 'nginx', previous: false });
    for (let i = 0; i < 5; i++)
      await proxy.write(
        from + i * 1000,
        `10.0.0.1 - - [02/Mar/2026:10:00:0${i} +0000] "GET /orders/${100 + i}?x=1 HTTP/1.1" ${i === 4 ? 401 : 200} 12 "-" "curl" 0.00${i + 1}`,
      );
    await w.finish();
    const bundle = await openBundle(dir);
    const refs = await bundle.logs();
    const tasks = refs.map((ref) => ({
      ref,
      group: `${ref.pod.split('-')[0] as string}/${ref.container}`,
      workload: ref.pod.split('-')[0] as string,
      component: ref.pod.split('-')[0] as string,
    }));
    const grid = { from, bucketMs: 60_000, buckets: 10, baseline: { from: base, to: base + 600_000 } };
    const mined = await mineLogs(bundle, tasks, grid);
    const api = mined.traced.find((f) => f.pod === 'api-0');
    expect(api?.lines.map((l) => [l.trace, l.baseline, l.location ?? l.template])).toEqual([
      [trace(1), true, 'c.s.Checkout#10'],
      [trace(2), false, api?.lines[2]?.template],
      [trace(3), false, api?.lines[2]?.template],
    ]);
    const group = mined.groups.find((g) => g.name === 'api/app');
    expect(group?.templates.get(api?.lines[1]?.template ?? '')?.template).toContain(
      'payment <*> refused for <*>',
    );
    expect(mined.access).toEqual([
      expect.objectContaining({
        pod: 'proxy-0',
        status: [200, 200, 200, 200, 401],
        route: [0, 0, 0, 0, 0],
        routes: ['GET /orders/:id'],
        seconds: [0.001, 0.002, 0.003, 0.004, 0.005],
      }),
    ]);
  });
});
