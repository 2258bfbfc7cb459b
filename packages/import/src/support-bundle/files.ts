import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { HindsightError, errorMessage } from '@hindsight/core';
import { items } from './k8s.js';

/** Reports a problem with a file of the support bundle (relative path), and the import goes on. */
export type Warn = (file: string, message: string) => void;

// A JSON file of the support bundle is read whole: past this size it is skipped with a warning
// rather than read into memory (the largest of the sample bundles is 100 KB; a cluster of 10,000
// pods lists them in about 50 MB).
const MAX_JSON_BYTES = 256 * 1024 * 1024;

/** The regular files under `dir`, sorted; links and folders are left out (never followed). */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** Finds the folder that holds `cluster-resources/` (the top folder's name differs by version). */
export async function findRoot(dir: string): Promise<string> {
  const here = await readdir(dir).catch(() => [] as string[]);
  if (here.includes('cluster-resources')) return dir;
  for (const name of here) {
    const sub = path.join(dir, name);
    const info = await stat(sub).catch(() => undefined);
    if (info?.isDirectory() && (await readdir(sub).catch(() => [] as string[])).includes('cluster-resources'))
      return sub;
  }
  throw new HindsightError(
    'HINDSIGHT_IMPORT',
    'not a troubleshoot support bundle: no cluster-resources/ folder',
    dir,
  );
}

/**
 * Reads a JSON file, or reports why not (too large, unreadable, not JSON) with `warn` and gives
 * undefined: one bad file never stops an import.
 */
export async function readJsonFile(file: string, rel: string, warn: Warn): Promise<unknown> {
  try {
    const info = await stat(file);
    if (info.size > MAX_JSON_BYTES) {
      warn(
        rel,
        `${info.size} bytes, more than the ${MAX_JSON_BYTES / 1024 / 1024} MiB read of a JSON file; skipped`,
      );
      return undefined;
    }
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (err) {
    warn(rel, `not valid JSON, skipped: ${errorMessage(err)}`);
    return undefined;
  }
}

/** The objects listed in every `<sub>/*.json` of cluster-resources, each with its file and index. */
export async function jsonList<T>(
  root: string,
  sub: string,
  warn: Warn,
): Promise<Array<{ item: T; file: string; index: number }>> {
  const dir = path.join(root, 'cluster-resources', sub);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
  const all: Array<{ item: T; file: string; index: number }> = [];
  for (const n of names) {
    const file = path.join(dir, n);
    const rel = path.relative(root, file);
    for (const { item, index } of items<T>(await readJsonFile(file, rel, warn)))
      all.push({ item, file: rel, index });
  }
  return all;
}
