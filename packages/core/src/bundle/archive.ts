import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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
 * Unpacks a bundle archive into a new temporary folder and returns it. Entries that would land
 * outside the folder (absolute paths, `..`) are refused by node-tar; a truncated or corrupt archive
 * is a HINDSIGHT_BUNDLE_ARCHIVE error naming the file.
 */
export async function unpackBundle(archive: string): Promise<string> {
  await stat(archive).catch(() => {
    throw new HindsightError('HINDSIGHT_BUNDLE_MISSING', 'bundle archive not found', archive);
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hindsight-bundle-'));
  const problems: string[] = [];
  try {
    await tar.extract({
      file: archive,
      cwd: dir,
      strict: true,
      onwarn: (_code: string, message: string) => problems.push(message),
    });
  } catch (err) {
    await discard(dir);
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
