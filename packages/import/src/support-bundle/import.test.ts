import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRelease, openBundle, unpackBundle, validateBundle, type HelmRelease } from '@hindsight/core';
import { importSupportBundle } from '../index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const data = path.resolve(repo, '../shared/data/k8s-support-bundles');
const present = existsSync(data);
if (!present) console.warn(`skipping support-bundle imports: ${data} is absent`);

const temps: string[] = [];
async function temp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hs-import-sb-'));
  temps.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** The fields of listed Kubernetes objects these tests read. */
interface Item {
  metadata: { name: string; namespace: string; uid: string };
  status: { containerStatuses?: Array<{ lastState?: { terminated?: { finishedAt?: string } } }> };
}

/** What the support bundle holds, read straight from its unpacked files (not by the importer). */
async function expected(archive: string) {
  const dir = await unpackBundle(archive);
  temps.push(dir);
  const top = (await readdir(dir))[0] as string;
  const cr = path.join(dir, top, 'cluster-resources');
  const list = async (sub: string) => {
    const out: Item[] = [];
    for (const f of await readdir(path.join(cr, sub)).catch(() => [] as string[])) {
      if (f.endsWith('.json'))
        out.push(...((JSON.parse(await readFile(path.join(cr, sub, f), 'utf8')).items ?? []) as Item[]));
    }
    return out;
  };
  const pods = await list('pods');
  const uids = new Set<string>((await list('events')).map((e) => e.metadata.uid));
  for (const f of (await files(path.join(dir, top))).filter((f) => f.endsWith('-events.json')))
    for (const e of (JSON.parse(await readFile(f, 'utf8')) as { items?: Item[] }).items ?? [])
      uids.add(e.metadata.uid);
  const terminated = pods
    .flatMap((p) => p.status.containerStatuses ?? [])
    .filter((s) => s.lastState?.terminated?.finishedAt);
  const logs = new Map<string, number>();
  const logRoot = path.join(cr, 'pods', 'logs');
  for (const f of await files(logRoot)) {
    const [ns, pod, name] = path.relative(logRoot, f).split(path.sep) as [string, string, string];
    const bundlePath = `logs/${ns}/${pod}/${name.replace(/-previous\.log$/, '.previous.log')}`;
    const text = await readFile(f, 'utf8');
    logs.set(bundlePath, text.split('\n').filter((l) => l.trim().length > 0).length);
  }
  return {
    pods: pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort(),
    events: uids.size,
    terminated: terminated.length,
    logs,
  };
}

