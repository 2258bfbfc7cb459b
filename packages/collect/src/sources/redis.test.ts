import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type Series } from '@hindsight/core';
import { collect } from '../collect.js';
import { redisSource } from './redis.js';
import {
  shopServers,
  tempDir,
  filesContaining,
  httpServer,
  sendJson,
  type TestHttpServer,
} from '../test-support.js';

type RedisSet = Awaited<ReturnType<Awaited<ReturnType<typeof shopServers>>['startRedisReplicaSet']>>;
let redis: RedisSet;
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  const servers = await shopServers();
  redis = await servers.startRedisReplicaSet({ replicas: 1 });
  tmp = await tempDir('hs-collect-redis-');
  await redis.master.command('SET', 'session:1', 'x');
  await redis.master.command('SET', 'session:2', 'y');
  await redis.master.command('GET', 'session:1');
});
afterAll(async () => {
  await redis?.stop();
  await tmp?.cleanup();
});

async function seriesOf(dir: string): Promise<Series[]> {
  const b = await openBundle(dir);
  const out: Series[] = [];
  for await (const s of b.series()) out.push(s);
  return out;
}

describe('redis source against a real redis-server master and replica', () => {
  it('samples INFO, ROLE and commandstats from the master and the replica it lists', async () => {
    const out = `${tmp.dir}/once`;
    const now = Date.now();
    const r = await collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
      redis: [redis.masterUrl],
      sources: [redisSource],
    });
    expect(r.manifest.sources).toEqual([expect.objectContaining({ name: 'redis', status: 'ok' })]);
    expect(await validateBundle(out)).toEqual([]);
    const series = await seriesOf(out);
    const master = `127.0.0.1:${redis.master.port}`;
    const replica = `127.0.0.1:${(redis.replicas[0] as { port: number }).port}`;
    const clients = series.filter((s) => s.name === 'redis_connected_clients');
    expect(clients.map((s) => [s.labels['node'], s.labels['role']]).sort()).toEqual(
      [
        [master, 'master'],
        [replica, 'replica'],
      ].sort(),
    );
    for (const s of clients) expect(s.labels).toMatchObject({ source: 'redis', component: 'redis' });
    const keys = series.find((s) => s.name === 'redis_db_keys' && s.labels['node'] === master);
    expect(keys?.labels['db']).toBe('db0');
    expect(keys?.points[0]?.[1]).toBe(2);
    const sets = series.find(
      (s) => s.name === 'redis_cmdstat_calls' && s.labels['command'] === 'set' && s.labels['node'] === master,
    );
    expect(sets?.kind).toBe('counter');
    expect(sets?.points[0]?.[1]).toBeGreaterThanOrEqual(2);
    expect(series.find((s) => s.name === 'redis_total_commands_processed')?.kind).toBe('counter');
    expect(
      series.find((s) => s.name === 'redis_connected_slaves' && s.labels['node'] === master)?.points[0]?.[1],
    ).toBe(1);
    expect(
      series.find((s) => s.name === 'redis_master_link_up' && s.labels['node'] === replica)?.points[0]?.[1],
    ).toBe(1);
  });

  it('samples every interval while watching, and stops early (with what it had) when aborted', async () => {
    const out = `${tmp.dir}/watch`;
    const now = Date.now();
    const controller = new AbortController();
    let samples = 0;
    const r = await collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 120_000) },
      redis: [redis.masterUrl],
      watchMs: 60_000,
      intervalMs: 200,
      sources: [redisSource],
      signal: controller.signal,
      onProgress: (e) => {
        if (e.state === 'progress' && e.detail?.startsWith('sample')) samples += 1;
        if (samples >= 3) controller.abort();
      },
    });
    expect(r.interrupted).toBe(true);
    expect(r.manifest.sources[0]).toMatchObject({ name: 'redis', status: 'partial', error: 'interrupted' });
    expect(await validateBundle(out)).toEqual([]);
    const uptime = (await seriesOf(out)).filter((s) => s.name === 'redis_connected_clients');
    expect(uptime).toHaveLength(2);
    for (const s of uptime) expect(s.points.length).toBeGreaterThanOrEqual(3);
  });

  it('lets a replica leave during a watch without calling the source partial', async () => {
    // A rollout replaces a replica: the master stops listing it and its address stops answering.
    const servers = await shopServers();
    const set = await servers.startRedisReplicaSet({ replicas: 2 });
    try {
      const leaving = set.replicas[1] as { port: number };
      const out = `${tmp.dir}/leave`;
      const now = Date.now();
      let samples = 0;
      let shutdown: Promise<unknown> | undefined;
      const r = await collect({
        output: out,
        window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
        redis: [set.masterUrl],
        watchMs: 4000,
        intervalMs: 250,
        sources: [redisSource],
        onProgress: (e) => {
          if (e.state !== 'progress' || !e.detail?.startsWith('sample')) return;
          samples += 1;
          if (samples === 3) {
            const c = new Redis({
              port: leaving.port,
              host: '127.0.0.1',
              lazyConnect: true,
              retryStrategy: () => null,
            });
            c.on('error', () => undefined);
            shutdown = c
              .connect()
              .then(() => c.call('SHUTDOWN', 'NOSAVE').catch(() => undefined))
              .finally(() => c.disconnect());
          }
        },
      });
      await shutdown;
      expect(r.manifest.sources[0]).toMatchObject({ name: 'redis', status: 'ok' });
      expect(r.warnings).toEqual([]);
      const clients = (await seriesOf(out)).filter((s) => s.name === 'redis_connected_clients');
      const gone = clients.find((s) => s.labels['node'] === `127.0.0.1:${leaving.port}`);
      const stays = clients.find((s) => s.labels['node'] === `127.0.0.1:${set.master.port}`);
      expect(gone?.points.length).toBeGreaterThanOrEqual(2);
      expect(stays?.points.length).toBeGreaterThan(gone?.points.length ?? 0);
      const slaves = (await seriesOf(out)).find(
        (s) => s.name === 'redis_connected_slaves' && s.labels['node'] === `127.0.0.1:${set.master.port}`,
      );
      expect(slaves?.points.at(-1)?.[1]).toBe(1);
    } finally {
      await set.stop();
    }
  });

  it('records a node that is down as failed, and never writes a URL password', async () => {
    const out = `${tmp.dir}/down`;
    const servers = await shopServers();
    const port = await servers.freePort();
    const now = Date.now();
    const r = await collect({
      output: out,
      window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
      redis: [`redis://:hunter2secret@127.0.0.1:${port}`],
      sources: [redisSource],
      // Its four tries without the waits: refused each time.
      retry: { attempts: 4, baseMs: 5, maxDelayMs: 50, budgetMs: 2000 },
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'redis', status: 'failed' });
    expect(r.manifest.sources[0]?.error).toMatch(
      new RegExp(
        `^no Redis node answered: 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED 127\\.0\\.0\\.1:${port} \\(4 tries over \\d+\\.\\d s\\)$`,
      ),
    );
    expect(await validateBundle(out)).toEqual([]);
    expect(JSON.stringify(r.warnings)).not.toContain('hunter2secret');
    expect(await filesContaining(out, 'hunter2secret')).toEqual([]);
  });
});

