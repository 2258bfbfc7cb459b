import { Redis } from 'ioredis';
import { errorMessage, redactText, type BundleWriter } from '@hindsight/core';
import { z } from 'zod';
import { apiError, loadKube, type Kube } from '../kube.js';
import { RetryTally, connectWithRetries, type RetryOptions } from '../retry.js';
import { withKubeRetries } from './kubernetes-retry.js';
import { mapLimit } from '../limit.js';
import { sampleOverTime } from '../sampler.js';
import { SeriesSet } from '../series-set.js';
import type { Source, SourceContext, SourceResult } from '../source.js';
import { PodNames, type PodRef } from './redis-pods.js';

/** INFO fields that only grow (counters); every other numeric field is a gauge. */
const COUNTER_FIELDS = new Set([
  'total_connections_received',
  'total_commands_processed',
  'total_net_input_bytes',
  'total_net_output_bytes',
  'total_net_repl_input_bytes',
  'total_net_repl_output_bytes',
  'rejected_connections',
  'sync_full',
  'sync_partial_ok',
  'sync_partial_err',
  'expired_keys',
  'expired_stale_perc',
  'evicted_keys',
  'evicted_clients',
  'keyspace_hits',
  'keyspace_misses',
  'total_error_replies',
  'total_reads_processed',
  'total_writes_processed',
  'io_threaded_reads_processed',
  'io_threaded_writes_processed',
  'total_forks',
  'total_eviction_exceeded_time',
  'master_repl_offset',
  'slave_repl_offset',
  'second_repl_offset',
  'rdb_changes_since_last_save',
  'aof_rewrites',
  'rdb_saves',
  'dump_payload_sanitizations',
  'unexpected_error_replies',
  'client_query_buffer_limit_disconnections',
  'client_output_buffer_limit_disconnections',
  'reply_buffer_shrinks',
  'reply_buffer_expands',
  'total_blocking_keys',
  'acl_access_denied_auth',
  'acl_access_denied_cmd',
  'acl_access_denied_key',
  'acl_access_denied_channel',
  'uptime_in_seconds',
]);

/** One INFO reply, by section, as key -> raw value. */
export type RedisInfo = Map<string, Map<string, string>>;

/** Parses an INFO reply (`# Section` headers, `key:value` lines). */
export function parseInfo(text: string): RedisInfo {
  const out: RedisInfo = new Map();
  let section = new Map<string, string>();
  out.set('', section);
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#')) {
      section = new Map();
      out.set(line.slice(1).trim().toLowerCase(), section);
    } else if (line.length > 0) {
      const i = line.indexOf(':');
      if (i > 0) section.set(line.slice(0, i), line.slice(i + 1));
    }
  }
  return out;
}

/** Parses `a=1,b=x` (INFO's nested values: slaveN, dbN, cmdstat_*). */
function parsePairs(v: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of v.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

interface NodeRef {
  host: string;
  port: number;
  /** The URL with credentials, used to connect; never written. */
  url: string;
}

function nodeFromUrl(url: string): NodeRef {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), url };
}

function sibling(of: NodeRef, host: string, port: number): NodeRef {
  const u = new URL(of.url);
  u.hostname = host;
  u.port = String(port);
  return { host, port, url: u.toString() };
}

/** One node's replies in one round, kept until the round knows which pods the nodes are. */
interface NodeSample {
  /** host:port as reached (from a URL given, or as a master lists its replica). */
  node: string;
  info: RedisInfo;
  role: string;
  latency: unknown[];
  /** host:port the node itself saw our connection arrive at (CLIENT INFO's laddr): behind a
   * Service or a proxy, the pod's own address rather than the one dialled. */
  local?: string;
}

/** The `ip:port` a connection arrived at, from CLIENT INFO (Redis 6.2+); undefined before that. */
async function localAddress(c: Redis): Promise<string | undefined> {
  try {
    const reply = String(await c.call('CLIENT', 'INFO'));
    return /(?:^|\s)laddr=(\S+)/.exec(reply)?.[1];
  } catch {
    return undefined;
  }
}

