// The names the Redis and PostgreSQL exporters give what the redis and postgres sources sample
// themselves: the bundle holds one name per fact, so the analyzers read a Prometheus' scrapes and
// collect's own samples alike.

/** An exporter's metric and the bundle's name of the same fact, with its labels renamed. */
interface Rename {
  to: string;
  kind: 'counter' | 'gauge';
  /** Exporter label -> bundle label. */
  labels?: Record<string, string>;
}

/**
 * redis_exporter (oliver006, 1.x) and postgres_exporter (prometheus-community, 0.x) names -> the
 * names of the redis source (`redis_<INFO field>`, `redis_cmdstat_calls{command}`) and the
 * postgres source (`pg_database_<pg_stat_database column>`). Checked against the real exporters
 * (Debian's prometheus-redis-exporter 1.45 and prometheus-postgres-exporter 0.11) in the lab.
 */
const RENAMES: ReadonlyMap<string, Rename> = new Map([
  ['redis_commands_total', { to: 'redis_cmdstat_calls', kind: 'counter', labels: { cmd: 'command' } }],
  [
    'redis_commands_failed_calls_total',
    { to: 'redis_cmdstat_failed_calls', kind: 'counter', labels: { cmd: 'command' } },
  ],
  ['redis_replica_resyncs_full', { to: 'redis_sync_full', kind: 'counter' }],
  ['redis_replica_partial_resync_denied', { to: 'redis_sync_partial_err', kind: 'counter' }],
  ['redis_replica_partial_resync_accepted', { to: 'redis_sync_partial_ok', kind: 'counter' }],
  ['redis_evicted_keys_total', { to: 'redis_evicted_keys', kind: 'counter' }],
  ['redis_expired_keys_total', { to: 'redis_expired_keys', kind: 'counter' }],
  ['redis_rejected_connections_total', { to: 'redis_rejected_connections', kind: 'counter' }],
  ['redis_connected_slave_lag_seconds', { to: 'redis_replica_lag_seconds', kind: 'gauge' }],
  ['redis_connected_slave_offset_bytes', { to: 'redis_replica_offset', kind: 'counter' }],
  ['pg_stat_database_deadlocks', { to: 'pg_database_deadlocks', kind: 'counter' }],
  ['pg_stat_database_xact_rollback', { to: 'pg_database_xact_rollback', kind: 'counter' }],
  ['pg_stat_database_xact_commit', { to: 'pg_database_xact_commit', kind: 'counter' }],
  ['pg_stat_database_numbackends', { to: 'pg_database_numbackends', kind: 'gauge' }],
]);

/**
 * The bundle's name, labels and kind of an exporter series; undefined for a name the sources do not
 * sample themselves (kept as Prometheus named it). The exporter's name stays in `exporter_metric`.
 */
export function exporterSeries(
  name: string,
  labels: Record<string, string>,
): { name: string; labels: Record<string, string>; kind: 'counter' | 'gauge' } | undefined {
  const r = RENAMES.get(name);
  if (!r) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[r.labels?.[k] ?? k] = v;
  // A master's line about one replica: `replica` is its address, as the redis source writes it.
  if (labels['slave_ip'] !== undefined && labels['slave_port'] !== undefined) {
    out['replica'] = `${labels['slave_ip']}:${labels['slave_port']}`;
    delete out['slave_ip'];
    delete out['slave_port'];
  }
  return { name: r.to, labels: { ...out, exporter_metric: name }, kind: r.kind };
}
