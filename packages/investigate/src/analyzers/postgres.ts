import { counterIncrease, shiftCheck } from '../checks.js';
import type { Analyzer, Finding } from '../types.js';

/** PostgreSQL health from pg_stat_database and pg_stat_activity: idle in transaction, lock waits, deadlocks, rollbacks. */
export const postgresChecks: Analyzer = {
  name: 'postgresql',
  needs: ['series'],
  async analyze(_bundle, ctx) {
    const all = (await ctx.data.series()).filter((s) => s.name.startsWith('pg_'));
    const out: Finding[] = [];
    const spec = (what: string, strength: number, userFacing = false) => ({
      analyzer: 'postgresql',
      what,
      strength,
      userFacing,
    });
    for (const s of all) {
      switch (s.name) {
        case 'pg_idle_in_transaction':
        case 'pg_idle_in_transaction_count':
          out.push(
            ...shiftCheck(ctx, s, spec('postgresql: sessions idle in transaction', 0.7), { direction: 'up' }),
          );
          break;
        case 'pg_idle_in_transaction_max_age_seconds':
          out.push(
            ...shiftCheck(ctx, s, spec('postgresql: oldest idle transaction age', 0.7), { direction: 'up' }),
          );
          break;
        case 'pg_lock_waits':
        case 'pg_locks_waiting':
        case 'pg_activity_waiting_on_lock':
          out.push(
            ...shiftCheck(ctx, s, spec('postgresql: sessions waiting on locks', 0.8, true), {
              direction: 'up',
            }),
          );
          break;
        case 'pg_deadlocks':
        case 'pg_database_deadlocks':
          out.push(...counterIncrease(ctx, s, spec('postgresql: deadlocks', 0.8, true)));
          break;
        case 'pg_xact_rollback':
        case 'pg_database_xact_rollback':
          out.push(...shiftCheck(ctx, s, spec('postgresql: rollbacks', 0.6), { direction: 'up' }));
          break;
        case 'pg_numbackends':
        case 'pg_database_numbackends':
        case 'pg_connections':
          out.push(...shiftCheck(ctx, s, spec('postgresql: connections', 0.5)));
          break;
        default:
          break;
      }
    }
    return out;
  },
};
