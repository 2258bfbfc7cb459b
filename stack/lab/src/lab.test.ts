// The lab end to end with real processes: redis-server, postgres, nginx and shop pods rendered by
// the real helm, driven through the public Lab API, and read back through the lab's Kubernetes API
// by @kubernetes/client-node, kubectl and helm.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHelm, findKubectl } from './helm.js';
import { Lab, type LabStatus } from './lab.js';
import { pidAlive, waitFor } from './test-support.js';
import { decodeSecret, type ReleaseSecret } from './release-store.js';

const execFileP = promisify(execFile);

/** Resolves once a TCP connection to host:port opens (and closes it); rejects if it is refused. */
function accepts(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port }, () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => reject(new Error(`${host}:${port}: ${err.message}`)));
  });
}

async function connectedReplicas(status: LabStatus): Promise<number> {
  const master = status.services.find((s) => s.name === 'shop-redis-master')!;
  const redis = new Redis({
    host: '127.0.0.1',
    port: master.localPort,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  try {
    await redis.connect();
    const info = await redis.info('replication');
    return Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? -1);
  } finally {
    redis.disconnect();
  }
}

/**
 * Waits until the lab's Prometheus scrapes one target per pod (the shop's /metrics, an exporter
 * sidecar in every other pod) and every one is up; returns them. 60 s: Prometheus opens its TSDB
 * first, slow on a loaded machine.
 */
async function allTargetsUp(s: LabStatus): Promise<Array<{ pod: string; container: string }>> {
  type Target = { labels: Record<string, string>; health: string; lastError: string };
  let targets: Target[] = [];
  const pods = s.pods.map((p) => p.name).sort();
  await waitFor(
    async () => {
      const res = await fetch(`${s.prometheus?.url ?? ''}/api/v1/targets?state=active`);
      targets = ((await res.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
      const scraped = targets.map((t) => t.labels['pod']).sort();
      return JSON.stringify(scraped) === JSON.stringify(pods) && targets.every((t) => t.health === 'up');
    },
    `a target up for each of ${pods.join(', ')}`,
    60_000,
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}; targets: ${targets.map((t) => `${t.labels['pod']} ${t.health} ${t.lastError}`).join('; ')}`,
    );
  });
  return targets
    .map((t) => ({ pod: t.labels['pod']!, container: t.labels['container']! }))
    .sort((a, b) => (a.pod < b.pod ? -1 : 1));
}

describe('lab: up, upgrade, rollback and down with real processes', () => {
  let dir: string;
  let lab: Lab;
  const seenPids = new Set<number>();
  const remember = (s: LabStatus) => {
    for (const p of s.pods) for (const pid of p.pids) seenPids.add(pid);
    if (s.supervisorPid) seenPids.add(s.supervisorPid);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hindsight-lab-'));
    lab = new Lab({ dir, timeScale: 0.2, monitoring: true });
  });
  afterAll(async () => {
    await lab.down({ purge: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('starts every pod the chart renders, ready, as revision 1', { timeout: 180_000 }, async () => {
    const s = await lab.up();
    remember(s);
    expect(s.running).toBe(true);
    expect(s.revision).toBe(1);
    const names = s.pods.map((p) => p.name).sort();
    expect(names.filter((n) => n.startsWith('shop-redis-replica-'))).toEqual([
      'shop-redis-replica-0',
      'shop-redis-replica-1',
    ]);
    expect(names).toContain('shop-redis-master-0');
    expect(names).toContain('shop-postgresql-0');
    expect(names.filter((n) => /^shop-shop-[a-z0-9]{10}-[a-z0-9]{5}$/.test(n))).toHaveLength(2);
    expect(s.pods.every((p) => p.ready)).toBe(true);
    await waitFor(async () => (await connectedReplicas(s)) === 2, 'two replicas');
    const res = await fetch(`${s.nginxUrl}/products`);
    expect(res.status).toBe(200);
    // Its Prometheus scrapes what the chart's prometheus.io annotations name: the shops' /metrics and
    // the exporter sidecar (Debian's binaries) beside Redis, PostgreSQL and nginx, every one up.
    expect(s.prometheus).toMatchObject({ ready: true, discovery: 'annotations', scrapeIntervalSeconds: 2 });
    expect(s.prometheus?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const targets = await allTargetsUp(s);
    expect(targets.map((t) => t.container)).toEqual(
      targets.map((t) => (t.pod.startsWith('shop-shop-') ? 'shop' : 'metrics')),
    );
  });

  it('restarts a killed container, with its restart count, last state and previous log', async () => {
    const before = await lab.status();
    const pod = before.pods.find((p) => p.name === 'shop-redis-replica-1')!;
    process.kill(pod.pids[0]!, 'SIGKILL');
    await waitFor(async () => {
      const p = (await lab.status()).pods.find((x) => x.name === 'shop-redis-replica-1');
      return p?.restarts === 1 && p.ready;
    }, 'the replica to restart and be ready');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(join(dir, 'kubeconfig'));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const read = await core.readNamespacedPod({ name: 'shop-redis-replica-1', namespace: 'default' });
    const cs = read.status!.containerStatuses![0]!;
    expect(cs.restartCount).toBe(1);
    expect(cs.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
    expect(cs.state?.running).toBeDefined();
    const previous = await core.readNamespacedPodLog({
      name: 'shop-redis-replica-1',
      namespace: 'default',
      previous: true,
    });
    expect(previous).toMatch(/Ready to accept connections/);
    await waitFor(async () => (await connectedReplicas(before)) === 2, 'the replica to resync');
  });

  it(
    'scales the replicas 2 -> 4 -> 2, as the master INFO replication shows, and rolls back',
    { timeout: 180_000 },
    async () => {
      await lab.upgrade({ set: ['redis.replica.replicaCount=4'] });
      let s = await lab.status();
      remember(s);
      expect(s.revision).toBe(2);
      expect(s.pods.filter((p) => p.name.startsWith('shop-redis-replica-'))).toHaveLength(4);
      await waitFor(async () => (await connectedReplicas(s)) === 4, 'four replicas');

      await lab.upgrade({ set: ['redis.replica.replicaCount=2'] });
      s = await lab.status();
      expect(
        s.pods
          .filter((p) => p.name.startsWith('shop-redis-replica-'))
          .map((p) => p.name)
          .sort(),
      ).toEqual(['shop-redis-replica-0', 'shop-redis-replica-1']);
      await waitFor(async () => (await connectedReplicas(s)) === 2, 'two replicas again');

      const back = await lab.rollback(2);
      expect(back.version).toBe(4);
      s = await lab.status();
      remember(s);
      await waitFor(async () => (await connectedReplicas(s)) === 4, 'four replicas after rollback');
      // The scrape targets follow the pods through the rollouts.
      expect((await allTargetsUp(s)).filter((t) => t.pod.startsWith('shop-redis-replica-'))).toHaveLength(4);
      expect((await lab.history()).map((h) => [h.revision, h.status, h.description])).toEqual([
        [1, 'superseded', 'Install complete'],
        [2, 'superseded', 'Upgrade complete'],
        [3, 'superseded', 'Upgrade complete'],
        [4, 'deployed', 'Rollback to 2'],
      ]);
    },
  );

  it('stores release records that decode to the values of each revision', async () => {
    const files = (await readdir(join(dir, 'releases'))).sort();
    expect(files).toEqual([1, 2, 3, 4].map((v) => `sh.helm.release.v1.shop.v${v}.json`));
    const decoded = await Promise.all(
      files.map(async (f) =>
        decodeSecret(JSON.parse(await readFile(join(dir, 'releases', f), 'utf8')) as ReleaseSecret),
      ),
    );
    const counts = decoded.map(
      (r) => (r.config as { redis?: { replica?: { replicaCount?: number } } }).redis?.replica?.replicaCount,
    );
    expect(counts).toEqual([undefined, 4, 2, 4]);
    expect(decoded[1]!.manifest).toMatch(/name: shop-redis-replica\n[\s\S]*?replicas: 4/);
    expect(decoded[2]!.manifest).toMatch(/name: shop-redis-replica\n[\s\S]*?replicas: 2/);
    expect(decoded.every((r) => r.chart.metadata.name === 'shop' && typeof r.config?.shop === 'object')).toBe(
      true,
    );
  });

  it('answers @kubernetes/client-node: pods, logs, events and helm secrets', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(join(dir, 'kubeconfig'));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const pods = await core.listNamespacedPod({
      namespace: 'default',
      labelSelector: 'app.kubernetes.io/component=redis,hindsight.dev/role=replica',
    });
    expect(pods.items.map((p) => p.metadata?.name).sort()).toEqual(
      [0, 1, 2, 3].map((i) => `shop-redis-replica-${i}`),
    );
    expect(
      pods.items.every((p) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True'),
    ).toBe(true);
    // Where each pod listens, as a client reads it (hindsight naming an upstream address by its
    // pod): the pod's IP and each container port are the local port the lab gave that pod, and its
    // process accepts there.
    const status = await lab.status();
    const listed = await core.listNamespacedPod({ namespace: 'default' });
    let addresses = 0;
    for (const p of listed.items) {
      const local = Object.values(status.pods.find((x) => x.name === p.metadata?.name)?.ports ?? {});
      expect(p.status?.podIPs).toEqual([{ ip: p.status?.podIP }]);
      for (const port of (p.spec?.containers ?? []).flatMap((c) => c.ports ?? [])) {
        expect(local).toContain(port.containerPort);
        await accepts(p.status?.podIP ?? '', port.containerPort);
        addresses += 1;
      }
    }
    expect(addresses).toBeGreaterThanOrEqual(listed.items.length);
    const log = await core.readNamespacedPodLog({
      name: 'shop-redis-master-0',
      namespace: 'default',
      container: 'redis',
      timestamps: true,
    });
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z .*Synchronization with replica/m);
    const events = await core.listNamespacedEvent({ namespace: 'default' });
    const reasons = new Set(events.items.map((e) => e.reason));
    for (const r of ['Scheduled', 'Started', 'Killing', 'SuccessfulCreate', 'SuccessfulDelete'])
      expect(reasons).toContain(r);
    const secrets = await core.listNamespacedSecret({
      namespace: 'default',
      labelSelector: 'owner=helm,name=shop',
    });
    expect(secrets.items.map((s) => s.metadata?.labels?.status)).toEqual([
      'superseded',
      'superseded',
      'superseded',
      'deployed',
    ]);
  });

  it('answers the real kubectl and helm with the lab kubeconfig', async () => {
    const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') };
    const pods = await execFileP(findKubectl(), ['get', 'pods'], { env });
    // Redis and its exporter sidecar.
    expect(pods.stdout).toMatch(/shop-redis-replica-3\s+2\/2\s+Running/);
    const history = await execFileP(findHelm(), ['history', 'shop'], { env });
    expect(history.stdout).toMatch(/4\s+.*deployed\s+shop-0\.1\.0.*Rollback to 2/);
    const values = await execFileP(findHelm(), ['get', 'values', 'shop', '--revision', '3', '-o', 'json'], {
      env,
    });
    expect(
      (JSON.parse(values.stdout) as { redis: { replica: { replicaCount: number } } }).redis.replica
        .replicaCount,
    ).toBe(2);
  });

  it(
    'kills a container over its memory limit (OOMKilled) and marks a revision that never gets ready failed',
    { timeout: 120_000 },
    async () => {
      await expect(lab.upgrade({ set: ['redis.replica.memoryLimit=1Mi'] })).rejects.toThrow(
        /revision 5 failed: pods not ready/,
      );
      expect((await lab.history()).at(-1)).toMatchObject({ revision: 5, status: 'failed' });
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(join(dir, 'kubeconfig'));
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const pod = await core.readNamespacedPod({ name: 'shop-redis-replica-3', namespace: 'default' });
      const cs = pod.status!.containerStatuses![0]!;
      expect(cs.restartCount).toBeGreaterThan(0);
      expect(cs.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
      const events = await core.listNamespacedEvent({
        namespace: 'default',
        fieldSelector: 'involvedObject.name=shop-redis-replica-3',
      });
      expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['ContainerDied', 'BackOff']));
    },
  );

  it('stops every process it started on down, leaving no orphan', async () => {
    remember(await lab.status());
    expect(seenPids.size).toBeGreaterThan(8);
    const r = await lab.down();
    expect(r.stopped).toBe(true);
    expect([...seenPids].filter(pidAlive)).toEqual([]);
    const ps = await execFileP('ps', ['-eo', 'pid,args']);
    expect(ps.stdout.split('\n').filter((l) => l.includes(dir))).toEqual([]);
    expect((await lab.status()).running).toBe(false);
  });
});
