import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HindsightError,
  decodeRelease,
  encodeRelease,
  releaseRecordLabels,
  releaseRecordName,
  type HelmRelease,
} from '@hindsight/core';

/**
 * A release record as the Kubernetes API serves it: a Secret of type helm.sh/release.v1 whose
 * `release` key holds base64(gzip(JSON)), shown base64-encoded once more as any Secret data.
 */
export interface ReleaseSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  type: 'helm.sh/release.v1';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels: Record<string, string>;
  };
  data: { release: string };
}

/** One line of `lab history`, as `helm history` prints it. */
export interface HistoryEntry {
  revision: number;
  updated: string;
  status: string;
  chart: string;
  appVersion: string;
  description: string;
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/**
 * Helm 3's storage (the secrets driver), kept as files: one Secret per revision, named
 * sh.helm.release.v1.NAME.vREV, labelled owner=helm, name, status, version. Creating a revision
 * marks the one that was deployed `superseded`, as `helm upgrade` does.
 */
export class ReleaseStore {
  constructor(
    private readonly dir: string,
    private readonly namespace: string,
  ) {}

  private file(name: string, version: number): string {
    return join(this.dir, `${releaseRecordName(name, version)}.json`);
  }

  /** Every record, oldest revision first. */
  async secrets(): Promise<ReleaseSecret[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: ReleaseSecret[] = [];
    for (const n of names.filter((f) => f.endsWith('.json'))) {
      out.push(JSON.parse(await readFile(join(this.dir, n), 'utf8')) as ReleaseSecret);
    }
    return out.sort((a, b) => Number(a.metadata.labels.version) - Number(b.metadata.labels.version));
  }

  /** Every revision of release `name`, decoded, oldest first. */
  async history(name: string): Promise<HelmRelease[]> {
    return (await this.secrets()).filter((s) => s.metadata.labels.name === name).map((s) => decodeSecret(s));
  }

  /** Revision `version` of `name`, or undefined. */
  async get(name: string, version: number): Promise<HelmRelease | undefined> {
    return (await this.history(name)).find((r) => r.version === version);
  }

  /** The newest revision of `name`, whatever its status. */
  async latest(name: string): Promise<HelmRelease | undefined> {
    return (await this.history(name)).at(-1);
  }

  /** Stores a new revision (as Helm does, first `pending-*`; see {@link ReleaseStore.setStatus}). */
  async create(release: HelmRelease): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await this.put(release, true);
    if (release.info.status === 'deployed') await this.supersede(release);
  }

  /** Sets a revision's status; a revision becoming `deployed` makes the one deployed before `superseded`. */
  async setStatus(name: string, version: number, status: string): Promise<HelmRelease> {
    const r = await this.get(name, version);
    if (!r)
      throw new HindsightError(
        'HINDSIGHT_RELEASE_RECORD',
        'no such revision',
        releaseRecordName(name, version),
      );
    const next = { ...r, info: { ...r.info, status } };
    await this.update(next);
    if (status === 'deployed') await this.supersede(next);
    return next;
  }

  private async supersede(current: HelmRelease): Promise<void> {
    for (const prev of await this.history(current.name)) {
      if (prev.info.status === 'deployed' && prev.version !== current.version) {
        await this.update({ ...prev, info: { ...prev.info, status: 'superseded' } });
      }
    }
  }

  /** Rewrites a stored revision (its status after a reconcile, say). */
  async update(release: HelmRelease): Promise<void> {
    await this.put(release, false);
  }

  private async put(release: HelmRelease, creating: boolean): Promise<void> {
    const file = this.file(release.name, release.version);
    let previous: ReleaseSecret | undefined;
    if (!creating) {
      try {
        previous = JSON.parse(await readFile(file, 'utf8')) as ReleaseSecret;
      } catch {
        previous = undefined;
      }
    }
    const now = new Date();
    const labels: Record<string, string> = {
      ...releaseRecordLabels(release),
      // Helm 3's secrets driver also stamps these (pkg/storage/driver/secrets.go).
      createdAt: previous?.metadata.labels.createdAt ?? String(Math.floor(now.getTime() / 1000)),
      ...(previous ? { modifiedAt: String(Math.floor(now.getTime() / 1000)) } : {}),
    };
    const secret: ReleaseSecret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'helm.sh/release.v1',
      metadata: {
        name: releaseRecordName(release.name, release.version),
        namespace: this.namespace,
        uid: previous?.metadata.uid ?? randomUUID(),
        resourceVersion: String(now.getTime()),
        creationTimestamp: previous?.metadata.creationTimestamp ?? now.toISOString().replace(/\.\d+Z$/, 'Z'),
        labels,
      },
      data: { release: Buffer.from(encodeRelease(release)).toString('base64') },
    };
    await writeAtomic(file, `${JSON.stringify(secret, null, 2)}\n`);
  }
}

/** Decodes the release a record holds; a broken one is a HINDSIGHT_RELEASE_RECORD error naming it. */
export function decodeSecret(secret: ReleaseSecret): HelmRelease {
  if (typeof secret.data?.release !== 'string') {
    throw new HindsightError('HINDSIGHT_RELEASE_RECORD', 'record has no release key', secret.metadata?.name);
  }
  return decodeRelease(secret.data.release, secret.metadata.name);
}

/** A history line per revision, as `helm history` shows it. */
export function historyEntries(releases: readonly HelmRelease[]): HistoryEntry[] {
  return releases.map((r) => ({
    revision: r.version,
    updated: r.info.last_deployed ?? r.info.first_deployed ?? '',
    status: r.info.status,
    chart: `${r.chart.metadata.name}-${r.chart.metadata.version}`,
    appVersion: r.chart.metadata.appVersion ?? '',
    description: r.info.description ?? '',
  }));
}
