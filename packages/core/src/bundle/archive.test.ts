import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { gzipBomb } from '../../../../test/fixtures/hostile/make.mjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARCHIVE_LIMITS, RATIO_CHECKED_AFTER, packBundle, unpackBundle } from '../index.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-core-archive-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/**
 * Runs `work` with the temporary directory (TMPDIR, which os.tmpdir() reads at each call) pointed at
 * a folder of its own, and gives what `work` left there: an unpack that fails leaves nothing.
 */
async function leftBehind(work: () => Promise<unknown>): Promise<string[]> {
  const own = await mkdtemp(path.join(tmp, 'tmpdir-'));
  const saved = process.env['TMPDIR'];
  process.env['TMPDIR'] = own;
  try {
    await work();
  } finally {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
  }
  return readdir(own);
}

async function archiveOf(files: Record<string, string | Buffer>): Promise<string> {
  const dir = path.join(tmp, 'src');
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), body);
  }
  const archive = path.join(tmp, 'bundle.tar.gz');
  await packBundle(dir, archive);
  return archive;
}

describe('unpackBundle limits (gzip bombs)', () => {
  it('unpacks an archive within its limits', async () => {
    const archive = await archiveOf({ 'manifest.json': '{}', 'logs/a/b/c.log': 'x\n'.repeat(1000) });
    const dir = await unpackBundle(archive);
    expect(existsSync(path.join(dir, 'logs/a/b/c.log'))).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an entry larger than the entry limit, naming it, and leaves nothing behind', async () => {
    const archive = await archiveOf({ 'manifest.json': '{}', 'logs/a/b/c.log': Buffer.alloc(64 * 1024) });
    let err: unknown;
    const left = await leftBehind(async () => {
      err = await unpackBundle(archive, { ...ARCHIVE_LIMITS, maxEntryBytes: 32 * 1024 }).catch(
        (e: unknown) => e,
      );
    });
    expect(err).toMatchObject({ code: 'HINDSIGHT_BUNDLE_ARCHIVE' });
    expect((err as Error).message).toMatch(/entry \.\/logs\/a\/b\/c\.log holds 65536 bytes/);
    expect((err as Error).message).toContain(archive);
    expect(left).toEqual([]);
  });

  it('refuses an archive that inflates past the total limit', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [`logs/a/b/c${i}.log`, 'y'.repeat(40_000)]),
    );
    const archive = await archiveOf(files);
    const err = await unpackBundle(archive, { ...ARCHIVE_LIMITS, maxBytes: 100_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'HINDSIGHT_BUNDLE_ARCHIVE' });
    expect((err as Error).message).toMatch(/inflates past/);
  });

  it('refuses by ratio a log entry of zeros, long before it is written out', async () => {
    // A tar entry of 2 GiB of zeros, gzipped as one member per 16 MiB: 2 MB that inflate about
    // 1,000 times. Past RATIO_CHECKED_AFTER it is refused; nothing is left behind.
    const archive = path.join(tmp, 'bomb.tar.gz');
    await writeFile(archive, gzipBomb(2 * 1024 ** 3));
    let err: unknown;
    const left = await leftBehind(async () => {
      err = await unpackBundle(archive).catch((e: unknown) => e);
    });
    expect(err).toMatchObject({ code: 'HINDSIGHT_BUNDLE_ARCHIVE' });
    expect((err as Error).message).toMatch(/inflated to more than \d+ \(over 200 times\)/);
    expect(left).toEqual([]);
  });

  it('reads nothing past the end of the archive (zeros there were buffered and copied at each write)', async () => {
    const good = await archiveOf({ 'manifest.json': '{}' });
    const padded = path.join(tmp, 'padded.tar.gz');
    const trailer = gzipSync(Buffer.alloc(RATIO_CHECKED_AFTER / 2), { level: 9 });
    await writeFile(padded, Buffer.concat([await readFile(good), trailer]));
    const dir = await unpackBundle(padded);
    expect(await readdir(dir)).toEqual(['manifest.json']);
    await rm(dir, { recursive: true, force: true });
  });
});
