import { TemplateMiner } from '@hindsight/drain';
import { describe, expect, it } from 'vitest';
import type { LogGroup, TemplateStats } from './data.js';
import { templateMatcher } from './mine.js';

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
