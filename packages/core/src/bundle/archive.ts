import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { HindsightError, errorMessage } from '../errors.js';

/** True when a path names a bundle archive rather than a folder. */
export function isArchivePath(p: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(p);
}

/** Packs a bundle folder into a .tar.gz whose entries are relative to the folder. */
export async function packBundle(dir: string, archive: string): Promise<void> {
  await tar.create({ gzip: true, file: archive, cwd: dir, portable: true }, ['.']);
}

/**
 * Removes a half-unpacked folder. tar may still be writing entries when it rejects, so removal can
 * meet a folder that fills again (ENOTEMPTY): retried, and never allowed to hide the archive's error.
 */
async function discard(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }).catch(() => undefined);
}

/**
 * How much an archive may unpack to. A gzip bomb (a few MB that inflate to gigabytes of zeros) is
 * refused while it streams: by its ratio once it has inflated past {@link RATIO_CHECKED_AFTER}
 * (bundles and support bundles inflate 9-15x: 612 KB to 8.3 MB for the example, 158 KB to 1.7 MB for
 * the support bundle sample; zeros inflate about 1,000x), by the total, and by any entry's size.
 */
export interface ArchiveLimits {
  /** Most bytes the whole archive may inflate to (default 16 GiB). */
  maxBytes: number;
  /** Most bytes one entry may hold (default 4 GiB). */
  maxEntryBytes: number;
  /** Most inflated bytes per compressed byte (default 200). */
  maxRatio: number;
}

/** The limits {@link unpackBundle} applies unless told otherwise (docs/bundle.md). */
export const ARCHIVE_LIMITS: Readonly<ArchiveLimits> = {
  maxBytes: 16 * 1024 ** 3,
  maxEntryBytes: 4 * 1024 ** 3,
  maxRatio: 200,
};

/** The ratio is judged only past this much output: small archives of repetitive text may exceed it. */
export const RATIO_CHECKED_AFTER = 64 * 1024 * 1024;

const MiB = 1024 * 1024;

/**
 * Unpacks a bundle archive into a new temporary folder and returns it. Entries that would land
 * outside the folder (absolute paths, `..`) are refused by node-tar; a truncated or corrupt archive,
 * or one past the {@link ArchiveLimits} (a gzip bomb), is a HINDSIGHT_BUNDLE_ARCHIVE error naming
 * the file, raised as soon as the limit is passed and with nothing left behind.
 */
export async function unpackBundle(
  archive: string,
  limits: Readonly<ArchiveLimits> = ARCHIVE_LIMITS,
): Promise<string> {
  await stat(archive).catch(() => {
    throw new HindsightError('HINDSIGHT_BUNDLE_MISSING', 'bundle archive not found', archive);
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hindsight-bundle-'));
  const problems: string[] = [];
  try {
    await extractWithin(archive, dir, limits, problems);
  } catch (err) {
    await discard(dir);
    if (err instanceof HindsightError) throw err;
    throw new HindsightError(
      'HINDSIGHT_BUNDLE_ARCHIVE',
      `cannot unpack bundle archive: ${errorMessage(err)}; re-copy it or re-run collect`,
      archive,
      { cause: err },
    );
  }
  if (problems.length > 0) {
    await discard(dir);
    throw new HindsightError(
      'HINDSIGHT_BUNDLE_ARCHIVE',
      `bundle archive is damaged: ${problems[0]}`,
      archive,
    );
  }
  return dir;
}

/** Streams file -> gunzip -> tar, counting bytes in and out, and stops at the first limit passed. */
function extractWithin(
  archive: string,
  dir: string,
  limits: Readonly<ArchiveLimits>,
  problems: string[],
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const input = createReadStream(archive);
    const gunzip = createGunzip();
    let compressed = 0;
    let inflated = 0;
    let done = false;
    const refuse = (why: string): HindsightError =>
      new HindsightError(
        'HINDSIGHT_BUNDLE_ARCHIVE',
        `bundle archive refused: ${why} (a gzip bomb?)`,
        archive,
      );
    const unpack = new tar.Unpack({
      cwd: dir,
      strict: true,
      onwarn: (_code: string, message: string) => problems.push(message),
      filter: (entryPath: string, entry: unknown) => {
        const size = (entry as { size?: number }).size ?? 0;
        if (size > limits.maxEntryBytes)
          fail(refuse(`entry ${entryPath} holds ${size} bytes, more than ${limits.maxEntryBytes / MiB} MiB`));
        return !done;
      },
    });
    const fail = (err: unknown): void => {
      if (done) return;
      done = true;
      reject(err);
      input.destroy();
      gunzip.destroy();
      try {
        unpack.abort(err instanceof Error ? err : new Error(String(err)));
      } catch {
        // already reported: the first error is the one the caller gets
      }
    };
    input.on('data', (chunk: string | Buffer) => {
      compressed += chunk.length;
    });
    gunzip.on('data', (chunk: Buffer) => {
      inflated += chunk.length;
      if (inflated > limits.maxBytes) return fail(refuse(`it inflates past ${limits.maxBytes / MiB} MiB`));
      if (inflated > RATIO_CHECKED_AFTER && inflated > limits.maxRatio * compressed)
        return fail(
          refuse(
            `${compressed} compressed bytes inflated to more than ${inflated} (over ${limits.maxRatio} times)`,
          ),
        );
      if (ended) return;
      if (!unpack.write(chunk)) {
        gunzip.pause();
        unpack.once('drain', () => gunzip.resume());
      }
    });
    // Past the archive's end (two zero blocks) node-tar buffers what follows, copying it at each
    // write: a stream of zeros there made unpacking quadratic. What follows the end is not read.
    let ended = false;
    unpack.on('eof', () => {
      if (ended) return;
      ended = true;
      input.destroy();
      gunzip.destroy();
      unpack.end();
    });
    gunzip.on('end', () => {
      if (!ended) unpack.end();
    });
    input.on('error', fail);
    gunzip.on('error', fail);
    unpack.on('error', fail);
    unpack.on('close', () => {
      if (done) return;
      done = true;
      resolve();
    });
    input.pipe(gunzip);
  });
}
