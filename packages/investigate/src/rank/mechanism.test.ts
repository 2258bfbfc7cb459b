import { describe, expect, it } from 'vitest';
import { MECHANISMS, changeMechanisms, effectMechanisms, type Finding, type Mechanism } from '../index.js';

// One rendered setting per kind, named as software names it (a container's env or args, a config
// file's directive, a resource, a probe), and one symptom each kind can cause, worded as findings
// word it. None of these names is a value of this repository's chart.
const CASES: Array<{ kind: Mechanism; setting: [string, unknown, unknown]; effect: string }> = [
  {
    kind: 'memory',
    setting: ['containers.api.resources.limits.memory', '1Gi', '300Mi'],
    effect: 'container api-0/api restarted 3 times (last: OOMKilled, exit 137)',
  },
  {
    kind: 'cpu',
    setting: ['containers.api.resources.limits.cpu', '2', '100m'],
    effect: 'container_cpu_cfs_throttled_seconds_total up',
  },
  {
    kind: 'disk',
    setting: ['containers.db.resources.limits.ephemeral-storage', '10Gi', '100Mi'],
    effect: 'Pod db-0 Evicted: The node was low on resource: ephemeral-storage',
  },
  {
    kind: 'timeout',
    setting: ['containers.api.env.UPSTREAM_TIMEOUT_SECONDS', '30', '1'],
    effect: 'proxy: 504 answers up from 0.0% usually',
  },
  {
    kind: 'latency',
    setting: ['containers.api.env.FAULT_DELAY_MS', '0', '2000'],
    effect: "api's own work slowed: self time of POST /orders 40 -> 2100 ms (median of 80 spans)",
  },
  {
    kind: 'expiry',
    setting: ['data.app.yaml.session_ttl', '3600', '5'],
    effect: 'proxy: 401 answers up from 0.1% usually',
  },
  {
    kind: 'shutdown',
    setting: ['pod.terminationGracePeriodSeconds', 30, 1],
    effect: 'upstream prematurely closed connection while reading response header',
  },
  {
    kind: 'connections',
    setting: ['containers.mysql.args.max_connections', '500', '20'],
    effect: 'new log template in db: "Too many connections"',
  },
  {
    kind: 'pool',
    setting: ['containers.api.env.DB_POOL_SIZE', '10', '80'],
    effect: 'new log template in api: "timeout exceeded when trying to connect"',
  },
  {
    kind: 'keepalive',
    setting: ['data.nginx.conf.keepalive_timeout', '5s', '300s'],
    effect: 'new log template in proxy: "recv() failed (104: Connection reset by peer)"',
  },
  {
    kind: 'credential',
    setting: ['data.api-key', '(old value)', '(new value)'],
    effect: 'new log template in cache: "NOAUTH Authentication required."',
  },
  {
    kind: 'tls',
    setting: ['containers.api.env.TLS_CERT_FILE', '/a.pem', '/b.pem'],
    effect: 'x509: certificate signed by unknown authority',
  },
  { kind: 'replicas', setting: ['spec.replicas', 3, 1], effect: 'proxy: 503 answers up from 0.0% usually' },
  {
    kind: 'replication',
    setting: ['data.redis.conf.repl-backlog-size', '64mb', '16kb'],
    effect: 'redis: full resyncs increased',
  },
  {
    kind: 'probe',
    setting: ['containers.api.livenessProbe.timeoutSeconds', 5, 1],
    effect: 'Pod api-1 probe failing: Liveness probe failed',
  },
  {
    kind: 'cache',
    setting: ['data.redis.conf.maxmemory-policy', 'noeviction', 'allkeys-lru'],
    effect: 'redis_evicted_keys up 0 -> 40 per second',
  },
  {
    kind: 'proxy',
    setting: ['data.nginx.conf.proxy_next_upstream', 'error timeout', 'off'],
    effect: 'proxy: 502 answers up from 0.0% usually',
  },
  {
    kind: 'buffer',
    setting: ['data.nginx.conf.proxy_buffer_size', '8k', '1k'],
    effect: 'upstream sent too big header while reading response header from upstream',
  },
  {
    kind: 'rate-limit',
    setting: ['data.nginx.conf.limit_req', 'zone=one burst=100', 'zone=one burst=1'],
    effect: 'proxy: 429 answers up from 0.0% usually',
  },
];

