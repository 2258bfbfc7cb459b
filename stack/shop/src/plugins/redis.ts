import { Redis } from 'ioredis';
import { definePlugin } from '../define-plugin.js';

/**
 * One Redis connection and the node name used in logs and metrics (`host:port`). A replica
 * connection may be replaced by a fresh one (see REDIS_REPLICA_MAX_CONN_AGE_SECONDS): read `client`
 * at each use, never keep it.
 */
export interface RedisNodeClient {
  role: 'master' | 'replica';
  node: string;
  client: Redis;
}

/** The master and the replicas the shop reads sessions from. */
export interface RedisNodes {
  master: RedisNodeClient;
  replicas: RedisNodeClient[];
}

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisNodes;
  }
}

function nodeName(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '6379'}`;
}

/**
 * Connects to the master and the replicas. ioredis by default queues commands while disconnected
 * and retries them up to 20 times, so a request waits for a dead Redis instead of failing: here
 * the offline queue is off, a command is retried at most once, and every command times out.
 */
export const redisPlugin = definePlugin('shop-redis', ['shop-config'], async (app) => {
  const { redis } = app.config;
  const make = (url: string, role: 'master' | 'replica'): RedisNodeClient => {
    const node = nodeName(url);
    const client = new Redis(url, {
      password: redis.password === '' ? undefined : redis.password,
      commandTimeout: redis.commandTimeoutMs,
      connectTimeout: Math.max(1000, redis.commandTimeoutMs * 4),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 100, 2000),
      connectionName: `shop:${app.config.podName}`,
      lazyConnect: true,
    });
    let lastErrorLog = 0;
    client.on('error', (err: Error) => {
      // Reconnect attempts repeat the same error every retry; one line per 5 s per node is enough.
      if (Date.now() - lastErrorLog > 5000) {
        lastErrorLog = Date.now();
        app.log.error(
          { event: 'redis_error', store: 'redis', role, node, err: err.message },
          'redis connection error',
        );
      }
    });
    return { role, node, client };
  };
  // Several connections per replica URL: behind a Kubernetes Service each lands on one ready replica
  // and stays there (kube-proxy balances connections, not commands), so a pool spreads reads.
  const nodes: RedisNodes = {
    master: make(redis.masterUrl, 'master'),
    replicas: redis.replicaUrls.flatMap((u) =>
      Array.from({ length: redis.replicaPoolSize }, () => make(u, 'replica')),
    ),
  };
  // A node that is down at boot does not stop the app: /readyz reports it and ioredis reconnects.
  await Promise.all(
    [nodes.master, ...nodes.replicas].map(async (n) => {
      try {
        await n.client.connect();
      } catch (err) {
        app.log.error(
          { event: 'redis_error', store: 'redis', role: n.role, node: n.node, err: (err as Error).message },
          'redis connect failed',
        );
      }
    }),
  );
  app.decorate('redis', nodes);

  // Connections to replicas are replaced when they reach their maximum age, one at a time, so that
  // replicas added later get their share of reads. It is also how a replica that is ready but not yet
  // synced starts serving reads: the chart's readiness probe (master_link_status:up) is what keeps it out.
  let recycle: NodeJS.Timeout | undefined;
  if (redis.replicaMaxConnAgeSeconds > 0 && nodes.replicas.length > 0) {
    const ageMs = redis.replicaMaxConnAgeSeconds * 1000;
    const stepMs = Math.max(250, Math.floor(ageMs / nodes.replicas.length));
    let i = 0;
    recycle = setInterval(() => {
      const slot = nodes.replicas[i++ % nodes.replicas.length]!;
      const url = redis.replicaUrls[Math.floor(nodes.replicas.indexOf(slot) / redis.replicaPoolSize)]!;
      const fresh = make(url, 'replica');
      void fresh.client.connect().then(
        () => {
          const old = slot.client;
          slot.client = fresh.client;
          old.quit().catch(() => old.disconnect());
        },
        () => fresh.client.disconnect(),
      );
    }, stepMs);
    recycle.unref();
  }
  app.addHook('onClose', async () => {
    if (recycle) clearInterval(recycle);
    for (const n of [nodes.master, ...nodes.replicas]) n.client.disconnect();
  });
});
