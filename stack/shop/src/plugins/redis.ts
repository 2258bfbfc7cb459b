import { Redis } from 'ioredis';
import { definePlugin } from '../define-plugin.js';

/** One Redis connection and the node name used in logs and metrics (`host:port`). */
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
  const nodes: RedisNodes = {
    master: make(redis.masterUrl, 'master'),
    replicas: redis.replicaUrls.map((u) => make(u, 'replica')),
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
  app.addHook('onClose', async () => {
    for (const n of [nodes.master, ...nodes.replicas]) n.client.disconnect();
  });
});
