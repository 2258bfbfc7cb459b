import { mkdtemp, readFile, rm, writeFile, appendFile, truncate, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BundleWriter,
  openBundle,
  packBundle,
  validateBundle,
  HindsightError,
  diffValues,
} from '../index.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-core-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const from = Date.parse('2026-01-01T10:00:00Z');
const to = Date.parse('2026-01-01T11:00:00Z');

async function writeSample(dir: string): Promise<void> {
  const w = await BundleWriter.create(dir, {
    window: { from: new Date(from), to: new Date(to) },
    namespace: 'shop',
  });
  const log = await w.openLog({ namespace: 'shop', pod: 'shop-0', container: 'shop', previous: false });
  for (let i = 0; i < 100; i++) await log.write(from + i * 1000, `request ${i} done password=hunter2`);
  const prev = await w.openLog({ namespace: 'shop', pod: 'shop-0', container: 'shop', previous: true });
  await prev.write(from, 'before restart');
  await w.addSeries({
    name: 'redis_connected_slaves',
    labels: { source: 'redis', pod: 'redis-0' },
    kind: 'gauge',
    points: [
      [from, 2],
      [from + 60_000, 6],
    ],
  });
  await w.addChange({
    time: new Date(from + 600_000).toISOString(),
    kind: 'helm',
    target: 'shop',
    release: 'shop',
    fromRevision: 2,
    toRevision: 3,
    diff: [
      ...diffValues(
        { redis: { replica: { replicaCount: 2 } } },
        { redis: { replica: { replicaCount: 6 }, auth: { password: 'hunter2' } } },
      ),
    ],
  });
  await w.addEvent({
    time: new Date(from + 700_000).toISOString(),
    object: { kind: 'Pod', name: 'redis-replica-5' },
    reason: 'Unhealthy',
    message: 'Readiness probe failed',
    type: 'Warning',
    count: 3,
  });
  w.recordSource({ name: 'kubernetes', status: 'ok', items: 2 });
  w.recordSource({
    name: 'prometheus',
    status: 'failed',
    error: 'connect ECONNREFUSED http://admin:hunter2@127.0.0.1:9',
  });
  w.addNote('interrupted by user');
  const manifest = await w.finish();
  // finish() returns what it wrote, notes included.
  expect(manifest.notes).toEqual(['interrupted by user']);
}

