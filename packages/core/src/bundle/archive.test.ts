import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARCHIVE_LIMITS, RATIO_CHECKED_AFTER, packBundle, unpackBundle } from '../index.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-core-archive-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The hindsight-bundle-* folders in the temporary directory: an unpack that fails leaves none. */
async function unpacked(): Promise<string[]> {
  return (await readdir(os.tmpdir())).filter((n) => n.startsWith('hindsight-bundle-')).sort();
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
    const before = await unpacked();
    const err = await unpackBundle(archive, { ...ARCHIVE_LIMITS, maxEntryBytes: 32 * 1024 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'HINDSIGHT_BUNDLE_ARCHIVE' });
    expect((err as Error).message).toMatch(/entry \.\/logs\/a\/b\/c\.log holds 65536 bytes/);
    expect((err as Error).message).toContain(archive);
    expect(await unpacked()).toEqual(before);
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
    const before = await unpacked();
    const err = await unpackBundle(archive).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HINDSIGHT_BUNDLE_ARCHIVE' });
    expect((err as Error).message).toMatch(/inflated to more than \d+ \(over 200 times\)/);
    expect(await unpacked()).toEqual(before);
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

/** A .tar.gz of one entry of `size` zero bytes, as gzip members of 16 MiB each (a gzip bomb). */
function gzipBomb(size: number): Buffer {
  const block = 16 * 1024 * 1024;
  const header = new tar.Header({
    path: 'logs/a/b/c.log',
    size,
    type: 'File',
    mode: 0o644,
    mtime: new Date(0),
  });
  const head = Buffer.alloc(512);
  header.encode(head);
  const zeros = gzipSync(Buffer.alloc(block), { level: 9 });
  return Buffer.concat([gzipSync(head), ...Array.from({ length: Math.ceil(size / block) }, () => zeros)]);
}
