import { BundleWriter, seededRandom, type LogSink, type Series } from '@hindsight/core';

/** A Helm revision in a synthetic scenario. */
export interface SyntheticChange {
  /** Minutes after the window's start. */
  atMin: number;
  revision: number;
  diff: Array<{ path: string; from?: unknown; to?: unknown }>;
}

/**
 * A synthetic bundle of the shop platform (nginx -> shop -> redis, postgresql): steady traffic
 * with noise, and the effects of its changes derived from their diffs: a `shop.*` change rolls the
 * shop pods, `shop.logLevel: debug` adds debug lines, raising `redis.replica.replicaCount` while
 * sessions are read from replicas starts replicas, multiplies session writes and loses sessions.
 * Lab recordings replace these bundles where they exist; this keeps tests deterministic and fast.
 */
export interface SyntheticScenario {
  seed: number;
  start: string;
  durationMin: number;
  release: string;
  namespace: string;
  /** Requests per second at nginx, before bursts. */
  rps: number;
  shopPods: number;
  redisReplicas: number;
  changes: SyntheticChange[];
  bursts: Array<{ atMin: number; minutes: number; factor: number }>;
  /** Minutes over which traffic ramps up from zero at the start of the window (a lab warming up). */
  warmupMin?: number;
  /** Damage the bundle after writing it: bad lines in a log, a series file, changes, events, topology. */
  corrupt?: boolean;
}

/** The story: a log-level change, then redis.replica.replicaCount 2 -> 6, then a label change. */
export function storyScenario(overrides: Partial<SyntheticScenario> = {}): SyntheticScenario {
  return {
    seed: 7,
    start: '2026-03-02T09:00:00Z',
    durationMin: 40,
    release: 'shop',
    namespace: 'shop',
    rps: 6,
    shopPods: 2,
    redisReplicas: 2,
    changes: [
      { atMin: 10, revision: 5, diff: [{ path: 'shop.logLevel', from: 'info', to: 'debug' }] },
      { atMin: 18, revision: 6, diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }] },
      { atMin: 27, revision: 7, diff: [{ path: 'shop.podLabels.team', from: 'payments', to: 'checkout' }] },
    ],
    bursts: [{ atMin: 4, minutes: 3, factor: 2.5 }],
    ...overrides,
  };
}

/** A quiet window: steady traffic, no change, nothing wrong. */
export function quietScenario(overrides: Partial<SyntheticScenario> = {}): SyntheticScenario {
  return storyScenario({ seed: 11, changes: [], bursts: [], ...overrides });
}

function poisson(r: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gauss(r)));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > l);
  return k - 1;
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(2 * Math.PI * r());
}

const hex = (r: () => number, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
};

interface PodLife {
  name: string;
  component: string;
  workload: string;
  container: string;
  from: number;
  to: number;
  sink?: LogSink;
  role?: string;
}

const ROUTES = [
  '/cart',
  '/cart',
  '/products',
  '/products',
  '/login',
  '/checkout/start',
  '/checkout/pay',
  '/checkout/confirm',
];

/**
 * Writes a synthetic bundle for `scenario` into `dir` through BundleWriter and returns the number
 * of log lines written.
 */