/** A TCP forwarder to `port`, standing where a Service's address would: the node is not dialled directly. */
async function proxyTo(port: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface PodObject {
  metadata: { name: string; labels: Record<string, string> };
  spec: { containers: Array<{ ports?: Array<{ containerPort: number }> }> };
  status: { podIP?: string; podIPs?: Array<{ ip: string }>; phase?: string };
}

/**
 * Recorded pod objects (fixtures/kube-api/pods.json) moved to where this test's redis-servers
 * listen: `ports` maps a pod's name to its container port on 127.0.0.1.
 */
async function podsAt(ports: Record<string, number>): Promise<PodObject[]> {
  const file = new URL('../../fixtures/kube-api/pods.json', import.meta.url);
  const list = JSON.parse(await readFile(file, 'utf8')) as { items: PodObject[] };
  return list.items.map((p) => {
    const port = ports[p.metadata.name];
    if (port === undefined) return p;
    return {
      ...p,
      spec: {
        ...p.spec,
        containers: p.spec.containers.map((c) => ({ ...c, ports: [{ containerPort: port }] })),
      },
      status: { ...p.status, podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] },
    };
  });
}

/**
 * A Kubernetes API answering the shop namespace's pod list with `pods` (or an error), after
 * `unavailable` answers 503 as an API server that restarts does, and its kubeconfig.
 */
