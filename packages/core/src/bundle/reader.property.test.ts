// Property: whatever a bundle holds, reading and validating it never fails with anything but a
// catalogued HindsightError (never HINDSIGHT_INTERNAL, never a raw ZodError or TypeError). Fixed seed
// and bounded runs so CI stays fast; a counterexample printed here belongs in test/fixtures/hostile.
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutation, mutate } from '../../../../test/fixtures/hostile/mutate.mjs';
import {
  BundleWriter,
  HindsightError,
  errorCatalogue,
  openBundle,
  packBundle,
  validateBundle,
  type Bundle,
} from '../index.js';

const RUNS = { seed: 16, numRuns: 100 };
const from = Date.parse('2026-01-01T10:00:00Z');

let tmp: string;
let valid: string;
let files: string[];
let archive: Buffer;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-core-property-'));
  valid = path.join(tmp, 'valid');
  const w = await BundleWriter.create(valid, {
    window: { from: new Date(from), to: new Date(from + 3_600_000) },
  });
  const log = await w.openLog({ namespace: 'shop', pod: 'shop-0', container: 'shop', previous: false });
  for (let i = 0; i < 20; i++) await log.write(from + i * 60_000, `GET /cart 200 ${i}ms`);
  await w.addSeries({
    name: 'redis_connected_slaves',
    labels: { source: 'redis' },
    kind: 'gauge',
    points: [
      [from, 2],
      [from + 60_000, 6],
    ],
  });
  await w.addChange({
    time: new Date(from + 600_000).toISOString(),
    kind: 'helm',
    target: 'release/shop',
    fromRevision: 1,
    toRevision: 2,
    diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }],
  });
  await w.addEvent({
    time: new Date(from + 700_000).toISOString(),
    object: { kind: 'Pod', name: 'shop-0' },
    reason: 'Unhealthy',
    message: 'probe failed',
    type: 'Warning',
    count: 3,
  });
  await w.addPod({
    namespace: 'shop',
    name: 'shop-0',
    labels: {},
    containers: [{ name: 'shop', restartCount: 1 }],
  });
  await w.setTopology({ components: [{ name: 'shop', dependsOn: ['redis'] }] });
  await w.finish();
  files = (await readdir(valid, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(valid, path.join(e.parentPath, e.name)))
    .sort();
  await packBundle(valid, path.join(tmp, 'valid.tar.gz'));
  archive = await readFile(path.join(tmp, 'valid.tar.gz'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Runs `work`; anything it throws must be a catalogued HindsightError other than HINDSIGHT_INTERNAL. */
async function onlyCatalogued(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    expect(err).toBeInstanceOf(HindsightError);
    const code = (err as HindsightError).code;
    expect(Object.keys(errorCatalogue)).toContain(code);
    expect(code).not.toBe('HINDSIGHT_INTERNAL');
  }
}

async function readAll(bundle: Bundle): Promise<void> {
  for (const ref of await bundle.logs()) for await (const _ of bundle.readLog(ref));
  for await (const _ of bundle.series());
  for await (const _ of bundle.spans());
  await Promise.all([bundle.changes(), bundle.events(), bundle.pods(), bundle.topology()]);
}

let n = 0;
describe('the bundle reader and validate on mutated bundles', () => {
  it('never throw anything but a catalogued error, and validate names a file for every problem', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, async (which, m) => {
        const dir = path.join(tmp, `case-${n++}`);
        await cp(valid, dir, { recursive: true });
        const rel = files[which % files.length] as string;
        await writeFile(path.join(dir, rel), mutate(await readFile(path.join(dir, rel)), m));
        await onlyCatalogued(async () => {
          for (const p of await validateBundle(dir)) {
            expect(p.file.length).toBeGreaterThan(0);
            expect(p.code).not.toBe('HINDSIGHT_INTERNAL');
          }
        });
        await onlyCatalogued(async () => {
          const bundle = await openBundle(dir);
          try {
            await readAll(bundle);
          } finally {
            await bundle.close();
          }
        });
        await rm(dir, { recursive: true, force: true });
      }),
      RUNS,
    );
  });

  it('never throw anything but a catalogued error on a mutated .tar.gz', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const file = path.join(tmp, `case-${n++}.tar.gz`);
        await writeFile(file, mutate(archive, m));
        await onlyCatalogued(async () => {
          for (const p of await validateBundle(file)) expect(p.code).not.toBe('HINDSIGHT_INTERNAL');
        });
        await rm(file, { force: true });
      }),
      RUNS,
    );
  });
});