/** Adds the series of one node's INFO, ROLE and LATENCY LATEST at `time`. */
function record(
  set: SeriesSet,
  sample: NodeSample,
  podAt: (address: string) => PodRef | undefined,
  time: number,
): void {
  const { info, role, latency } = sample;
  const pod = (sample.local !== undefined ? podAt(sample.local) : undefined) ?? podAt(sample.node);
  const labels = {
    source: 'redis',
    component: pod?.component ?? 'redis',
    node: sample.node,
    ...(pod ? { pod: pod.name } : {}),
    role,
  };
  for (const [section, fields] of info) {
    for (const [key, value] of fields) {
      if (section === 'commandstats' && key.startsWith('cmdstat_')) {
        const p = parsePairs(value);
        const command = key.slice('cmdstat_'.length);
        set.add('redis_cmdstat_calls', { ...labels, command }, 'counter', time, Number(p['calls']));
        set.add('redis_cmdstat_usec', { ...labels, command }, 'counter', time, Number(p['usec']), 'us');
        if (p['failed_calls'] !== undefined)
          set.add(
            'redis_cmdstat_failed_calls',
            { ...labels, command },
            'counter',
            time,
            Number(p['failed_calls']),
          );
        continue;
      }
      if (section === 'keyspace' && /^db\d+$/.test(key)) {
        const p = parsePairs(value);
        set.add('redis_db_keys', { ...labels, db: key }, 'gauge', time, Number(p['keys']));
        set.add('redis_db_expires', { ...labels, db: key }, 'gauge', time, Number(p['expires']));
        continue;
      }
      if (section === 'replication' && /^slave\d+$/.test(key)) {
        const p = parsePairs(value);
        const replica = `${p['ip']}:${p['port']}`;
        const replicaPod = podAt(replica);
        const r = { ...labels, replica, ...(replicaPod ? { replica_pod: replicaPod.name } : {}) };
        set.add('redis_replica_lag_seconds', r, 'gauge', time, Number(p['lag']), 's');
        set.add('redis_replica_offset', r, 'counter', time, Number(p['offset']));
        set.add('redis_replica_online', r, 'gauge', time, p['state'] === 'online' ? 1 : 0);
        continue;
      }
      if (key === 'master_link_status') {
        set.add('redis_master_link_up', labels, 'gauge', time, value === 'up' ? 1 : 0);
        continue;
      }
      if (value === '' || !/^-?\d+(\.\d+)?$/.test(value)) continue;
      set.add(`redis_${key}`, labels, COUNTER_FIELDS.has(key) ? 'counter' : 'gauge', time, Number(value));
    }
  }
  // LATENCY LATEST: [event, time of latest spike, latest ms, all-time max ms] per event.
  for (const row of latency) {
    if (!Array.isArray(row) || row.length < 4) continue;
    const event = String(row[0]);
    set.add('redis_latency_latest_ms', { ...labels, event }, 'gauge', time, Number(row[2]), 'ms');
    set.add('redis_latency_max_ms', { ...labels, event }, 'gauge', time, Number(row[3]), 'ms');
  }
}

/**
 * Pod names from the cluster's pods when a kubeconfig is given; none for Redis outside Kubernetes.
 * The list is tried again after a connection error, 429 or 5xx ({@link withKubeRetries}); `server`
 * is set to the API server's URL once it is known.
 */
function podNames(
  ctx: SourceContext<RedisSettings>,
  retry: RetryOptions,
  server: (url: string) => void,
): PodNames | undefined {
  if (!ctx.options.kubeconfig) return undefined;
  let kube: Promise<Kube> | undefined;
  return new PodNames(async () => {
    kube ??= loadKube(ctx.options).then((k) => withKubeRetries(k, retry));
    const { core, namespace, server: url } = await kube;
    server(url);
    try {
      return (await core.listNamespacedPod({ namespace })).items;
    } catch (err) {
      throw new Error(`cannot list pods in ${namespace} at ${url}: ${apiError(err)}`, { cause: err });
    }
  });
}

