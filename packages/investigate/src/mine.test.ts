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
});
