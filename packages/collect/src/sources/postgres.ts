import pg from 'pg';
import { errorMessage, redactText, type BundleWriter } from '@hindsight/core';
import { z } from 'zod';
import { RetryTally, connectWithRetries, connectionCode } from '../retry.js';
import { sampleOverTime } from '../sampler.js';
import { SeriesSet } from '../series-set.js';
import type { Source, SourceContext, SourceResult } from '../source.js';

/** pg_stat_database columns that are cumulative counters; numbackends is the one gauge read. */
const DATABASE_COUNTERS = [
  'xact_commit',
  'xact_rollback',
  'blks_read',
  'blks_hit',
  'tup_returned',
  'tup_fetched',
  'tup_inserted',
  'tup_updated',
  'tup_deleted',
  'conflicts',
  'temp_files',
  'temp_bytes',
  'deadlocks',
] as const;

const ACTIVITY_SQL = `
SELECT coalesce(datname, '') AS datname, coalesce(state, 'unknown') AS state, count(*)::int AS n,
       coalesce(max(extract(epoch FROM now() - state_change)), 0)::float8 AS max_age,
       count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS lock_waiting
FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
GROUP BY 1, 2`;

const LOCKS_SQL = `SELECT count(*) FILTER (WHERE NOT granted)::int AS waiting, count(*)::int AS held FROM pg_locks`;

/** Adds one sample of pg_stat_database, pg_stat_activity and pg_locks at `time`. */
async function sample(
  client: pg.Client,
  set: SeriesSet,
  base: Record<string, string>,
  time: number,
): Promise<void> {
  const db = await client.query<Record<string, string | number | null>>(
    `SELECT datname, numbackends, ${DATABASE_COUNTERS.join(', ')} FROM pg_stat_database WHERE datname IS NOT NULL`,
  );
  for (const row of db.rows) {
    const labels = { ...base, db: String(row['datname']) };
    set.add('pg_database_numbackends', labels, 'gauge', time, Number(row['numbackends']));
    for (const c of DATABASE_COUNTERS) set.add(`pg_database_${c}`, labels, 'counter', time, Number(row[c]));
  }
  const act = await client.query<{
    datname: string;
    state: string;
    n: number;
    max_age: number;
    lock_waiting: number;
  }>(ACTIVITY_SQL);
  const states = ['active', 'idle', 'idle in transaction', 'idle in transaction (aborted)'];
  let idleInTx = 0;
  let idleInTxAge = 0;
  let lockWaiting = 0;
  const byState = new Map<string, number>(states.map((s) => [s, 0]));
  for (const r of act.rows) {
    byState.set(r.state, (byState.get(r.state) ?? 0) + r.n);
    lockWaiting += r.lock_waiting;
    if (r.state.startsWith('idle in transaction')) {
      idleInTx += r.n;
      idleInTxAge = Math.max(idleInTxAge, r.max_age);
    }
  }
  for (const [state, n] of byState) set.add('pg_activity_count', { ...base, state }, 'gauge', time, n);
  set.add('pg_idle_in_transaction_count', base, 'gauge', time, idleInTx);
  set.add('pg_idle_in_transaction_max_age_seconds', base, 'gauge', time, idleInTxAge, 's');
  set.add('pg_activity_waiting_on_lock', base, 'gauge', time, lockWaiting);
  const locks = await client.query<{ waiting: number; held: number }>(LOCKS_SQL);
  set.add('pg_locks_waiting', base, 'gauge', time, locks.rows[0]?.waiting ?? 0);
  set.add('pg_locks_held', base, 'gauge', time, locks.rows[0]?.held ?? 0);
}

/**
 * Why a failed connection to PostgreSQL may pass: refused, reset or timed out while the server
 * restarts, or its own `57P03 cannot_connect_now` ("the database system is starting up", or
 * "shutting down", or "not yet accepting connections"), which it answers while the port is open
 * and recovery runs. A wrong password, a role that may not log in or an unknown database are not.
 */
