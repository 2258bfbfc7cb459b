import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z, type ZodType } from 'zod';
import { validateBundle } from '@hindsight/core';
import { collect, selectSources } from './collect.js';
import type { Source } from './source.js';
import { sources } from './sources/index.js';
import { tempDir } from './test-support.js';
import { optionKey } from './index.js';

// A test source with no flags of its own, run whatever the options.
const noSettings = { flags: [], schema: z.object({}) as ZodType<object>, needs: [] };

const window = { from: new Date('2026-11-25T10:00:00Z'), to: new Date('2026-11-25T11:00:00Z') };
let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('hs-collect-run-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

function series(name: string): Source {
  return {
    name,
    ...noSettings,
    async collect(writer) {
      await writer.addSeries({
        name: `${name}_up`,
        labels: { source: name },
        kind: 'gauge',
        points: [[window.from.getTime(), 1]],
      });
      return { status: 'ok', items: 1 };
    },
  };
}

describe('collect', () => {
  it('runs the sources whose options are given, one of them failing without stopping the others', async () => {
    let inFlight = 0;
    let most = 0;
    const slow = (name: string): Source => ({
      name,
      ...noSettings,
      async collect() {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return { status: 'ok', items: 0 };
      },
    });
    const broken: Source = {
      name: 'broken',
      ...noSettings,
      collect: () => Promise.reject(new Error('connect ECONNREFUSED redis://:pw@10.0.0.9:6379')),
    };
    const out = `${tmp.dir}/run`;
    const r = await collect({
      output: out,
      window,
      concurrency: 2,
      sources: [series('a'), broken, slow('s1'), slow('s2'), slow('s3'), series('b')],
    });
    expect(r.manifest.sources.map((s) => [s.name, s.status])).toEqual([
      ['a', 'ok'],
      ['broken', 'failed'],
      ['s1', 'ok'],
      ['s2', 'ok'],
      ['s3', 'ok'],
      ['b', 'ok'],
    ]);
    expect(r.manifest.sources[1]?.error).toBe('connect ECONNREFUSED redis://:[REDACTED]@10.0.0.9:6379');
    expect(r.warnings).toEqual([
      expect.objectContaining({ stage: 'collect', name: 'broken', code: 'HINDSIGHT_SOURCE_FAILED' }),
    ]);
    expect(most).toBeLessThanOrEqual(2);
    expect(await validateBundle(out)).toEqual([]);
  });

  it('finishes a valid bundle of what it had when interrupted, naming the sources that never ran', async () => {
    const controller = new AbortController();
    const hang: Source = {
      name: 'hang',
      ...noSettings,
      async collect(writer, ctx) {
        await writer.addSeries({
          name: 'x',
          labels: { source: 'hang' },
          kind: 'gauge',
          points: [[ctx.window.from, 1]],
        });
        // As Ctrl-C during a long read: the source sees the abort and returns what it has.
        setTimeout(() => controller.abort(), 10);
        await new Promise((r) => ctx.signal.addEventListener('abort', r));
        return { status: 'ok', items: 1 };
      },
    };
    const out = `${tmp.dir}/abort`;
    const r = await collect({
      output: out,
      window,
      concurrency: 1,
      signal: controller.signal,
      sources: [hang, series('later')],
    });
    expect(r.interrupted).toBe(true);
    expect(r.manifest.sources).toEqual([
      { name: 'hang', status: 'partial', items: 1, error: 'interrupted' },
      { name: 'later', status: 'failed', error: 'interrupted before it started' },
    ]);
    expect(r.manifest.notes?.[0]).toMatch(/interrupted/);
    expect(await validateBundle(out)).toEqual([]);
  });

  it('chooses sources from the options given, and refuses to run with none', async () => {
    const names = (o: Parameters<typeof selectSources>[0]): string[] =>
      selectSources(o, sources).map((s) => s.name);
    const base = { output: 'x', window };
    expect(names({ ...base, kubeconfig: 'k' })).toEqual(['kubernetes', 'helm', 'nginx']);
    expect(names({ ...base, redis: ['redis://a'], nginxPod: 'p' })).toEqual(['redis', 'nginx']);
    expect(names({ ...base, loki: 'http://l' })).toEqual([]);
    await expect(collect({ ...base, output: `${tmp.dir}/none` })).rejects.toThrow(
      'nothing to collect: give --kubeconfig, --helm-history, --git, --redis, --postgres, --nginx-log, --nginx-pod, --prometheus, --loki, --jaeger or --tempo',
    );
  });

  it("refuses a source's flag without the one it needs before writing anything, even when that source would not run", async () => {
    const out = `${tmp.dir}/refused`;
    const base = { output: out, window, redis: ['redis://127.0.0.1:1'] };
    await expect(collect({ ...base, promql: ['up'] })).rejects.toMatchObject({
      code: 'HINDSIGHT_USAGE',
      message: '--promql needs --prometheus',
    });
    await expect(collect({ ...base, nginxLog: 'a.log', nginxPod: 'p' })).rejects.toThrow(
      'give --nginx-log or --nginx-pod, not both',
    );
    await expect(collect({ ...base, redis: 'redis://a' as unknown as string[] })).rejects.toThrow(
      /^--redis: /,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('the source registry', () => {
  it('declares each flag once, and each source needs only common options or its own flags', () => {
    const keys = sources.flatMap((s) => s.flags.map((f) => optionKey(f.flags)));
    expect(new Set(keys).size).toBe(keys.length);
    const common = new Set(['kubeconfig', 'context', 'namespace']);
    for (const s of sources) {
      const own = new Set(s.flags.map((f) => optionKey(f.flags)));
      for (const need of s.needs.flat())
        expect(common.has(need) || own.has(need), `${s.name}: ${need}`).toBe(true);
    }
  });

  it('names an option as commander does', () => {
    expect(optionKey('--nginx-log-format <format>')).toBe('nginxLogFormat');
    expect(optionKey('-l, --selector <selector>')).toBe('selector');
  });
});