describe.skipIf(!present)('importSupportBundle on real troubleshoot bundles', () => {
  for (const name of ['support-bundle.tar.gz', 'baseline.tar.gz']) {
    it(`imports ${name} into a bundle that validates, with every pod, event and log line`, async () => {
      const archive = path.join(data, name);
      const out = path.join(await temp(), 'bundle');
      const result = await importSupportBundle(archive, out);
      expect(await validateBundle(out)).toEqual([]);

      const want = await expected(archive);
      const bundle = await openBundle(out);
      try {
        const pods = await bundle.pods();
        expect(pods.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(want.pods);
        const events = await bundle.events();
        expect(events.filter((e) => e.reason !== 'ContainerTerminated')).toHaveLength(want.events);
        expect(events.filter((e) => e.reason === 'ContainerTerminated')).toHaveLength(want.terminated);
        const got = new Map<string, number>();
        for (const ref of await bundle.logs()) {
          let n = 0;
          for await (const _ of bundle.readLog(ref)) n += 1;
          got.set(ref.file, n);
        }
        for (const [file, n] of want.logs) expect([file, got.get(file)]).toEqual([file, n]);
        expect(bundle.warnings).toEqual([]);
      } finally {
        await bundle.close();
      }
      expect(result.counts['pods']).toBe(want.pods.length);
    });
  }

  it('keeps previous-container logs, restarts and last terminations (2022 bundle)', async () => {
    const out = path.join(await temp(), 'bundle');
    const result = await importSupportBundle(path.join(data, 'support-bundle.tar.gz'), out);
    const bundle = await openBundle(out);
    try {
      const previous = (await bundle.logs()).filter((r) => r.previous);
      expect(previous).toHaveLength(8);
      const nginxPod = (await bundle.pods()).find((p) => p.name === 'nginx-deployment-7986654d4-ztx2g');
      expect(nginxPod?.component).toBe('nginx');
      expect(nginxPod?.workload).toBe('nginx-deployment');
      expect(nginxPod?.containers.find((c) => c.name === 'hello')).toMatchObject({
        restartCount: 25,
        lastTermination: { reason: 'Unknown', exitCode: 255, finishedAt: '2022-12-21T09:42:35Z' },
      });
      // hello.log has date(1) times in each line: its first line is at 09:42:42, not at a made-up time.
      const hello = (await bundle.logs()).find(
        (r) => r.pod === nginxPod?.name && r.container === 'hello' && !r.previous,
      );
      const first = await bundle.readLog(hello!).next();
      expect(first.value?.time).toBe(Date.UTC(2022, 11, 21, 9, 42, 42));
      // coredns writes no timestamps at all: every line is counted in a warning naming the file.
      const w = result.warnings.find((x) => x.where?.endsWith('coredns-b96499967-tncf4/coredns.log'));
      expect(w?.message).toMatch(/^967 of 967 lines carry no timestamp/);
      // The nginx Deployment's rollout (revision 1 -> 2) is a change.
      const changes = await bundle.changes();
      expect(changes.map((c) => [c.target, c.fromRevision, c.toRevision])).toEqual([
        ['deployment/nginx-deployment', 1, 2],
      ]);
      // Each Deployment's desired and ready replicas at collection, named as kube-state-metrics names them.
      const replicas: Array<[string, string | undefined, number | undefined]> = [];
      for await (const s of bundle.series())
        if (s.name.startsWith('kube_deployment_'))
          replicas.push([s.name, s.labels['deployment'], s.points.at(-1)?.[1]]);
      expect(replicas).toEqual(
        expect.arrayContaining([
          ['kube_deployment_spec_replicas', 'nginx-deployment', 1],
          ['kube_deployment_status_replicas_ready', 'nginx-deployment', 1],
        ]),
      );
    } finally {
      await bundle.close();
    }
  });
});

describe('importSupportBundle with Helm release records', () => {
  it('turns consecutive release revisions into a helm change with the values diff', async () => {
    const dir = await temp();
    const release = (version: number, replicas: number): HelmRelease => ({
      name: 'shop',
      namespace: 'prod',
      version,
      info: {
        status: version === 2 ? 'deployed' : 'superseded',
        last_deployed: `2026-01-01T10:0${version}:00Z`,
      },
      chart: { metadata: { name: 'shop', version: '1.0.0' } },
      config: { redis: { replica: { replicaCount: replicas } }, auth: { password: 'hunter2' } },
      manifest: '',
    });
    const secret = (r: HelmRelease) => ({
      metadata: { name: `sh.helm.release.v1.shop.v${r.version}`, namespace: 'prod' },
      // As the API returns a Secret: the stored field base64-encoded once more.
      data: { release: Buffer.from(encodeRelease(r)).toString('base64') },
    });
    await mkdir(path.join(dir, 'sb', 'cluster-resources', 'secrets'), { recursive: true });
    await writeFile(
      path.join(dir, 'sb', 'cluster-resources', 'secrets', 'prod.json'),
      JSON.stringify({ kind: 'SecretList', items: [secret(release(1, 2)), secret(release(2, 6))] }),
    );
    const out = path.join(dir, 'bundle');
    const result = await importSupportBundle(path.join(dir, 'sb'), out);
    expect(result.counts['helmReleases']).toBe(2);
    expect(await validateBundle(out)).toEqual([]);
    const bundle = await openBundle(out);
    const changes = await bundle.changes();
    await bundle.close();
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      kind: 'helm',
      release: 'shop',
      namespace: 'prod',
      fromRevision: 1,
      toRevision: 2,
      time: '2026-01-01T10:02:00.000Z',
      diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }],
    });
  });

  it('says a truncated support bundle archive may be re-downloaded, naming it', async () => {
    const dir = await temp();
    const archive = path.join(dir, 'support-bundle.tar.gz');
    const whole = await readFile(path.join(data, 'support-bundle.tar.gz')).catch(() => undefined);
    // Without the real bundle, any gzip stream cut short does: a truncated download looks the same.
    const bytes = whole ?? gzipSync(Buffer.alloc(1 << 20, 'x'));
    await writeFile(archive, bytes.subarray(0, Math.floor(bytes.length / 3)));
    const err = await importSupportBundle(archive, path.join(dir, 'out')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HINDSIGHT_BUNDLE_ARCHIVE' });
    expect((err as Error).message).toMatch(
      /^cannot unpack the support bundle, it may be truncated \(.+\); copy or download it again/,
    );
    expect((err as Error).message).toContain(archive);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('refuses a folder that is not a support bundle, naming it', async () => {
    const dir = await temp();
    await expect(importSupportBundle(dir, path.join(dir, 'out'))).rejects.toThrow(/no cluster-resources/);
  });
});