const redisSettingsSchema = z.object({ redis: z.array(z.string()).optional() });
/** The redis source's settings: `--redis`, the nodes to sample (a master's replicas are found from it). */
export type RedisSettings = z.infer<typeof redisSettingsSchema>;

/**
 * Samples INFO (every section), ROLE and LATENCY LATEST from each Redis URL given and from the
 * replicas a master lists, once or every --interval during --watch. Series are `redis_<field>`
 * with labels {source, component, node: host:port, role}, and `pod` when a kubeconfig is given and
 * a pod listens at the node's address (its component then comes from the pod's component label).
 */
export const redisSource: Source<RedisSettings> = {
  name: 'redis',
  flags: [
    {
      flags: '--redis <url>',
      description: 'a Redis node (repeatable); the replicas a master lists are read too',
      repeatable: true,
    },
  ],
  schema: redisSettingsSchema,
  needs: ['redis'],
  async collect(writer: BundleWriter, sourceCtx: SourceContext<RedisSettings>): Promise<SourceResult> {
    // The pod listing's retries are noted at the API server, the nodes' connections' at the nodes.
    const [retries, listCtx] = RetryTally.of(sourceCtx);
    const [connects, ctx] = RetryTally.of(listCtx);
    const nodes = new Map<string, NodeRef>();
    for (const url of ctx.options.redis ?? []) {
      const n = nodeFromUrl(url);
      nodes.set(`${n.host}:${n.port}`, n);
    }
    const given = new Set(nodes.keys());
    // Replicas the masters list in the current round: one found through a master that is neither
    // listed nor answering any more left (a replica rolled to a new address, or scaled away).
    let listed = new Set<string>();
    const left = new Set<string>();
    const clients = new Map<string, Redis>();
    // A failed connect() says only "Connection is closed."; the client's last error says why.
    const lastError = new Map<string, unknown>();
    const client = (n: NodeRef): Redis => {
      const key = `${n.host}:${n.port}`;
      let c = clients.get(key);
      if (!c) {
        c = new Redis(n.url, {
          lazyConnect: true,
          connectTimeout: 2000,
          commandTimeout: 3000,
          maxRetriesPerRequest: 0,
          enableOfflineQueue: true,
          retryStrategy: () => null,
        });
        c.on('error', (err: unknown) => lastError.set(key, err)); // a failed command says why itself
        clients.set(key, c);
      }
      return c;
    };
    const set = new SeriesSet();
    const failures = new Map<string, string>();
    const reached = new Set<string>();
    let server = '';
    let pods = podNames(ctx, retries.options(), (url) => (server = url));
    let round: NodeSample[] = [];
    const sampleNode = async (n: NodeRef): Promise<void> => {
      const key = `${n.host}:${n.port}`;
      const c = client(n);
      const connect = async (): Promise<void> => {
        lastError.delete(key);
        await c.connect().catch((err: unknown) => {
          throw lastError.get(key) ?? err;
        });
      };
      try {
        // A node's first connection is tried again while it is refused, reset or timed out (a Redis
        // that restarts); one reached or given up on before is tried once a round (a watch's next
        // round tries it again), so that a node that is down does not hold up every round.
        if (c.status === 'wait' || c.status === 'end') {
          if (reached.has(key) || failures.has(key)) await connect();
          else await connectWithRetries(`redis://${key}`, connect, connects.options());
        }
        const [infoText, role, latency, local] = await Promise.all([
          c.info('all') as Promise<string>,
          c.call('ROLE') as Promise<unknown[]>,
          (c.call('LATENCY', 'LATEST') as Promise<unknown[]>).catch(() => [] as unknown[]),
          localAddress(c),
        ]);
        const info = parseInfo(infoText);
        const roleName = String(role[0] ?? info.get('replication')?.get('role') ?? 'unknown');
        const r = roleName === 'slave' ? 'replica' : roleName;
        round.push({ node: key, info, role: r, latency, ...(local ? { local } : {}) });
        reached.add(key);
        failures.delete(key);
        // A master lists its connected replicas: read them too, with the same credentials.
        for (const [k, v] of info.get('replication') ?? []) {
          if (!/^slave\d+$/.test(k)) continue;
          const p = parsePairs(v);
          if (!p['ip'] || !p['port']) continue;
          const id = `${p['ip']}:${p['port']}`;
          listed.add(id);
          left.delete(id);
          if (!nodes.has(id)) nodes.set(id, sibling(n, p['ip'], Number(p['port'])));
        }
      } catch (err) {
        failures.set(key, redactText(errorMessage(err)));
        c.disconnect();
      }
    };
    try {
      const result = await sampleOverTime(ctx, async (time) => {
        // Nodes found in this round are sampled in the same round, so one-shot runs see replicas.
        const seen = new Set<string>();
        round = [];
        listed = new Set();
        for (;;) {
          const todo = [...nodes.entries()].filter(([k]) => !seen.has(k));
          if (todo.length === 0) break;
          for (const [k] of todo) seen.add(k);
          await mapLimit(todo, ctx.options.fetchConcurrency ?? 4, ([, n]) => sampleNode(n));
        }
        try {
          await pods?.refresh(
            round.map((r) => ({
              run: `${r.node} ${r.info.get('server')?.get('run_id') ?? ''}`,
              at: r.local !== undefined ? [r.local, r.node] : [r.node],
            })),
          );
        } catch (err) {
          ctx.warn({
            code: 'HINDSIGHT_SOURCE_FAILED',
            message: `Redis nodes are named by address, not by pod: ${apiError(err)}`,
            ...(ctx.options.kubeconfig ? { where: ctx.options.kubeconfig } : {}),
          });
          pods = undefined;
        }
        // A replica that left is not a node we failed to read: stop asking it (a master lists it
        // again if it comes back). The master's own series say that it left.
        for (const k of [...failures.keys()]) {
          if (given.has(k) || listed.has(k)) continue;
          failures.delete(k);
          nodes.delete(k);
          left.add(k);
        }
        const podAt = (address: string): PodRef | undefined => pods?.at(address);
        for (const sample of round) record(set, sample, podAt, time);
        ctx.progress(set.size, `${reached.size} nodes${left.size > 0 ? `, ${left.size} left` : ''}`);
        if (reached.size === 0) throw new Error([...failures.values()][0] ?? 'no node reached');
      });
      if (result.ok === 0) {
        throw new Error(
          `no Redis node answered: ${[...failures.entries()].map(([k, v]) => `${k}: ${v}`).join('; ')}`,
        );
      }
      for (const [k, v] of failures) {
        ctx.warn({
          code: 'HINDSIGHT_SOURCE_FAILED',
          message: `Redis node ${k} did not answer: ${v}`,
          where: `redis://${k}`,
        });
      }
      await pods?.nameLate(set).catch((err: unknown) =>
        ctx.warn({
          code: 'HINDSIGHT_SOURCE_FAILED',
          message: `Redis nodes sampled before their pod was listed stay named by address: ${apiError(err)}`,
          ...(ctx.options.kubeconfig ? { where: ctx.options.kubeconfig } : {}),
        }),
      );
      const items = await set.writeTo(writer);
      return failures.size > 0
        ? { status: 'partial', items, detail: `unreachable: ${[...failures.keys()].join(', ')}` }
        : { status: 'ok', items };
    } finally {
      retries.note(writer, 'redis', server);
      connects.note(writer, 'redis');
      for (const c of clients.values()) c.disconnect();
    }
  },
};