describe('bundle format v1', () => {
  it('writes a bundle that reads back whole, with no secret on disk', async () => {
    const dir = path.join(tmp, 'b');
    await writeSample(dir);
    expect(await validateBundle(dir)).toEqual([]);
    const b = await openBundle(dir);
    const logs = await b.logs();
    expect(logs.map((l) => l.file)).toEqual([
      'logs/shop/shop-0/shop.log',
      'logs/shop/shop-0/shop.previous.log',
    ]);
    let n = 0;
    for await (const line of b.readLog(logs[0]!)) {
      expect(line.time).toBe(from + n * 1000);
      n++;
    }
    expect(n).toBe(100);
    const changes = await b.changes();
    expect(changes[0]!.diff.find((d) => d.path === 'redis.replica.replicaCount')).toEqual({
      path: 'redis.replica.replicaCount',
      from: 2,
      to: 6,
    });
    expect(b.manifest.sources.find((s) => s.name === 'prometheus')?.status).toBe('failed');
    const all = await Promise.all(
      ['manifest.json', 'changes.jsonl', 'logs/shop/shop-0/shop.log'].map((f) =>
        readFile(path.join(dir, f), 'utf8'),
      ),
    );
    expect(all.join('\n')).not.toContain('hunter2');
  });

  it('round-trips through .tar.gz', async () => {
    const dir = path.join(tmp, 'b');
    await writeSample(dir);
    const archive = path.join(tmp, 'b.tar.gz');
    await packBundle(dir, archive);
    expect(await validateBundle(archive)).toEqual([]);
    const b = await openBundle(archive);
    expect((await b.logs()).length).toBe(2);
    const series = [];
    for await (const s of b.series()) series.push(s);
    expect(series[0]!.points).toEqual([
      [from, 2],
      [from + 60_000, 6],
    ]);
    await b.close();
    await expect(stat(b.root)).rejects.toThrow();
  });

  it('rejects a truncated archive with the file named', async () => {
    const dir = path.join(tmp, 'b');
    await writeSample(dir);
    const archive = path.join(tmp, 'b.tar.gz');
    await packBundle(dir, archive);
    const size = (await stat(archive)).size;
    await truncate(archive, Math.floor(size / 2));
    const problems = await validateBundle(archive);
    expect(problems[0]).toMatchObject({ code: 'HINDSIGHT_BUNDLE_ARCHIVE', severity: 'error', file: archive });
  });

  it('names the file and line of each kind of bad record, and keeps the rest readable', async () => {
    const dir = path.join(tmp, 'b');
    await writeSample(dir);
    await appendFile(
      path.join(dir, 'logs/shop/shop-0/shop.log'),
      'not-a-time hello\n2026-01-01T10:30:00Z fine\n',
    );
    await appendFile(
      path.join(dir, 'changes.jsonl'),
      '{"time": "yesterday", "kind": "helm", "target": "x", "diff": []}\n{oops\n',
    );
    await appendFile(
      path.join(dir, 'events.jsonl'),
      JSON.stringify({
        time: '2026-01-01T15:00:00Z',
        object: { kind: 'Pod', name: 'p' },
        reason: 'X',
        message: 'late',
        type: 'Normal',
        count: 1,
      }) + '\n',
    );
    const problems = await validateBundle(dir);
    expect(problems.map((p) => `${p.file}:${p.line} ${p.code}`)).toEqual([
      'logs/shop/shop-0/shop.log:101 HINDSIGHT_BUNDLE_SCHEMA',
      'changes.jsonl:2 HINDSIGHT_BUNDLE_SCHEMA',
      'changes.jsonl:3 HINDSIGHT_BUNDLE_SCHEMA',
      'events.jsonl:2 HINDSIGHT_BUNDLE_WINDOW',
    ]);
    const b = await openBundle(dir);
    let n = 0;
    for await (const _ of b.readLog((await b.logs())[0]!)) n++;
    expect(n).toBe(101);
    expect((await b.changes()).length).toBe(1);
    expect(b.warnings.map((w) => w.where)).toEqual([
      'logs/shop/shop-0/shop.log:101',
      'changes.jsonl:2',
      'changes.jsonl:3',
    ]);
  });

  it('accepts records in a declared baseline period outside the window, and only there', async () => {
    const dir = path.join(tmp, 'b');
    const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
    const baseFrom = from - 3 * 3600_000;
    w.setBaseline({ from: new Date(baseFrom), to: new Date(baseFrom + 60_000), note: 'fault-free minute' });
    const log = await w.openLog({ namespace: 'shop', pod: 'shop-0', container: 'shop', previous: false });
    await log.write(baseFrom + 1000, 'normal request');
    await log.write(from - 2 * 3600_000, 'neither in the window nor in the baseline');
    await log.write(from + 1000, 'request in the window');
    await w.finish();
    const problems = await validateBundle(dir);
    expect(problems.map((p) => `${p.file}:${p.line} ${p.code}`)).toEqual([
      'logs/shop/shop-0/shop.log:2 HINDSIGHT_BUNDLE_WINDOW',
    ]);
    const b = await openBundle(dir);
    expect(b.manifest.baseline).toEqual({
      from: new Date(baseFrom).toISOString(),
      to: new Date(baseFrom + 60_000).toISOString(),
      note: 'fault-free minute',
    });
    expect(b.baselineMs).toEqual({ from: baseFrom, to: baseFrom + 60_000 });
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    const { baseline: _, ...older } = manifest;
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(older));
    expect((await openBundle(dir)).baselineMs).toBeUndefined();
    await writeFile(
      path.join(dir, 'manifest.json'),
      JSON.stringify({ ...manifest, baseline: { from: manifest.baseline.to, to: manifest.baseline.from } }),
    );
    await expect(openBundle(dir)).rejects.toMatchObject({ code: 'HINDSIGHT_BUNDLE_MANIFEST' });
  });

  it('refuses a missing manifest, bad JSON and an unknown version with clear errors', async () => {
    await expect(openBundle(path.join(tmp, 'nope'))).rejects.toMatchObject({
      code: 'HINDSIGHT_BUNDLE_MISSING',
    });
    const dir = path.join(tmp, 'b');
    await writeSample(dir);
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ ...manifest, version: 99 }));
    await expect(openBundle(dir)).rejects.toMatchObject({ code: 'HINDSIGHT_BUNDLE_VERSION' });
    await writeFile(path.join(dir, 'manifest.json'), '{"format": "hindsight-bundle",');
    await expect(openBundle(dir)).rejects.toBeInstanceOf(HindsightError);
    await expect(openBundle(dir)).rejects.toMatchObject({ code: 'HINDSIGHT_BUNDLE_MANIFEST' });
    await rm(path.join(dir, 'manifest.json'));
    expect((await validateBundle(dir))[0]).toMatchObject({
      code: 'HINDSIGHT_BUNDLE_MANIFEST',
      file: path.join(dir, 'manifest.json'),
    });
  });

  it('refuses to write into a non-empty folder unless told to', async () => {
    const dir = path.join(tmp, 'b');
    await writeSample(dir);
    await expect(
      BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } }),
    ).rejects.toMatchObject({ code: 'HINDSIGHT_USAGE' });
  });
});