const finding = (title: string): Finding => ({
  id: `f:${title}`,
  analyzer: 't',
  kind: 'health',
  signal: 's',
  title,
  time: 0,
  strength: 1,
  evidence: [],
});

describe('the mechanism catalogue', () => {
  it('has at least 16 kinds across the families resources, timeouts, connections, credentials, replication, caching, proxy, probes and scaling', () => {
    expect(MECHANISMS.length).toBeGreaterThanOrEqual(16);
    expect(new Set(MECHANISMS.map((m) => m.family)).size).toBe(9);
    expect(new Set(CASES.map((c) => c.kind))).toEqual(new Set(MECHANISMS.map((m) => m.kind)));
  });

  it.each(CASES)('reads a $kind setting from the rendered object and matches a symptom it can cause', (c) => {
    const [path, from, to] = c.setting;
    expect([...changeMechanisms([{ path, from, to }]).keys()]).toContain(c.kind);
    expect([...effectMechanisms(finding(c.effect))]).toContain(c.kind);
  });

  it('drops a limit that was raised, keeps one imposed where there was none, and halves one whose old value is unknown', () => {
    expect(
      changeMechanisms([{ path: 'containers.api.resources.limits.memory', from: '256Mi', to: '1Gi' }]).has(
        'memory',
      ),
    ).toBe(false);
    expect(
      changeMechanisms([{ path: 'data.redis.conf.maxmemory', from: '0', to: '1200kb' }]).get('memory'),
    ).toBe(1);
    expect(changeMechanisms([{ path: 'containers.api.resources.limits.cpu', to: '200m' }]).get('cpu')).toBe(
      1,
    );
    expect(changeMechanisms([{ path: 'db.maxConnections', to: 120 }]).get('connections')).toBe(0.5);
    // A proxy's connect timeout raised is no proxy fault either; a keep-alive held longer can be.
    expect(
      changeMechanisms([{ path: 'data.nginx.conf.proxy_connect_timeout', from: '5s', to: '6s' }]).size,
    ).toBe(0);
    expect(
      changeMechanisms([{ path: 'data.nginx.conf.keepalive_timeout', from: '2s', to: '300s' }]).has(
        'keepalive',
      ),
    ).toBe(true);
  });

  it("keeps a delay that was raised, drops one that was lowered, and does not take a probe's initial delay for one", () => {
    const latency = (path: string, from: unknown, to: unknown) =>
      changeMechanisms([{ path, from, to }]).get('latency');
    expect(latency('containers.shop.env.PAYMENT_LATENCY_MS', '50', '4000')).toBe(1);
    expect(latency('data.toxics.json.latency', '2000', '0')).toBeUndefined();
    expect(latency('containers.api.livenessProbe.initialDelaySeconds', 10, 60)).toBeUndefined();
    expect(latency('spec.http.fault.delay', undefined, '5s')).toBe(0.5);
  });

  it('reads what a log finding says from its template, and nothing from a setting that names nothing it controls', () => {
    const log: Finding = {
      ...finding('new log template in db: 12 lines (error) on db-0'),
      evidence: [{ type: 'lines', template: 'FATAL: sorry, too many clients already', lines: [] }],
    };
    expect(effectMechanisms(log).has('connections')).toBe(true);
    expect(
      changeMechanisms([{ path: 'containers.api.env.SESSION_READ_FROM', from: 'master', to: 'replica' }])
        .size,
    ).toBe(0);
    expect(
      changeMechanisms([{ path: 'data.nginx.conf.proxy_pass', from: 'http://a', to: 'http://b' }]).has(
        'credential',
      ),
    ).toBe(false);
  });
});
