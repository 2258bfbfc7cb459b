import { counterIncrease, gaugeAt, shiftCheck, sumSeries } from '../checks.js';
import type { PreparedSeries } from '../data.js';
import type { Analyzer, Finding } from '../types.js';

// Redis commands that write: their rate is the write load the master replicates to every replica.
const WRITES = new Set([
  'set',
  'setex',
  'psetex',
  'setnx',
  'getset',
  'getdel',
  'getex',
  'mset',
  'del',
  'unlink',
  'expire',
  'pexpire',
  'expireat',
  'incr',
  'incrby',
  'decr',
  'hset',
  'hmset',
  'hdel',
  'lpush',
  'rpush',
  'sadd',
  'srem',
  'zadd',
  'zrem',
  'xadd',
  'append',
  'multi',
  'exec',
]);

/**
 * Redis health from INFO sampled over time (series named `redis_<INFO field>`): replicas
 * connected, full resyncs, link down, write load, evictions, expirations, rejected connections.
 */
export const redisChecks: Analyzer = {
  name: 'redis',
  needs: ['series'],
  async analyze(_bundle, ctx) {
    const all = (await ctx.data.series()).filter((s) => s.name.startsWith('redis_'));
    const out: Finding[] = [];
    const spec = (what: string, strength: number, userFacing = false) => ({
      analyzer: 'redis',
      what,
      strength,
      userFacing,
    });
    const writesByPod = new Map<string, PreparedSeries[]>();
    for (const s of all) {
      switch (s.name) {
        case 'redis_connected_slaves':
        case 'redis_connected_replicas':
          out.push(
            ...shiftCheck(ctx, s, spec('redis: connected replicas', 0.8), { minZ: 3, minRelative: 0.1 }),
          );
          break;
        case 'redis_sync_full':
          out.push(...counterIncrease(ctx, s, spec('redis: full resyncs', 0.6)));
          break;
        case 'redis_sync_partial_err':
          out.push(...counterIncrease(ctx, s, spec('redis: partial resyncs refused', 0.6)));
          break;
        case 'redis_master_link_status':
        case 'redis_master_link_up':
          out.push(...gaugeAt(ctx, s, spec('redis: replication link down', 0.8), (v) => v === 0));
          break;
        case 'redis_replica_online':
          out.push(
            ...gaugeAt(
              ctx,
              s,
              spec(`redis: replica ${s.labels['replica'] ?? ''} offline`, 0.7),
              (v) => v === 0,
            ),
          );
          break;
        case 'redis_replica_lag_seconds':
        case 'redis_master_last_io_seconds_ago':
          out.push(...shiftCheck(ctx, s, spec('redis: replication lag', 0.6), { direction: 'up' }));
          break;
        case 'redis_evicted_keys':
          out.push(...counterIncrease(ctx, s, spec('redis: keys evicted', 0.8, true)));
          break;
        case 'redis_rejected_connections':
          out.push(...counterIncrease(ctx, s, spec('redis: connections rejected', 0.8, true)));
          break;
        case 'redis_expired_keys':
          out.push(...shiftCheck(ctx, s, spec('redis: keys expiring', 0.5)));
          break;
        case 'redis_instantaneous_ops_per_sec':
          out.push(...shiftCheck(ctx, s, spec('redis: operations per second', 0.6)));
          break;
        case 'redis_cmdstat_calls': {
          const cmd = (s.labels['command'] ?? '').toLowerCase();
          if (WRITES.has(cmd)) {
            const pod = s.pod ?? s.labels['node'] ?? s.labels['instance'] ?? 'redis';
            const list = writesByPod.get(pod) ?? [];
            list.push(s);
            writesByPod.set(pod, list);
          }
          break;
        }
        default:
          break;
      }
    }
    for (const [pod, parts] of [...writesByPod].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const labels = { component: parts[0]?.component ?? 'redis', node: pod };
      const sum = sumSeries(ctx, parts, 'redis_write_commands', labels, `redis_write_commands{node=${pod}}`);
      if (sum) out.push(...shiftCheck(ctx, sum, spec('redis: write commands', 0.8)));
    }
    return out;
  },
};