export async function writeSyntheticBundle(
  dir: string,
  scenario: SyntheticScenario,
): Promise<{ lines: number }> {
  const r = seededRandom(scenario.seed);
  const t0 = Date.parse(scenario.start);
  const t1 = t0 + scenario.durationMin * 60_000;
  const ns = scenario.namespace;
  const R = scenario.release;
  const w = await BundleWriter.create(dir, {
    window: { from: new Date(t0), to: new Date(t1) },
    namespace: ns,
    cluster: 'synthetic',
  });
  const at = (c: SyntheticChange): number => t0 + c.atMin * 60_000;
  const changes = [...scenario.changes].sort((a, b) => a.atMin - b.atMin);

  // Which change does what, read from the diffs.
  const shopRolls = changes.filter((c) => c.diff.some((d) => d.path.startsWith('shop.'))).map(at);
  const debugFrom = changes.find((c) =>
    c.diff.some((d) => /logLevel$/.test(d.path) && d.path.startsWith('shop.') && d.to === 'debug'),
  );
  const replicaChange = changes.find((c) =>
    c.diff.some((d) => d.path === 'redis.replica.replicaCount' && Number(d.to) > Number(d.from)),
  );
  const replicasAfter = replicaChange
    ? Number(replicaChange.diff.find((d) => d.path === 'redis.replica.replicaCount')?.to)
    : scenario.redisReplicas;
  const tReplica = replicaChange ? at(replicaChange) : Number.POSITIVE_INFINITY;
  // A later change that lowers the count again ends the story's effects (a revert, or the fix).
  const revert = changes.find(
    (c) =>
      at(c) > tReplica &&
      c.diff.some((d) => d.path === 'redis.replica.replicaCount' && Number(d.to) < Number(d.from)),
  );
  const tRevert = revert ? at(revert) : Number.POSITIVE_INFINITY;
  const active = (t: number): boolean => t >= tReplica && t < tRevert;
  const tDebug = debugFrom ? at(debugFrom) : Number.POSITIVE_INFINITY;

  // Pods and their lifetimes: every shop roll replaces the shop pods. The hash is in letters, one
  // for each digit, as a pod-template-hash reads.
  const pods: PodLife[] = [];
  const rollTimes = [t0 - 3_600_000, ...shopRolls];
  for (const [gen, from] of rollTimes.entries()) {
    const to = rollTimes[gen + 1] ?? t1 + 1;
    const hash = hex(r, 9)
      .replace(/[0-9]/g, (d) => 'bcdfghjklm'[Number(d)] as string)
      .slice(0, 9);
    for (let i = 0; i < scenario.shopPods; i++) {
      pods.push({
        name: `${R}-shop-${hash}-${hex(r, 5)}`,
        component: 'shop',
        workload: `${R}-shop`,
        container: 'shop',
        from,
        to,
      });
    }
  }
  pods.push({
    name: `${R}-nginx-7f9c6d8b4-x2k9p`,
    component: 'nginx',
    workload: `${R}-nginx`,
    container: 'nginx',
    from: t0 - 3_600_000,
    to: t1 + 1,
  });
  pods.push({
    name: `${R}-redis-master-0`,
    component: 'redis',
    workload: `${R}-redis-master`,
    container: 'redis',
    from: t0 - 3_600_000,
    to: t1 + 1,
    role: 'master',
  });
  for (let i = 0; i < Math.max(scenario.redisReplicas, replicasAfter); i++) {
    const extra = i >= scenario.redisReplicas;
    pods.push({
      name: `${R}-redis-replica-${i}`,
      component: 'redis',
      workload: `${R}-redis-replica`,
      container: 'redis',
      from: extra ? tReplica : t0 - 3_600_000,
      to: extra && tRevert < t1 ? tRevert : t1 + 1,
      role: 'replica',
    });
  }
  pods.push({
    name: `${R}-postgresql-0`,
    component: 'postgresql',
    workload: `${R}-postgresql`,
    container: 'postgresql',
    from: t0 - 3_600_000,
    to: t1 + 1,
  });

  for (const p of pods) {
    if (p.to < t0 || p.from > t1) continue;
    p.sink = await w.openLog({ namespace: ns, pod: p.name, container: p.container, previous: false });
  }
  const live = (component: string, t: number): PodLife[] =>
    pods.filter((p) => p.component === component && p.from <= t && t < p.to && p.sink);

  let lines = 0;
  const log = async (p: PodLife, t: number, text: string): Promise<void> => {
    lines++;
    await (p.sink as LogSink).write(t, text);
  };
  const shopLine = (
    p: PodLife,
    t: number,
    level: number,
    fields: Record<string, unknown>,
    msg: string,
  ): string => JSON.stringify({ level, time: new Date(t).toISOString(), pod: p.name, ...fields, msg });

  // Startup lines of pods that start inside the window.
  for (const p of pods) {
    if (!p.sink || p.from < t0) continue;
    if (p.component === 'shop') {
      await log(
        p,
        p.from + 200,
        shopLine(p, p.from + 200, 30, { event: 'migrated', applied: 0 }, 'database migrated and seeded'),
      );
      await log(
        p,
        p.from + 400,
        shopLine(p, p.from + 400, 30, {}, 'Server listening at http://0.0.0.0:8080'),
      );
    } else if (p.component === 'redis') {
      await log(p, p.from + 100, `1:S ${redisDate(p.from + 100)} * Ready to accept connections tcp`);
      await log(
        p,
        p.from + 300,
        `1:S ${redisDate(p.from + 300)} * Connecting to MASTER ${R}-redis-master:6379`,
      );
      await log(
        p,
        p.from + 900,
        `1:S ${redisDate(p.from + 900)} * MASTER <-> REPLICA sync: Finished with success`,
      );
    }
  }

  const stepMs = 1000;
  const sampleMs = 10_000;
  const traffic = (t: number): number => {
    let f = 1 + 0.08 * Math.sin((2 * Math.PI * (t - t0)) / 1_800_000);
    const warm = (scenario.warmupMin ?? 0) * 60_000;
    if (t - t0 < warm) f *= (t - t0) / warm;
    for (const b of scenario.bursts) {
      const bs = t0 + b.atMin * 60_000;
      if (t >= bs && t < bs + b.minutes * 60_000) f *= b.factor;
    }
    return scenario.rps * f;
  };
  const master = pods.find((p) => p.role === 'master') as PodLife;
  // Counters, cumulative, sampled every 10 s.
  const counters = new Map<string, number>();
  const add = (k: string, v: number): void => void counters.set(k, (counters.get(k) ?? 0) + v);
  const samples = new Map<
    string,
    {
      name: string;
      labels: Record<string, string>;
      kind: Series['kind'];
      unit?: string;
      points: Array<[number, number]>;
    }
  >();
  const sample = (
    name: string,
    labels: Record<string, string>,
    kind: Series['kind'],
    t: number,
    v: number,
    unit?: string,
  ): void => {
    const key = `${name}${JSON.stringify(labels)}`;
    let s = samples.get(key);
    if (!s) {
      s = { name, labels, kind, ...(unit ? { unit } : {}), points: [] };
      samples.set(key, s);
    }
    s.points.push([t, Math.round(v * 1000) / 1000]);
  };
  let reqInSample = 0;
  let p99 = 0;

  for (let t = t0; t < t1; t += stepMs) {
    const sinceReplica = t - tReplica;
    const requests = poisson(r, traffic(t));
    reqInSample += requests;
    const shops = live('shop', t);
    const replicasNow = active(t) ? replicasAfter : scenario.redisReplicas;
    // The story's mechanism: each request's session write is repeated per replica read path.
    const writeFactor = active(t) ? replicasNow / scenario.redisReplicas : 1;
    const missingP =
      active(t) && sinceReplica >= 30_000 ? Math.min(0.12, 0.01 + 0.012 * (sinceReplica / 60_000)) : 0;
    for (let q = 0; q < requests; q++) {
      const p = shops[Math.floor(r() * shops.length)] as PodLife;
      const tt = t + Math.floor(r() * 1000);
      const route = ROUTES[Math.floor(r() * ROUTES.length)] as string;
      const session = hex(r, 12);
      if (tt >= tDebug && p.from >= tDebug - 1) {
        await log(p, tt, shopLine(p, tt, 20, { event: 'route', route, method: 'GET' }, 'route matched'));
      }
      if (r() < missingP) {
        await log(
          p,
          tt + 1,
          shopLine(
            p,
            tt + 1,
            40,
            { event: 'missing', session, node: `${R}-redis-replica-${Math.floor(r() * replicasNow)}:6379` },
            'session missing',
          ),
        );
      } else {
        await log(
          p,
          tt + 1,
          shopLine(
            p,
            tt + 1,
            30,
            { event: 'read', session, node: `${R}-redis-master:6379`, version: Math.floor(r() * 9) + 1 },
            'session read',
          ),
        );
      }
      if (route !== '/products') {
        await log(
          p,
          tt + 2,
          shopLine(
            p,
            tt + 2,
            30,
            { event: 'saved', session, node: `${R}-redis-master:6379`, version: Math.floor(r() * 9) + 2 },
            'session saved',
          ),
        );
        add('set', writeFactor);
        add('expire', writeFactor);
      }
      add('get', 1);
      const ms = Math.round(8 + r() * 20 + (r() < 0.02 ? 80 : 0));
      p99 = Math.max(p99, ms / 1000);
      await log(
        p,
        tt + 3,
        shopLine(
          p,
          tt + 3,
          30,
          { event: 'request', method: 'GET', route, status: 200, durationMs: ms },
          'request completed',
        ),
      );
      add('pg_commit', route.startsWith('/checkout') ? 1 : 0.2);
    }
    if ((t - t0) % 300_000 === 0) {
      const pg = pods.find((p) => p.component === 'postgresql') as PodLife;
      await log(
        pg,
        t + 5,
        `${new Date(t + 5).toISOString().replace('T', ' ').replace('Z', ' UTC')} [61] LOG:  checkpoint starting: time`,
      );
      await log(
        pg,
        t + 900,
        `${new Date(t + 900).toISOString().replace('T', ' ').replace('Z', ' UTC')} [61] LOG:  checkpoint complete: wrote ${Math.floor(r() * 90) + 3} buffers (0.${Math.floor(r() * 9)}%)`,
      );
      await log(
        master,
        t + 50,
        `1:M ${redisDate(t + 50)} * ${Math.floor(r() * 200) + 100} changes in 300 seconds. Saving...`,
      );
      await log(master, t + 80, `1:M ${redisDate(t + 80)} * Background saving terminated with success`);
    }
    if (t === tReplica) {
      for (let i = scenario.redisReplicas; i < replicasAfter; i++) {
        const tt = t + 700 + i * 50;
        await log(
          master,
          tt,
          `1:M ${redisDate(tt)} * Replica 10.0.0.${20 + i}:6379 asks for synchronization`,
        );
        await log(
          master,
          tt + 5,
          `1:M ${redisDate(tt + 5)} * Full resync requested by replica 10.0.0.${20 + i}:6379`,
        );
        await log(
          master,
          tt + 400,
          `1:M ${redisDate(tt + 400)} * Synchronization with replica 10.0.0.${20 + i}:6379 succeeded`,
        );
        add('sync_full', 1);
      }
    }
    if ((t - t0) % sampleMs === sampleMs - stepMs) {
      const ts = t + stepMs;
      const rate = reqInSample / (sampleMs / 1000);
      const nginxLabels = { source: 'nginx', component: 'nginx', pod: `${R}-nginx-7f9c6d8b4-x2k9p` };
      sample('nginx_requests', nginxLabels, 'gauge', ts, rate, 'requests/s');
      sample('nginx_status_2xx', nginxLabels, 'gauge', ts, rate, 'requests/s');
      sample('nginx_status_5xx', nginxLabels, 'gauge', ts, 0, 'requests/s');
      sample('nginx_status_499', nginxLabels, 'gauge', ts, 0, 'responses/s');
      sample('nginx_request_time_p99', nginxLabels, 'gauge', ts, p99 || 0.03, 's');
      sample('nginx_upstream_time_p99', nginxLabels, 'gauge', ts, (p99 || 0.03) * 0.95, 's');
      reqInSample = 0;
      p99 = 0;
      for (const p of live('redis', ts)) {
        // As the collect source writes them: INFO fields as `redis_<field>`, labelled by node.
        const labels = {
          source: 'redis',
          component: 'redis',
          node: `${p.name}:6379`,
          role: p.role ?? 'replica',
        };
        if (p.role === 'master') {
          sample(
            'redis_connected_slaves',
            labels,
            'gauge',
            ts,
            active(ts - 2000) ? replicasAfter : scenario.redisReplicas,
          );
          for (const cmd of ['get', 'set', 'expire'])
            sample(
              'redis_cmdstat_calls',
              { ...labels, command: cmd },
              'counter',
              ts,
              Math.round(counters.get(cmd) ?? 0),
            );
          const ops =
            rate *
            (1 + 2 * (active(ts) ? replicasAfter / scenario.redisReplicas : 1)) *
            (1 + 0.05 * gauss(r));
          sample('redis_instantaneous_ops_per_sec', labels, 'gauge', ts, Math.max(0, ops));
          add(
            'offset',
            (counters.get('set') ?? 0) * 0 +
              rate * 180 * (active(ts) ? replicasAfter / scenario.redisReplicas : 1) * 10,
          );
          sample(
            'redis_master_repl_offset',
            labels,
            'counter',
            ts,
            Math.round(counters.get('offset') ?? 0),
            'bytes',
          );
          sample('redis_sync_full', labels, 'counter', ts, counters.get('sync_full') ?? 0);
          sample('redis_evicted_keys', labels, 'counter', ts, 0);
          sample('redis_rejected_connections', labels, 'counter', ts, 0);
          add('expired', poisson(r, 0.3 * 10));
          sample('redis_expired_keys', labels, 'counter', ts, counters.get('expired') ?? 0);
          sample(
            'redis_used_memory',
            labels,
            'gauge',
            ts,
            2_000_000 + 500 * ((ts - t0) / 1000) + 20_000 * gauss(r),
            'bytes',
          );
        } else {
          sample('redis_master_link_up', labels, 'gauge', ts, 1);
          sample(
            'redis_instantaneous_ops_per_sec',
            labels,
            'gauge',
            ts,
            Math.max(0, rate * 0.1 * (1 + 0.1 * gauss(r))),
          );
        }
      }
      const pgLabels = {
        source: 'postgres',
        component: 'postgresql',
        node: `${R}-postgresql:5432`,
        db: 'shop',
      };
      sample('pg_database_xact_commit', pgLabels, 'counter', ts, Math.round(counters.get('pg_commit') ?? 0));
      add('pg_rollback', poisson(r, 0.05 * 10));
      sample('pg_database_xact_rollback', pgLabels, 'counter', ts, counters.get('pg_rollback') ?? 0);
      sample('pg_idle_in_transaction_count', pgLabels, 'gauge', ts, r() < 0.05 ? 1 : 0);
      sample('pg_idle_in_transaction_max_age_seconds', pgLabels, 'gauge', ts, 0);
      sample('pg_locks_waiting', pgLabels, 'gauge', ts, 0);
      sample('pg_database_deadlocks', pgLabels, 'counter', ts, 0);
      sample('pg_database_numbackends', pgLabels, 'gauge', ts, 10 + Math.floor(r() * 2));
    }
  }
  for (const s of samples.values()) await w.addSeries(s);

  for (const c of changes) {
    // As the collect source records a revision: its values diff, then each workload it scaled.
    const replicas = c.diff.find((d) => d.path === 'redis.replica.replicaCount');
    if (replicas) {
      await w.addChange({
        id: `scale:${ns}/${R}:${c.revision}:StatefulSet/${R}-redis-replica`,
        time: new Date(at(c)).toISOString(),
        kind: 'scale',
        target: `StatefulSet/${R}-redis-replica`,
        namespace: ns,
        release: R,
        fromRevision: c.revision - 1,
        toRevision: c.revision,
        components: ['redis'],
        diff: [{ path: 'spec.replicas', from: replicas.from, to: replicas.to }],
      });
    }
    await w.addChange({
      id: `helm:${R}:${c.revision}`,
      time: new Date(at(c)).toISOString(),
      kind: 'helm',
      target: R,
      namespace: ns,
      release: R,
      fromRevision: c.revision - 1,
      toRevision: c.revision,
      message: 'Upgrade complete',
      diff: c.diff,
    });
  }
  // Events: a rollout's normal events, and readiness failing on replicas until their first sync.
  for (const t of shopRolls) {
    await w.addEvent({
      time: new Date(t).toISOString(),
      object: { kind: 'Deployment', name: `${R}-shop`, namespace: ns },
      reason: 'ScalingReplicaSet',
      message: 'Scaled up replica set',
      type: 'Normal',
      count: 1,
      component: 'shop',
    });
  }
  for (const p of pods.filter((x) => x.role === 'replica' && x.from >= t0)) {
    await w.addEvent({
      time: new Date(p.from).toISOString(),
      object: { kind: 'StatefulSet', name: `${R}-redis-replica`, namespace: ns },
      reason: 'SuccessfulCreate',
      message: `create Pod ${p.name} in StatefulSet ${R}-redis-replica successful`,
      type: 'Normal',
      count: 1,
      component: 'redis',
    });
  }
  for (const p of pods) {
    if (p.to < t1) continue;
    await w.addPod({
      namespace: ns,
      name: p.name,
      component: p.component,
      workload: p.workload,
      labels: { 'app.kubernetes.io/component': p.component, 'app.kubernetes.io/instance': R },
      phase: 'Running',
      startTime: new Date(p.from).toISOString(),
      containers: [{ name: p.container, ready: true, restartCount: 0 }],
    });
  }
  await w.setTopology({
    components: [
      { name: 'nginx', dependsOn: ['shop'] },
      { name: 'shop', dependsOn: ['redis', 'postgresql'] },
      { name: 'redis', dependsOn: [] },
      { name: 'postgresql', dependsOn: [] },
    ],
  });
  for (const name of ['kubernetes', 'helm', 'redis', 'postgres', 'nginx'])
    w.recordSource({ name, status: 'ok' });
  await w.finish();
  if (scenario.corrupt)
    await corrupt(dir, pods.find((p) => p.component === 'shop' && p.to > t1) as PodLife, ns);
  return { lines };
}

function redisDate(t: number): string {
  const d = new Date(t);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][
    d.getUTCMonth()
  ] as string;
  return `${String(d.getUTCDate()).padStart(2, '0')} ${mon} ${d.getUTCFullYear()} ${d.toISOString().slice(11, 23)}`;
}

async function corrupt(dir: string, shop: PodLife, ns: string): Promise<void> {
  const { appendFile, writeFile } = await import('node:fs/promises');
  const path = await import('node:path');
  await appendFile(
    path.join(dir, 'logs', ns, shop.name, 'shop.log'),
    'garbage without a timestamp\n\u0000\u0001 binary junk\n',
  );
  await appendFile(
    path.join(dir, 'series', 'redis.jsonl'),
    '{"name":"redis_broken","labels":{},"kind":"gauge","points":[[1,\n',
  );
  await appendFile(
    path.join(dir, 'changes.jsonl'),
    '{"time":"not a time","kind":"helm","target":"x","diff":[]}\n',
  );
  await appendFile(path.join(dir, 'events.jsonl'), '{"time":"2026-03-02T09:30:00Z","object":{"kind":"Pod"\n');
  await writeFile(path.join(dir, 'topology.json'), '{"components": [ {"name": 3} ]}');
}
