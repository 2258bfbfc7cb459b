// 12. PostgreSQL's memory limit lowered below what the server holds: the database is OOM-killed.
import type { Scenario } from '@hindsight/lab/demo';

// The rendered change is the PostgreSQL container's resources.limits.memory (512Mi -> 8Mi). A
// StatefulSet replaces its pod in place, so the new server is killed for memory as it starts and
// every checkout and login that needs the database fails until it is fixed. Tried first and dropped
// for want of harm in the traffic's ground truth: PostgreSQL's idle-in-transaction timeout set by
// the shop at 1 ms (errors and stuck checkouts per request 3.8% and 1.6% after it, below the warm-up's),
// and the shop's liveness probe tightened to 1 s, 1 failure, every 2 s (3.6% after, 7.1% before).
export const scenario: Scenario = {
  name: 'postgres-memory-limit-low',
  mechanism:
    "PostgreSQL's memory limit below what the server holds (OOMKilled as it starts: the database is down)",
  up: ['postgresql.resources.limits.memory=512Mi'],
  fault: ['postgresql.resources.limits.memory=8Mi'],
  decoys: [['shop.logLevel=debug'], ['nginx.logLevel=error']],
  expected: ['postgresql.resources.limits.memory'],
  caveat: 'the lab kills a container whose main process RSS passes its limit, as the kernel would the cgroup',
};
