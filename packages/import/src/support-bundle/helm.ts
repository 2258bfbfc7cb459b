import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  HindsightError,
  decodeRelease,
  diffValues,
  errorMessage,
  type Change,
  type HelmRelease,
  type Warning,
} from '@hindsight/core';
import { listFiles, type Warn } from './files.js';
import { isObject, str, time } from './k8s.js';

const RELEASE_RECORD = /^sh\.helm\.release\.v1\.(.+)\.v(\d+)$/;
// JSON files bigger than this are not searched for Helm records (none of the kinds that hold them
// comes near it; the largest file of the two sample bundles is 100 KB).
const MAX_JSON_SCAN = 32 * 1024 * 1024;

type Records = Map<string, { data: string; where: string }>;

/** Helm release records (Secrets or ConfigMaps named sh.helm.release.v1.NAME.vREV) anywhere in JSON. */
function findReleaseRecords(value: unknown, where: string, out: Records): void {
  if (Array.isArray(value)) {
    for (const v of value) findReleaseRecords(v, where, out);
    return;
  }
  if (!isObject(value)) return;
  const meta = isObject(value['metadata']) ? value['metadata'] : undefined;
  const data = isObject(value['data']) ? value['data'] : undefined;
  const name = str(meta?.['name']);
  if (name && RELEASE_RECORD.test(name) && typeof data?.['release'] === 'string') {
    out.set(`${String(meta?.['namespace'] ?? '')}/${name}`, {
      data: data['release'],
      where: `${where} ${name}`,
    });
    return;
  }
  // troubleshoot's `secrets` collector: {namespace, name, key, value} (value only with includeValue).
  const bare = str(value['name']);
  if (bare && RELEASE_RECORD.test(bare) && value['key'] === 'release' && typeof value['value'] === 'string') {
    out.set(`${String(value['namespace'] ?? '')}/${bare}`, {
      data: value['value'],
      where: `${where} ${bare}`,
    });
    return;
  }
  for (const v of Object.values(value)) if (typeof v === 'object') findReleaseRecords(v, where, out);
}

/**
 * Finds and decodes every Helm release record in the JSON files of the support bundle. A record
 * that cannot be decoded (or that decompresses past core's cap) is a warning naming it.
 */
export async function readReleases(
  root: string,
  warn: Warn,
  warnings: Warning[],
): Promise<{ releases: HelmRelease[]; records: number }> {
  const records: Records = new Map();
  for (const f of await listFiles(root)) {
    if (!f.endsWith('.json') || f.includes(`${path.sep}logs${path.sep}`)) continue;
    const rel = path.relative(root, f);
    try {
      if ((await stat(f)).size > MAX_JSON_SCAN) continue;
      const text = await readFile(f, 'utf8');
      if (!text.includes('sh.helm.release.v1.')) continue;
      findReleaseRecords(JSON.parse(text), rel, records);
    } catch (err) {
      warn(rel, `not valid JSON, skipped: ${errorMessage(err)}`);
    }
  }
  const releases: HelmRelease[] = [];
  for (const r of records.values()) {
    try {
      releases.push(decodeRelease(r.data, r.where));
    } catch (err) {
      warnings.push({
        stage: 'import',
        name: r.where,
        code: err instanceof HindsightError ? err.code : 'HINDSIGHT_RELEASE_RECORD',
        message: errorMessage(err),
        where: r.where,
      });
    }
  }
  return { releases, records: records.size };
}

/** Each release revision after the first as a change, with the diff of the user-supplied values. */
export function helmChanges(releases: HelmRelease[]): Change[] {
  const groups = new Map<string, HelmRelease[]>();
  for (const r of releases) {
    const key = JSON.stringify([r.namespace, r.name]);
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const out: Change[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => a.version - b.version);
    for (let i = 1; i < group.length; i += 1) {
      const prev = group[i - 1]!;
      const cur = group[i]!;
      const t = time(cur.info.last_deployed ?? cur.info.first_deployed);
      if (Number.isNaN(t)) continue;
      const pc = prev.chart.metadata;
      const cc = cur.chart.metadata;
      const chartNote =
        pc.version !== cc.version ? `; chart ${pc.name}-${pc.version} -> ${cc.name}-${cc.version}` : '';
      out.push({
        id: `helm/${cur.namespace}/${cur.name}/${cur.version}`,
        time: new Date(t).toISOString(),
        kind: 'helm',
        target: `release/${cur.name}`,
        namespace: cur.namespace,
        release: cur.name,
        fromRevision: prev.version,
        toRevision: cur.version,
        message: `${cur.info.description ?? 'upgrade'}${chartNote}`,
        diff: diffValues(prev.config ?? {}, cur.config ?? {}),
      });
    }
  }
  return out;
}