async function podApi(
  pods: () => PodObject[] | undefined,
  unavailable = 0,
): Promise<{ server: TestHttpServer; kubeconfig: string }> {
  let asked = 0;
  const server = await httpServer((url, _req, res) => {
    if (url.pathname !== '/api/v1/namespaces/shop/pods')
      return sendJson(res, 404, { kind: 'Status', code: 404, message: `not found (${url.pathname})` });
    if (++asked <= unavailable)
      return sendJson(res, 503, {
        kind: 'Status',
        code: 503,
        message: 'the server is currently unable to handle the request',
      });
    const items = pods();
    if (!items) return sendJson(res, 403, { kind: 'Status', code: 403, message: 'pods is forbidden' });
    return sendJson(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
  });
  const kubeconfig = `${tmp.dir}/kubeconfig-${server.url.replace(/\D/g, '')}`;
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: ${server.url}
    insecure-skip-tls-verify: true
contexts:
- name: c
  context: {cluster: c, user: u, namespace: shop}
current-context: c
users:
- name: u
  user: {token: t}
`,
  );
  return { server, kubeconfig };
}

describe('redis source naming the pod of each node (recorded pod objects over HTTP, real redis-servers)', () => {
  const replicaPort = (): number => (redis.replicas[0] as { port: number }).port;

  it('labels each node with its pod, the master reached through a Service-like forwarder', async () => {
    const service = await proxyTo(redis.master.port);
    const items = await podsAt({
      'shop-redis-master-0': redis.master.port,
      'shop-redis-replica-0': replicaPort(),
    });
    const listing = await podApi(() => items);
    const out = `${tmp.dir}/pods`;
    const now = Date.now();
    const controller = new AbortController();
    let samples = 0;
    try {
      const r = await collect({
        output: out,
        window: { from: new Date(now - 60_000), to: new Date(now + 120_000) },
        redis: [`redis://127.0.0.1:${service.port}`],
        kubeconfig: listing.kubeconfig,
        watchMs: 60_000,
        intervalMs: 200,
        sources: [redisSource],
        signal: controller.signal,
        onProgress: (e) => {
          if (e.state === 'progress' && e.detail?.startsWith('sample')) samples += 1;
          if (samples >= 3) controller.abort();
        },
      });
      expect(r.warnings).toEqual([]);
      expect(await validateBundle(out)).toEqual([]);
      const series = await seriesOf(out);
      const clients = series.filter((s) => s.name === 'redis_connected_clients');
      // Sorted both sides: the ports, and so the order, differ from run to run.
      expect(clients.map((s) => [s.labels['node'], s.labels['pod'], s.labels['role']]).sort()).toEqual(
        [
          [`127.0.0.1:${service.port}`, 'shop-redis-master-0', 'master'],
          [`127.0.0.1:${replicaPort()}`, 'shop-redis-replica-0', 'replica'],
        ].sort(),
      );
      // The pod's component label, as the kubernetes source attributes the pod itself.
      for (const s of clients) expect(s.labels['component']).toBe('redis');
      const online = series.find((s) => s.name === 'redis_replica_online');
      expect(online?.labels).toMatchObject({
        pod: 'shop-redis-master-0',
        replica: `127.0.0.1:${replicaPort()}`,
        replica_pod: 'shop-redis-replica-0',
      });
      // The same processes answered every round: the pods were listed once.
      expect(listing.server.requests.filter((u) => u.pathname.endsWith('/pods'))).toHaveLength(1);
    } finally {
      await Promise.all([service.close(), listing.server.close()]);
    }
  });

  it("names a replica's pod that the API listed only after the replica first answered", async () => {
    const items = await podsAt({
      'shop-redis-master-0': redis.master.port,
      'shop-redis-replica-0': replicaPort(),
    });
    // The first listing misses the replica's pod, as an API server does a moment after a rollout.
    let lists = 0;
    const listing = await podApi(() =>
      ++lists === 1 ? items.filter((p) => p.metadata.name !== 'shop-redis-replica-0') : items,
    );
    const out = `${tmp.dir}/late-pod`;
    const now = Date.now();
    const controller = new AbortController();
    let samples = 0;
    try {
      const r = await collect({
        output: out,
        window: { from: new Date(now - 60_000), to: new Date(now + 120_000) },
        redis: [`redis://127.0.0.1:${redis.master.port}`],
        kubeconfig: listing.kubeconfig,
        watchMs: 60_000,
        intervalMs: 200,
        sources: [redisSource],
        signal: controller.signal,
        onProgress: (e) => {
          if (e.state === 'progress' && e.detail?.startsWith('sample')) samples += 1;
          if (samples >= 3) controller.abort();
        },
      });
      expect(r.warnings).toEqual([]);
      const series = await seriesOf(out);
      expect(series.filter((s) => s.labels['pod'] === undefined).map((s) => s.name)).toEqual([]);
      const clients = series.filter((s) => s.name === 'redis_connected_clients');
      expect(clients.map((s) => s.labels['pod']).sort()).toEqual([
        'shop-redis-master-0',
        'shop-redis-replica-0',
      ]);
      const online = series.filter((s) => s.name === 'redis_replica_online');
      expect(online.map((s) => s.labels['replica_pod'])).toEqual(['shop-redis-replica-0']);
    } finally {
      await listing.server.close();
    }
  });

  it("names a replica's pod that the API listed only for a while: after its first answer, gone by the end", async () => {
    const items = await podsAt({
      'shop-redis-master-0': redis.master.port,
      'shop-redis-replica-0': replicaPort(),
    });
    // The replica's pod shows from 50 ms after the first listing to 3 s after it (a replica added
    // and scaled away again), while its process answers all along.
    let first: number | undefined;
    const listing = await podApi(() => {
      first ??= Date.now();
      const age = Date.now() - first;
      return age >= 50 && age < 3000
        ? items
        : items.filter((p) => p.metadata.name !== 'shop-redis-replica-0');
    });
    const out = `${tmp.dir}/passing-pod`;
    const now = Date.now();
    const controller = new AbortController();
    try {
      const r = await collect({
        output: out,
        window: { from: new Date(now - 60_000), to: new Date(now + 120_000) },
        redis: [`redis://127.0.0.1:${redis.master.port}`],
        kubeconfig: listing.kubeconfig,
        watchMs: 60_000,
        intervalMs: 200,
        sources: [redisSource],
        signal: controller.signal,
        onProgress: () => {
          if (first !== undefined && Date.now() - first > 3500) controller.abort();
        },
      });
      expect(r.warnings).toEqual([]);
      const series = await seriesOf(out);
      expect(series.filter((s) => s.labels['pod'] === undefined).map((s) => s.name)).toEqual([]);
      const clients = series.filter((s) => s.name === 'redis_connected_clients');
      expect([...new Set(clients.map((s) => s.labels['pod']))].sort()).toEqual([
        'shop-redis-master-0',
        'shop-redis-replica-0',
      ]);
    } finally {
      await listing.server.close();
    }
  });

  it('keeps host:port alone when no pod listens at a node, and warns when pods cannot be listed', async () => {
    const elsewhere = await podApi(() => [] as PodObject[]);
    const forbidden = await podApi(() => undefined);
    const now = Date.now();
    const window = { from: new Date(now - 60_000), to: new Date(now + 60_000) };
    try {
      for (const api of [elsewhere, forbidden]) {
        const out = `${tmp.dir}/no-pod-${api.server.url.replace(/\D/g, '')}`;
        const r = await collect({
          output: out,
          window,
          redis: [redis.masterUrl],
          kubeconfig: api.kubeconfig,
          sources: [redisSource],
        });
        expect(r.manifest.sources[0]).toMatchObject({ name: 'redis', status: 'ok' });
        const clients = (await seriesOf(out)).filter((s) => s.name === 'redis_connected_clients');
        expect(clients.map((s) => s.labels['node']).sort()).toEqual(
          [`127.0.0.1:${redis.master.port}`, `127.0.0.1:${replicaPort()}`].sort(),
        );
        for (const s of clients) expect(s.labels['pod']).toBeUndefined();
        expect(r.warnings.map((w) => w.message)).toEqual(
          api === forbidden ? [expect.stringMatching(/named by address.*HTTP 403: pods is forbidden/)] : [],
        );
      }
    } finally {
      await Promise.all([elsewhere.server.close(), forbidden.server.close()]);
    }
  });
  it('lists the pods again when the API server answers 503 first, and says it retried', async () => {
    const items = await podsAt({
      'shop-redis-master-0': redis.master.port,
      'shop-redis-replica-0': replicaPort(),
    });
    const listing = await podApi(() => items, 1);
    const now = Date.now();
    try {
      const r = await collect({
        output: `${tmp.dir}/pods-retry`,
        window: { from: new Date(now - 60_000), to: new Date(now + 60_000) },
        redis: [redis.masterUrl],
        kubeconfig: listing.kubeconfig,
        sources: [redisSource],
        retry: { attempts: 4, baseMs: 5, maxDelayMs: 50, budgetMs: 2000 },
      });
      expect(r.manifest.sources[0]).toMatchObject({ name: 'redis', status: 'ok' });
      expect(r.warnings).toEqual([]);
      expect(r.manifest.notes).toContain(
        `redis: 1 retry after transient failures (HTTP 503 x1) at ${listing.server.url}`,
      );
      const clients = (await seriesOf(`${tmp.dir}/pods-retry`)).filter(
        (s) => s.name === 'redis_connected_clients',
      );
      expect(clients.map((s) => s.labels['pod']).sort()).toEqual([
        'shop-redis-master-0',
        'shop-redis-replica-0',
      ]);
      expect(listing.server.requests.filter((u) => u.pathname.endsWith('/pods'))).toHaveLength(2);
    } finally {
      await listing.server.close();
    }
  });
});
