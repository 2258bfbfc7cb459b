import { seriesKey } from '@hindsight/core';
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
    const writesAt = new Map<string, PreparedSeries[]>();
    for (const s of all) {
      // A master's series about one of its replicas: the replica's pod where the collector knew it.
      const replica = s.labels['replica_pod'] ?? s.labels['replica'];
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
          out.push(...gaugeAt(ctx, s, spec(`redis: replica ${replica ?? ''} offline`, 0.7), (v) => v === 0));
          break;
        case 'redis_replica_lag_seconds':
        case 'redis_master_last_io_seconds_ago':
          out.push(
            ...shiftCheck(ctx, s, spec(`redis: replication lag${replica ? ` of ${replica}` : ''}`, 0.6), {
              direction: 'up',
            }),
          );
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
            const at = s.pod ?? s.labels['node'] ?? s.labels['instance'] ?? 'redis';
            writesAt.set(at, [...(writesAt.get(at) ?? []), s]);
          }
          break;
        }
        default:
          break;
      }
    }
    // One sum per pod where the series name one (its writes across a restart that moved its
    // address), else per address.
    for (const [at, parts] of [...writesAt].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const first = parts[0] as PreparedSeries;
      const labels = { component: first.component, ...(first.pod ? { pod: at } : { node: at }) };
      const key = seriesKey('redis_write_commands', labels);
      const sum = sumSeries(ctx, parts, 'redis_write_commands', labels, key);
      if (sum) out.push(...shiftCheck(ctx, sum, spec('redis: write commands', 0.8)));
    }
    return out;
  },
};
