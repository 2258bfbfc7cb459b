import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BundleWriter, formatUnixNanos, openBundle } from '@hindsight/core';
import { callGraph } from './calls-route.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-calls-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const from = Date.parse('2026-03-01T10:00:00Z');
const stamp = (ms: number): string => formatUnixNanos(`${Math.round(ms * 1e6)}`) as string;

describe('the call graph served from spans', () => {
  it("joins each server span to its caller: the callee's time and the caller's wait per bucket", async () => {
    const w = await BundleWriter.create(tmp, {
      window: { from: new Date(from), to: new Date(from + 120_000) },
    });
    // Two requests a minute apart; the second waits 30 ms more on the wire into db.
    for (const [i, wire] of [
      [0, 1],
      [1, 31],
    ] as const) {
      const t = from + i * 60_000;
      const trace = `t${i}`;
      const base = { trace, operation: 'op' };
      // The child span is written before its parent: links are joined per trace, not in file order.
      await w.addSpan({
        ...base,
        span: 's',
        parent: 'c',
        component: 'db',
        start: stamp(t + 2),
        durationMs: 5,
      });
      await w.addSpan({ ...base, span: 'r', component: 'api', start: stamp(t), durationMs: 10 + wire });
      await w.addSpan({
        ...base,
        span: 'c',
        parent: 'r',
        component: 'api',
        start: stamp(t + 1),
        durationMs: 5 + wire,
      });
    }
    await w.finish();
    const graph = await callGraph(await openBundle(tmp), 60_000);
    expect(graph.spans).toBe(6);
    expect(graph.edges).toEqual([
      {
        caller: 'api',
        callee: 'db',
        calls: 2,
        medianMs: 5,
        points: [
          [from, 5],
          [from + 60_000, 5],
        ],
        waited: [
          [from, 6],
          [from + 60_000, 36],
        ],
      },
    ]);
  });

  it("keeps calls in the baseline period out of the window's points, as the edge's reference", async () => {
    const w = await BundleWriter.create(tmp, {
      window: { from: new Date(from), to: new Date(from + 60_000) },
    });
    const base = from - 3_600_000;
    for (const [trace, t, ms] of [
      ['b', base, 2],
      ['w', from, 9],
    ] as const) {
      await w.addSpan({
        trace,
        span: 'c',
        component: 'api',
        operation: 'db/q',
        start: stamp(t),
        durationMs: ms + 1,
      });
      await w.addSpan({
        trace,
        span: 's',
        parent: 'c',
        component: 'db',
        operation: 'q',
        start: stamp(t),
        durationMs: ms,
      });
    }
    w.setBaseline({ from: new Date(base), to: new Date(base + 60_000), note: 'fault-free' });
    await w.finish();
    const [edge] = (await callGraph(await openBundle(tmp), 60_000)).edges;
    expect(edge?.points).toEqual([[from, 9]]);
    expect(edge?.waited).toEqual([[from, 10]]);
    expect(edge?.baseline).toEqual({ medianMs: 2, waitedMs: 3 });
  });

  it('is empty for a bundle without spans', async () => {
    const w = await BundleWriter.create(tmp, {
      window: { from: new Date(from), to: new Date(from + 60_000) },
    });
    await w.finish();
    expect(await callGraph(await openBundle(tmp), 60_000)).toEqual({ spans: 0, bucketMs: 60_000, edges: [] });
  });
});
