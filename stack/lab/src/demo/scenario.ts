/**
 * A fault scenario: the values a lab starts with, the one values change that is the fault, the
 * benign changes (decoys) made before and after it, and the values path(s) a diagnosis must name.
 * Used by `hindsight demo` (the story) and by bench/diagnosis.ts (the catalogue in bench/scenarios).
 */
export interface Scenario {
  /** Short kebab-case name, e.g. `redis-replicas-2-to-6`. */
  name: string;
  /** The mechanism, in one sentence, as the catalogue lists it. */
  mechanism: string;
  /** `--set` pairs of revision 1 (`lab up`). */
  up: string[];
  /** `--set` pairs of the faulty upgrade. */
  fault: string[];
  /** Benign upgrades (each a list of `--set` pairs); the runner places them before and after the fault. */
  decoys: string[][];
  /** How many of the decoys go before the fault (the rest go after); drawn from the run's seed when absent. */
  decoysBefore?: number;
  /** The values path(s) of the fault a diagnosis must name (any one of them counts). */
  expected: string[];
  /** Concurrent traffic users (20 by default). */
  users?: number;
  /** What of the mechanism the chart cannot express, and what stands in for it. */
  caveat?: string;
  /** Runs the lab with tracing (LabOptions.tracing): its bundle holds the shop's spans. */
  tracing?: boolean;
}

/**
 * The story of the design document: sessions read from replicas with the read-your-writes guard
 * off and per-request session writes; the upgrade raises the replicas from 2 to 6 and lets them be
 * ready before their first sync.
 *
 * Why readinessRequiresSync flips in the same upgrade: the shop holds one connection per pod to the
 * replica Service, so only a new connection can land on an empty replica. With the flag already off
 * at `up`, adding replicas rolls nothing and no connection moves (measured: 0 of 3777 requests lost
 * a session); flipping it rolls the replica StatefulSet, the shops' connections to the rolled
 * replicas reconnect and some land on replicas that answer PING before they hold the data, as the
 * lab's own story test does (test/e2e/lab.test.ts).
 */
export const storyScenario: Scenario = {
  name: 'redis-replicas-2-to-6',
  mechanism:
    'more replicas while sessions are read from replicas: new replicas ready before their first sync (empty reads), per-request session writes multiplied by the replicas',
  up: [
    'shop.session.readFrom=replicas',
    'shop.session.readYourWrites=false',
    'shop.session.rolling=true',
    'shop.replicaCount=4',
    'redis.replica.replicaCount=2',
    'redis.replica.readinessRequiresSync=true',
  ],
  fault: ['redis.replica.replicaCount=6', 'redis.replica.readinessRequiresSync=false'],
  decoys: [['shop.podLabels.team=checkout'], ['redis.logLevel=warning']],
  decoysBefore: 1,
  expected: ['redis.replica.replicaCount'],
};
