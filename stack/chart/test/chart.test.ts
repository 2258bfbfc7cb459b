// The chart, rendered by the real helm binary and read back as Kubernetes objects; the Redis and nginx
// configs it renders are then run by the real redis-server and nginx on loopback ports.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, parseAllDocuments, parseDocument, type Node as YamlNode } from 'yaml';

const execFileP = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const chartDir = join(repoRoot, 'stack/chart');
const release = 'shop';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** helm from PATH when present, else the one scripts/install-helm.sh puts in .tools/bin. */
function findHelm(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'helm'))) return join(dir, 'helm');
  }
  return join(repoRoot, '.tools/bin/helm');
}
const helm = findHelm();

interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function runHelm(args: string[]): Promise<HelmResult> {
  try {
    const { stdout, stderr } = await execFileP(helm, args, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function setArgs(sets: Record<string, string | number | boolean>): string[] {
  return Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${String(v)}`]);
}

// A Kubernetes object as rendered; the tests reach into it by path, so the shape is kept loose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K8sObject = Record<string, any>;

interface Rendered {
  text: string;
  objects: K8sObject[];
  get(kind: string, name: string): K8sObject;
}

async function render(
  sets: Record<string, string | number | boolean> = {},
  extraArgs: string[] = [],
): Promise<Rendered> {
  const result = await runHelm([
    'template',
    release,
    chartDir,
    '--namespace',
    'lab',
    ...extraArgs,
    ...setArgs(sets),
  ]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  const objects = parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`unparsable YAML from helm: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
  return {
    text: result.stdout,
    objects,
    get(kind, name) {
      const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
      if (!found) throw new Error(`no ${kind} ${name} in the rendered chart`);
      return found;
    },
  };
}

function container(workload: K8sObject, name: string): K8sObject {
  const c = (workload.spec.template.spec.containers as K8sObject[]).find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name} in ${workload.metadata.name}`);
  return c;
}

function envOf(c: K8sObject): Map<string, K8sObject> {
  return new Map((c.env as K8sObject[]).map((e) => [e.name as string, e]));
}

function plainEnv(c: K8sObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of c.env as K8sObject[]) if ('value' in e) out[e.name as string] = e.value as string;
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createTcpServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

async function until(what: string, check: () => Promise<boolean>, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function exitsZero(cmd: string, args: string[]): Promise<boolean> {
  try {
    await execFileP(cmd, args);
    return true;
  } catch {
    return false;
  }
}

describe('values.yaml', () => {
  it('documents every key with a comment above it', async () => {
    const doc = parseDocument(await readFile(join(chartDir, 'values.yaml'), 'utf8'));
    // Kubernetes structures (resources, labels, env) are documented as a whole by their parent's comment.
    const opaque = new Set(['resources', 'podLabels', 'podAnnotations', 'extraEnv']);
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (!isMap(node)) return;
      node.items.forEach((pair, i) => {
        const key = pair.key as YamlNode & { value?: unknown };
        const name = `${path}${String(key.value)}`;
        // yaml attaches the comment above a map's first key to the map itself.
        const comment = key.commentBefore ?? (i === 0 ? (node as YamlNode).commentBefore : undefined);
        if (!comment?.trim()) undocumented.push(name);
        if (!opaque.has(String(key.value))) walk(pair.value, `${name}.`);
      });
    };
    walk(doc.contents, '');
    expect(undocumented).toEqual([]);
  });
});

describe('helm lint', () => {
  it('passes with the default values', async () => {
    const r = await runHelm(['lint', chartDir]);
    expect(r.stderr + r.stdout).not.toMatch(/\[ERROR\]|\[WARNING\]/);
    expect(r.code).toBe(0);
  });

  it('passes with the overrides the fault scenarios use', async () => {
    const r = await runHelm([
      'lint',
      chartDir,
      ...setArgs({
        'shop.session.readFrom': 'replicas',
        'shop.session.readYourWrites': false,
        'shop.session.rolling': true,
        'redis.replica.replicaCount': 6,
        'redis.replica.readinessRequiresSync': false,
        'redis.master.persistence.enabled': false,
        'redis.master.maxmemory': '200mb',
        'redis.master.maxmemoryPolicy': 'allkeys-lru',
        'redis.auth.password': 'pw',
        'nginx.proxyReadTimeout': '2s',
      }),
    ]);
    expect(r.stderr + r.stdout).not.toMatch(/\[ERROR\]/);
    expect(r.code).toBe(0);
  });
});

describe('helm template with the defaults', () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await render();
  });

  it('renders every object the platform contract names', () => {
    const names = r.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(names).toEqual(
      [
        'ConfigMap/shop-nginx',
        'ConfigMap/shop-redis',
        'Deployment/shop-nginx',
        'Deployment/shop-shop',
        'Secret/shop-shop',
        'Service/shop-nginx',
        'Service/shop-postgresql',
        'Service/shop-postgresql-headless',
        'Service/shop-redis-headless',
        'Service/shop-redis-master',
        'Service/shop-redis-replica',
        'Service/shop-shop',
        'StatefulSet/shop-postgresql',
        'StatefulSet/shop-redis-master',
        'StatefulSet/shop-redis-replica',
      ].sort(),
    );
  });

  it('labels every object with name, instance, component, chart and manager', () => {
    for (const o of r.objects) {
      const labels = o.metadata.labels as Record<string, string>;
      expect(labels['app.kubernetes.io/name'], o.metadata.name).toBe('shop');
      expect(labels['app.kubernetes.io/instance']).toBe(release);
      expect(['shop', 'redis', 'postgresql', 'nginx']).toContain(labels['app.kubernetes.io/component']);
      expect(labels['helm.sh/chart']).toMatch(/^shop-\d+\.\d+\.\d+/);
      expect(labels['app.kubernetes.io/managed-by']).toBe('Helm');
    }
  });

  it('annotates each workload with the components it calls', () => {
    const dependsOn = (kind: string, name: string): unknown =>
      r.get(kind, name).metadata.annotations['hindsight.dev/depends-on'];
    expect(dependsOn('Deployment', 'shop-nginx')).toBe('shop');
    expect(dependsOn('Deployment', 'shop-shop')).toBe('redis,postgresql');
    expect(dependsOn('StatefulSet', 'shop-redis-master')).toBe('');
    expect(dependsOn('StatefulSet', 'shop-postgresql')).toBe('');
  });

  it('runs two shop pods with /healthz liveness and /readyz readiness on port 8080', () => {
    const shop = r.get('Deployment', 'shop-shop');
    expect(shop.spec.replicas).toBe(2);
    const c = container(shop, 'shop');
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.image).toBe('hindsight/shop:0.1.0');
    expect(shop.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it('sets the shop environment of the contract from the values', () => {
    const env = plainEnv(container(r.get('Deployment', 'shop-shop'), 'shop'));
    expect(env).toMatchObject({
      PORT: '8080',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      REDIS_MASTER_URL: 'redis://shop-redis-master:6379',
      REDIS_REPLICA_URLS: 'redis://shop-redis-replica:6379',
      REDIS_COMMAND_TIMEOUT_MS: '500',
      SESSION_READ_FROM: 'master',
      SESSION_READ_YOUR_WRITES: 'true',
      SESSION_TTL_SECONDS: '1800',
      SESSION_ROLLING: 'false',
      PGHOST: 'shop-postgresql',
      PGPORT: '5432',
      PGUSER: 'shop',
      PGDATABASE: 'shop',
      PG_POOL_MAX: '10',
      PG_CONNECT_TIMEOUT_MS: '2000',
      PG_STATEMENT_TIMEOUT_MS: '5000',
      PG_IDLE_IN_TX_TIMEOUT_MS: '10000',
      PG_READINESS_GRACE_MS: '10000',
      CHECKOUT_STUCK_AFTER_SECONDS: '300',
      SWEEP_INTERVAL_SECONDS: '30',
      PAYMENT_LATENCY_MS: '50',
    });
    const all = envOf(container(r.get('Deployment', 'shop-shop'), 'shop'));
    expect(all.get('POD_NAME')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
  });

  it('takes every credential from the Secret by secretKeyRef, never as a plain value', () => {
    const secret = r.get('Secret', 'shop-shop');
    const keys = Object.keys(secret.data as object).sort();
    expect(keys).toEqual(['postgres-password', 'redis-password', 'session-secret']);
    const refs = (c: K8sObject): Record<string, unknown> =>
      Object.fromEntries(
        (c.env as K8sObject[])
          .filter((e) => e.valueFrom?.secretKeyRef)
          .map((e) => [e.name, e.valueFrom.secretKeyRef]),
      );
    expect(refs(container(r.get('Deployment', 'shop-shop'), 'shop'))).toEqual({
      SESSION_SECRET: { name: 'shop-shop', key: 'session-secret' },
      REDIS_PASSWORD: { name: 'shop-shop', key: 'redis-password' },
      PGPASSWORD: { name: 'shop-shop', key: 'postgres-password' },
    });
    expect(refs(container(r.get('StatefulSet', 'shop-postgresql'), 'postgresql'))).toEqual({
      POSTGRES_PASSWORD: { name: 'shop-shop', key: 'postgres-password' },
    });
    // Generated secrets are long and random: a fixed default would be a shared password.
    const sessionSecret = Buffer.from(secret.data['session-secret'] as string, 'base64').toString();
    expect(sessionSecret).toMatch(/^[A-Za-z0-9]{48}$/);
  });

  it('runs one Redis master with the memory limit and a PVC, and two replicas of it', () => {
    const master = r.get('StatefulSet', 'shop-redis-master');
    expect(master.spec.replicas).toBe(1);
    const mc = container(master, 'redis');
    expect(mc.ports[0].containerPort).toBe(6379);
    expect(mc.resources.limits.memory).toBe('256Mi');
    expect(master.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('1Gi');
    const replica = r.get('StatefulSet', 'shop-redis-replica');
    expect(replica.spec.replicas).toBe(2);
    const rc = container(replica, 'redis');
    expect([...rc.command, ...rc.args]).toEqual([
      'redis-server',
      '/etc/redis/redis.conf',
      '--replicaof',
      'shop-redis-master',
      '6379',
    ]);
    expect(rc.readinessProbe.exec.command.join(' ')).toContain('master_link_status:up');
  });

  it('routes the Services to the right pods', () => {
    const sel = (name: string): unknown => r.get('Service', name).spec.selector;
    expect(sel('shop-redis-master')).toMatchObject({ 'hindsight.dev/role': 'master' });
    expect(sel('shop-redis-replica')).toMatchObject({ 'hindsight.dev/role': 'replica' });
    const masterPods = r.get('StatefulSet', 'shop-redis-master').spec.template.metadata.labels;
    expect(masterPods).toMatchObject(sel('shop-redis-master') as object);
    expect(r.get('Deployment', 'shop-shop').spec.template.metadata.labels).toMatchObject(
      sel('shop-shop') as object,
    );
    expect(r.get('Service', 'shop-shop').spec.ports[0]).toMatchObject({ port: 8080, targetPort: 'http' });
  });

  it('runs PostgreSQL 15 from a pinned tag with its password from the Secret and a PVC', () => {
    const pg = r.get('StatefulSet', 'shop-postgresql');
    const c = container(pg, 'postgresql');
    expect(c.image).toMatch(/^postgres:15\.\d+/);
    expect(c.ports[0].containerPort).toBe(5432);
    expect(c.args).toContain('max_connections=100');
    expect(plainEnv(c)).toMatchObject({ POSTGRES_USER: 'shop', POSTGRES_DB: 'shop' });
    expect(pg.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
  });

  it('writes redis.conf from the redis values', () => {
    const conf = r.get('ConfigMap', 'shop-redis').data['redis.conf'] as string;
    expect(conf).toMatch(/^repl-backlog-size 64mb$/m);
    expect(conf).toMatch(/^client-output-buffer-limit replica 256mb 64mb 60$/m);
    expect(conf).toMatch(/^maxmemory 0$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^loglevel notice$/m);
  });

  it('retries only idempotent requests, and closes idle upstream connections before a shop drains', () => {
    const conf = r.get('ConfigMap', 'shop-nginx').data['nginx.conf'] as string;
    expect(conf).toMatch(/^\s*proxy_next_upstream error timeout;$/m);
    expect(conf).not.toMatch(/non_idempotent/);
    expect(conf).toMatch(/^\s*proxy_next_upstream_tries 2;$/m);
    const upstream = /upstream shop \{[\s\S]*?\}/.exec(conf)?.[0] ?? '';
    const idleSeconds = Number(/keepalive_timeout (\d+)s;/.exec(upstream)?.[1]);
    // The shop's default SHUTDOWN_DRAIN_MS is 3000.
    expect(idleSeconds).toBeLessThan(3);
  });

  it('points nginx at the shop Service with the timeouts and the hindsight log format', () => {
    const conf = r.get('ConfigMap', 'shop-nginx').data['nginx.conf'] as string;
    expect(conf).toMatch(/server shop-shop:8080;/);
    expect(conf).toMatch(/proxy_read_timeout 30s;/);
    expect(conf).toMatch(/proxy_connect_timeout 5s;/);
    expect(conf).toMatch(/error_log stderr warn;/);
    expect(conf).toMatch(/access_log \/dev\/stdout hindsight;/);
    const format = /log_format hindsight[\s\S]*?';/.exec(conf)?.[0] ?? '';
    for (const v of [
      '$time_iso8601',
      '$msec',
      '$remote_addr',
      '$request',
      '$status',
      '$body_bytes_sent',
      '$request_time',
      '$upstream_response_time',
      '$upstream_status',
      '$upstream_addr',
    ]) {
      expect(format).toContain(v);
    }
    const nginx = r.get('Deployment', 'shop-nginx');
    expect(container(nginx, 'nginx').ports[0].containerPort).toBe(8080);
    expect(nginx.spec.replicas).toBe(1);
  });
});

describe('helm template with overrides', () => {
  it('scales the replica StatefulSet with redis.replica.replicaCount (the incident: 2 -> 6)', async () => {
    const r = await render({ 'redis.replica.replicaCount': 6 });
    expect(r.get('StatefulSet', 'shop-redis-replica').spec.replicas).toBe(6);
    expect(r.get('StatefulSet', 'shop-redis-master').spec.replicas).toBe(1);
  });

  it('passes the session knobs to the shop environment', async () => {
    const r = await render({
      'shop.session.readFrom': 'replicas',
      'shop.session.readYourWrites': false,
      'shop.session.ttlSeconds': 600,
      'shop.session.rolling': true,
      'shop.replicaCount': 4,
      'shop.logLevel': 'debug',
      'shop.postgres.poolMax': 20,
      'shop.postgres.idleInTransactionTimeoutMs': 0,
      'shop.postgres.readinessGraceMs': 0,
      'shop.redisCommandTimeoutMs': 250,
    });
    const shop = r.get('Deployment', 'shop-shop');
    expect(shop.spec.replicas).toBe(4);
    expect(plainEnv(container(shop, 'shop'))).toMatchObject({
      SESSION_READ_FROM: 'replicas',
      SESSION_READ_YOUR_WRITES: 'false',
      SESSION_TTL_SECONDS: '600',
      SESSION_ROLLING: 'true',
      LOG_LEVEL: 'debug',
      PG_POOL_MAX: '20',
      PG_IDLE_IN_TX_TIMEOUT_MS: '0',
      PG_READINESS_GRACE_MS: '0',
      REDIS_COMMAND_TIMEOUT_MS: '250',
    });
  });

  it('writes large numbers from a values file as integers, not in exponent form', async () => {
    // Helm reads values files as JSON, so 1000000 arrives as a float that would print as 1e+06.
    const dir = await mkdtemp(join(tmpdir(), 'chart-values-'));
    try {
      const file = join(dir, 'values.yaml');
      await writeFile(
        file,
        'shop:\n  postgres:\n    statementTimeoutMs: 1000000\n  session:\n    ttlSeconds: 86400000\n',
      );
      const r = await render({}, ['--values', file]);
      expect(plainEnv(container(r.get('Deployment', 'shop-shop'), 'shop'))).toMatchObject({
        PG_STATEMENT_TIMEOUT_MS: '1000000',
        SESSION_TTL_SECONDS: '86400000',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves REDIS_REPLICA_URLS empty when there are no replicas', async () => {
    const r = await render({ 'redis.replica.replicaCount': 0 });
    expect(plainEnv(container(r.get('Deployment', 'shop-shop'), 'shop')).REDIS_REPLICA_URLS).toBe('');
  });

  it('makes replica readiness a PING when readinessRequiresSync is false', async () => {
    const r = await render({ 'redis.replica.readinessRequiresSync': false });
    const cmd = (
      container(r.get('StatefulSet', 'shop-redis-replica'), 'redis').readinessProbe.exec.command as string[]
    ).join(' ');
    expect(cmd).toContain('ping');
    expect(cmd).not.toContain('master_link_status');
  });

  it('writes redis.conf and the master memory limit from the values', async () => {
    const r = await render({
      'redis.replication.backlogSize': '128mb',
      'redis.replication.replicaOutputBufferLimit': '512mb 128mb 120',
      'redis.master.maxmemory': '200mb',
      'redis.master.maxmemoryPolicy': 'allkeys-lru',
      'redis.master.memoryLimit': '512Mi',
      'redis.master.persistence.enabled': false,
      'redis.logLevel': 'warning',
    });
    const conf = r.get('ConfigMap', 'shop-redis').data['redis.conf'] as string;
    expect(conf).toMatch(/^repl-backlog-size 128mb$/m);
    expect(conf).toMatch(/^client-output-buffer-limit replica 512mb 128mb 120$/m);
    expect(conf).toMatch(/^maxmemory 200mb$/m);
    expect(conf).toMatch(/^maxmemory-policy allkeys-lru$/m);
    expect(conf).toMatch(/^appendonly no$/m);
    expect(conf).toMatch(/^save ""$/m);
    expect(conf).toMatch(/^loglevel warning$/m);
    const master = r.get('StatefulSet', 'shop-redis-master');
    expect(container(master, 'redis').resources.limits.memory).toBe('512Mi');
    expect(master.spec.volumeClaimTemplates).toBeUndefined();
  });

  it('rolls Redis and nginx pods when their config changes', async () => {
    const checksum = (r: Rendered, kind: string, name: string): unknown =>
      r.get(kind, name).spec.template.metadata.annotations['checksum/config'];
    const before = await render();
    const after = await render({ 'redis.replication.backlogSize': '128mb', 'nginx.proxyReadTimeout': '10s' });
    expect(checksum(after, 'StatefulSet', 'shop-redis-replica')).not.toBe(
      checksum(before, 'StatefulSet', 'shop-redis-replica'),
    );
    expect(checksum(after, 'Deployment', 'shop-nginx')).not.toBe(
      checksum(before, 'Deployment', 'shop-nginx'),
    );
  });

  it('puts the nginx timeouts from the values into nginx.conf', async () => {
    const r = await render({ 'nginx.proxyReadTimeout': '45s', 'nginx.proxyConnectTimeout': '2s' });
    const conf = r.get('ConfigMap', 'shop-nginx').data['nginx.conf'] as string;
    expect(conf).toMatch(/proxy_read_timeout 45s;/);
    expect(conf).toMatch(/proxy_connect_timeout 2s;/);
  });

  it('never renders a given secret in plain text, only base64 inside the Secret', async () => {
    const secrets = {
      'shop.sessionSecret': 'session-PLAINTEXT-1',
      'redis.auth.password': 'redis-PLAINTEXT-2',
      'postgresql.auth.password': 'pg-PLAINTEXT-3',
    };
    const r = await render(secrets);
    for (const value of Object.values(secrets)) expect(r.text).not.toContain(value);
    const data = r.get('Secret', 'shop-shop').data as Record<string, string>;
    const decoded = Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(decoded).toEqual({
      'session-secret': 'session-PLAINTEXT-1',
      'redis-password': 'redis-PLAINTEXT-2',
      'postgres-password': 'pg-PLAINTEXT-3',
    });
    // With a password, Redis gets it from the Secret through env expansion, and redis-cli probes too.
    const rc = container(r.get('StatefulSet', 'shop-redis-replica'), 'redis');
    expect(rc.args).toEqual(expect.arrayContaining(['--requirepass', '$(REDIS_PASSWORD)', '--masterauth']));
    expect(envOf(rc).get('REDISCLI_AUTH')?.valueFrom.secretKeyRef).toEqual({
      name: 'shop-shop',
      key: 'redis-password',
    });
    expect(r.get('ConfigMap', 'shop-redis').data['redis.conf']).not.toMatch(/protected-mode no/);
  });

  it('uses an existing Secret instead of rendering one', async () => {
    const r = await render({ existingSecret: 'my-creds' });
    expect(r.objects.some((o) => o.kind === 'Secret')).toBe(false);
    const ref = envOf(container(r.get('Deployment', 'shop-shop'), 'shop')).get('SESSION_SECRET');
    expect(ref?.valueFrom.secretKeyRef).toEqual({ name: 'my-creds', key: 'session-secret' });
  });

  it('names the objects after the release', async () => {
    const res = await runHelm(['template', 'blue', chartDir]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('name: blue-redis-master');
    expect(res.stdout).toContain('--replicaof\n            - blue-redis-master');
  });
});

describe('values.schema.json', () => {
  async function templateError(sets: Record<string, string | number | boolean>): Promise<string> {
    const r = await runHelm(['template', release, chartDir, ...setArgs(sets)]);
    expect(r.code, 'helm template should have failed').not.toBe(0);
    return r.stderr;
  }

  it('rejects shop.session.readFrom=everywhere, naming the key and the allowed values', async () => {
    const err = await templateError({ 'shop.session.readFrom': 'everywhere' });
    expect(err).toContain('/shop/session/readFrom');
    expect(err).toMatch(/master.*replicas/);
  });

  it('rejects a mistyped key instead of ignoring it', async () => {
    const err = await templateError({ 'redis.replica.replicaCont': 6 });
    expect(err).toContain('replicaCont');
  });

  it('rejects a negative replica count, a non-integer one, and an unknown eviction policy', async () => {
    expect(await templateError({ 'redis.replica.replicaCount': -1 })).toContain(
      '/redis/replica/replicaCount',
    );
    expect(await templateError({ 'redis.replica.replicaCount': 'six' })).toContain(
      '/redis/replica/replicaCount',
    );
    expect(await templateError({ 'redis.master.maxmemoryPolicy': 'lru' })).toContain(
      '/redis/master/maxmemoryPolicy',
    );
  });

  it('rejects a session secret the shop would refuse at start (under 16 characters)', async () => {
    expect(await templateError({ 'shop.sessionSecret': 'short' })).toContain('/shop/sessionSecret');
  });

  it('rejects a negative or fractional PostgreSQL readiness grace', async () => {
    expect(await templateError({ 'shop.postgres.readinessGraceMs': -1 })).toContain(
      '/shop/postgres/readinessGraceMs',
    );
    expect(await templateError({ 'shop.postgres.readinessGraceMs': 2.5 })).toContain(
      '/shop/postgres/readinessGraceMs',
    );
  });

  it('refuses reads from replicas when there are no replicas, naming both keys', async () => {
    const err = await templateError({ 'shop.session.readFrom': 'replicas', 'redis.replica.replicaCount': 0 });
    expect(err).toContain('shop.session.readFrom=replicas needs redis.replica.replicaCount >= 1');
  });

  it('rejects a malformed output-buffer limit and nginx timeout', async () => {
    expect(await templateError({ 'redis.replication.replicaOutputBufferLimit': '256mb' })).toContain(
      'replicaOutputBufferLimit',
    );
    expect(await templateError({ 'nginx.proxyReadTimeout': 'thirty' })).toContain('proxyReadTimeout');
  });
});

const redisServer = '/usr/bin/redis-server';
const redisCli = '/usr/bin/redis-cli';
const nginxBin = '/usr/sbin/nginx';

describe.skipIf(!executable(redisServer) || !executable(redisCli))(
  'the rendered redis.conf, run by redis-server',
  () => {
    let dir: string;
    const procs: ChildProcess[] = [];
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'chart-redis-'));
    });
    afterAll(async () => {
      for (const p of procs) p.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });

    async function startRedis(name: string, conf: string, port: number, args: string[] = []): Promise<void> {
      const data = join(dir, name);
      await mkdir(data);
      // The pod's address and data dir are the cluster's; here the server binds loopback in a temp dir.
      const p = spawn(
        redisServer,
        [conf, '--port', String(port), '--bind', '127.0.0.1', '--dir', data, ...args],
        {
          stdio: 'ignore',
        },
      );
      procs.push(p);
      await until(`redis ${name} on ${port}`, () => exitsZero(redisCli, ['-p', String(port), 'ping']));
    }

    it('starts with the values applied, and replica readiness waits for the first sync', async () => {
      const r = await render({
        'redis.replication.backlogSize': '32mb',
        'redis.master.maxmemoryPolicy': 'allkeys-lru',
      });
      const conf = join(dir, 'redis.conf');
      await writeFile(conf, r.get('ConfigMap', 'shop-redis').data['redis.conf'] as string);

      const masterPort = await freePort();
      const replicaPort = await freePort();
      await startRedis('replica', conf, replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)]);
      const probe = (
        container(r.get('StatefulSet', 'shop-redis-replica'), 'redis').readinessProbe.exec.command as string[]
      ).map((a) => a.replace('-p 6379', `-p ${replicaPort}`));
      const [cmd, ...args] = probe;
      // The story: before its first sync a replica answers PING, but the chart's probe says not ready.
      expect(await exitsZero(redisCli, ['-p', String(replicaPort), 'ping'])).toBe(true);
      expect(await exitsZero(cmd as string, args)).toBe(false);

      const { stdout } = await execFileP(redisCli, [
        '-p',
        String(replicaPort),
        'config',
        'get',
        'repl-backlog-size',
      ]);
      expect(stdout.split('\n')[1]).toBe(String(32 * 1024 * 1024));

      // The master appears on the port the replica was told about; the probe then turns ready.
      // No 5 s wait for more replicas before a diskless sync (the Redis default), to keep the test short.
      await startRedis('master', conf, masterPort, ['--repl-diskless-sync-delay', '0']);
      await until('replica sync', () => exitsZero(cmd as string, args));
      const policy = await execFileP(redisCli, [
        '-p',
        String(masterPort),
        'config',
        'get',
        'maxmemory-policy',
      ]);
      expect(policy.stdout).toContain('allkeys-lru');
    });
  },
);

describe.skipIf(!executable(nginxBin))('the rendered nginx.conf, run by nginx', () => {
  let dir: string;
  let upstream: Server;
  let nginx: ChildProcess | undefined;
  afterAll(async () => {
    nginx?.kill('SIGQUIT');
    await new Promise((r) => upstream?.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('proxies to the shop and writes one parseable JSON line per request', async () => {
    dir = await mkdtemp(join(tmpdir(), 'chart-nginx-'));
    upstream = createServer((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
      res.end('hello from shop');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const addr = upstream.address();
    const upstreamPort = typeof addr === 'object' && addr ? addr.port : 0;
    const port = await freePort();
    const statusPort = await freePort();
    const accessLog = join(dir, 'access.log');

    const r = await render({ 'nginx.accessLog': accessLog, 'nginx.proxyReadTimeout': '7s' });
    // In the cluster nginx listens on 8080 and reaches the Service by name; here, loopback ports and the
    // temp dir stand in for them. Everything else is the rendered file.
    const conf = (r.get('ConfigMap', 'shop-nginx').data['nginx.conf'] as string)
      .replace('server shop-shop:8080;', `server 127.0.0.1:${upstreamPort};`)
      .replace('listen 8080;', `listen 127.0.0.1:${port};`)
      .replace('listen 127.0.0.1:8081;', `listen 127.0.0.1:${statusPort};`)
      .replaceAll(' /tmp/nginx', ` ${dir}/nginx`);
    const confPath = join(dir, 'nginx.conf');
    await writeFile(confPath, conf);
    await execFileP(nginxBin, ['-t', '-c', confPath, '-e', join(dir, 'error.log')]);

    nginx = spawn(nginxBin, ['-c', confPath, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
      stdio: 'ignore',
    });
    await until('nginx', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/nginx-healthz`)).ok;
      } catch {
        return false;
      }
    });
    const ok = await fetch(`http://127.0.0.1:${port}/cart?x="quoted"`);
    expect(await ok.text()).toBe('hello from shop');
    expect((await fetch(`http://127.0.0.1:${port}/missing`)).status).toBe(404);

    let lines: string[] = [];
    await until('two access log lines', async () => {
      lines = (await readFile(accessLog, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      return lines.length >= 2;
    });
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries[0]).toMatchObject({
      remote_addr: '127.0.0.1',
      method: 'GET',
      status: 200,
      upstream_status: '200',
      upstream_addr: `127.0.0.1:${upstreamPort}`,
    });
    expect(entries[0]?.request).toMatch(/^GET \/cart\?x=.*quoted.* HTTP\/1\.1$/);
    expect(Date.parse(entries[0]?.time as string)).not.toBeNaN();
    expect(typeof entries[0]?.msec).toBe('number');
    expect(typeof entries[0]?.request_time).toBe('number');
    expect(Number(entries[0]?.upstream_response_time)).not.toBeNaN();
    expect(entries[1]).toMatchObject({ status: 404, upstream_status: '404' });
    // The health probe is not logged: it would drown the access log in probe lines.
    expect(lines.some((l) => l.includes('nginx-healthz'))).toBe(false);
    // The exporter sidecar's stub_status (metrics.nginx), on its own loopback server, unlogged.
    const stub = await (await fetch(`http://127.0.0.1:${statusPort}/stub_status`)).text();
    expect(stub).toMatch(/^Active connections: \d+/);
    expect(lines.some((l) => l.includes('stub_status'))).toBe(false);
  });
});
