import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleWriter } from '@hindsight/core';
import { investigate } from '../index.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const base = Date.parse('2026-03-02T08:00:00Z');
const from = Date.parse('2026-03-02T10:00:00Z');
const to = Date.parse('2026-03-02T10:20:00Z');
const pod = 'catalog-6d4f8b7c9d-abcde';

/**
 * A catalog service serves a request every 2 s all along. Every 20th line is "price list reloaded"
 * in the baseline and from 10:10 in the window, but not before 10:10 (a reload schedule, say, that
 * the window's first half happened to miss).
 */
async function writeBundle(withBaseline: boolean): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-log-patterns-')), 'bundle');
  temps.push(path.dirname(dir));
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  const log = await w.openLog({ namespace: 'shop', pod, container: 'app', previous: false });
  const write = async (t: number, i: number, reloads: boolean): Promise<void> => {
    await log.write(t, `INFO served item ${i} in ${10 + (i % 7)} ms`);
    if (reloads && i % 20 === 0) await log.write(t + 1, `INFO price list reloaded: ${300 + (i % 5)} prices`);
  };
  let i = 0;
  if (withBaseline) {
    w.setBaseline({ from: new Date(base), to: new Date(base + 10 * 60_000) });
    for (let t = base; t < base + 10 * 60_000; t += 2000) await write(t, ++i, true);
  }
  for (let t = from; t < to; t += 2000) await write(t, ++i, t >= from + 10 * 60_000);
  await w.finish();
  return dir;
}

describe('log-patterns: new templates', () => {
  it('calls a template new when the window had a history without it and there is no baseline', async () => {
    const report = await investigate(await writeBundle(false), { now: new Date(0) });
    const reload = report.findings.find((f) => f.title.includes('price list reloaded'));
    expect(reload?.title).toMatch(/^new log template/);
  });

  it('does not call a template new when the baseline period holds it', async () => {
    const report = await investigate(await writeBundle(true), { now: new Date(0) });
    expect(report.findings.filter((f) => f.title.startsWith('new log template'))).toEqual([]);
    expect(report.verdict).not.toBe('component');
  });
});