function transientConnect(err: unknown): string | undefined {
  const code = connectionCode(err);
  if (code) return code;
  if ((err as { code?: unknown } | undefined)?.code === '57P03') return 'SQLSTATE 57P03';
  // pg's connectionTimeoutMillis destroys the socket with this error (pg/lib/client.js).
  if (err instanceof Error && err.message === 'timeout expired') return 'connect timeout';
  return undefined;
}

const postgresSettingsSchema = z.object({ postgres: z.string().optional() });
/** The postgres source's settings: `--postgres`, a connection string. */
export type PostgresSettings = z.infer<typeof postgresSettingsSchema>;

/**
 * Samples pg_stat_database, pg_stat_activity by state (with idle-in-transaction counts and the
 * oldest one's age) and waiting locks, once or every --interval during --watch. Series are named
 * `pg_*` with labels {source: postgres, component: postgresql, node: host:port}. The connection is
 * tried again while it is refused, reset, timed out or told "starting up" ({@link connectWithRetries});
 * one the server ends during --watch is opened again the next round.
 */
export const postgresSource: Source<PostgresSettings> = {
  name: 'postgres',
  flags: [{ flags: '--postgres <url>', description: 'a PostgreSQL connection string' }],
  schema: postgresSettingsSchema,
  needs: ['postgres'],
  async collect(writer: BundleWriter, sourceCtx: SourceContext<PostgresSettings>): Promise<SourceResult> {
    const [retries, ctx] = RetryTally.of(sourceCtx);
    const url = ctx.options.postgres as string;
    let node = 'postgres';
    try {
      const u = new URL(url);
      node = `${u.hostname}:${u.port || 5432}`;
    } catch {
      // A libpq key=value string: the node label stays generic.
    }
    const base = { source: 'postgres', component: 'postgresql', node };
    // A client connects once (pg refuses a second connect()): each try is a new one.
    const open = async (): Promise<pg.Client> => {
      const c = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: 3000,
        statement_timeout: 5000,
      });
      c.on('error', () => undefined); // a dropped connection fails the next query, which is reported
      try {
        await c.connect();
        return c;
      } catch (err) {
        await c.end().catch(() => undefined);
        throw err;
      }
    };
    const set = new SeriesSet();
    let client: pg.Client;
    try {
      client = await connectWithRetries(node, open, { ...retries.options(), transient: transientConnect });
    } catch (err) {
      throw new Error(`cannot connect to PostgreSQL at ${node}: ${redactText(errorMessage(err))}`);
    } finally {
      retries.note(writer, 'postgres', node);
    }
    // Set when the server ends the connection (a restart during --watch).
    let lost = false;
    let reopened = 0;
    const watch = (c: pg.Client): void => {
      c.once('end', () => {
        if (client === c) lost = true;
      });
    };
    watch(client);
    try {
      const result = await sampleOverTime(ctx, async (time) => {
        if (lost) {
          // One new connection a round, not retried: the next round tries again.
          const next = await open();
          await client.end().catch(() => undefined);
          client = next;
          lost = false;
          watch(next);
          reopened += 1;
        }
        await sample(client, set, base, time);
        ctx.progress(set.size);
      });
      if (reopened > 0)
        writer.addNote(
          `postgres: the connection was lost and opened again ${reopened === 1 ? 'once' : `${reopened} times`} during the watch at ${node}`,
        );
      if (result.ok === 0)
        throw new Error(`PostgreSQL at ${node}: ${redactText(errorMessage(result.lastError))}`);
      if (result.failed > 0) {
        ctx.warn({
          code: 'HINDSIGHT_SOURCE_FAILED',
          message: `${result.failed} PostgreSQL samples failed: ${redactText(errorMessage(result.lastError))}`,
          where: node,
        });
      }
      const items = await set.writeTo(writer);
      return result.failed > 0
        ? { status: 'partial', items, detail: `${result.failed} samples failed` }
        : { status: 'ok', items };
    } finally {
      await client.end().catch(() => undefined);
    }
  },
};
