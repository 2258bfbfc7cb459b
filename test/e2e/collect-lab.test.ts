// `hindsight collect` against the lab: real redis-server (master and replicas), PostgreSQL and nginx
// run from the chart, read through the lab's read-only Kubernetes API with the kubeconfig it writes;
// the shop's spans from the lab's trace receiver through its Tempo API.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type Manifest, type Series, type Span } from '@hindsight/core';
import { BundleData, latencyAnalyzer, type Finding } from '@hindsight/investigate';
import { Lab, type LabStatus } from '@hindsight/lab';
import { filesContaining } from '@hindsight/collect/testing';
import { hindsight } from './helpers.js';

let dir: string;
let lab: Lab;
let status: LabStatus;
let out: string;
let pgPassword: string;
let result: { code: number; stdout: string; stderr: string };
const series: Series[] = [];
const spans: Span[] = [];
// The requests before and while a lock held the products table: where the latency analyzer splits.
let calm: { from: number; to: number };
let locked: { from: number; to: number };

async function waitFor(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hs-e2e-collect-lab-'));
  lab = new Lab({ dir: path.join(dir, 'lab'), timeScale: 0.2, tracing: true });
  await lab.up();
  await lab.upgrade({ set: ['redis.replica.replicaCount=3'] });
  await waitFor(async () => {
    const s = await lab.status();
    return s.pods.filter((p) => p.name.startsWith('shop-redis-replica-') && p.ready).length === 3;
  }, 'three ready replicas');
  status = await lab.status();
  const products = () => fetch(`${status.nginxUrl}/products`).then((r) => r.arrayBuffer());
  calm = { from: Date.now(), to: 0 };
  for (let i = 0; i < 20; i++) await products();
  calm.to = Date.now();
  // The PostgreSQL password is in the release's Secret, as in a cluster; read it as a user would.
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(status.kubeconfig);
  const secret = await kc
    .makeApiClient(k8s.CoreV1Api)
    .readNamespacedSecret({ name: `${status.release}-shop`, namespace: status.namespace });
  pgPassword = Buffer.from(secret.data?.['postgres-password'] ?? '', 'base64').toString('utf8');
  const port = (name: string): number => {
    const svc = status.services.find((s) => s.name === name);
    if (!svc) throw new Error(`no service ${name} in the lab`);
    return svc.localPort;
  };
  // A slow dependency: a transaction holds the products table for a second and a half, so the
  // shop's queries of it wait (well inside its 5 s statement_timeout).
  const db = new pg.Client({
    host: '127.0.0.1',
    port: port(`${status.release}-postgresql`),
    user: 'shop',
    password: pgPassword,
    database: 'shop',
  });
  await db.connect();
  try {
    await db.query('BEGIN');
    await db.query('LOCK TABLE products IN ACCESS EXCLUSIVE MODE');
    locked = { from: Date.now(), to: 0 };
    const waiting = Array.from({ length: 8 }, products);
    await new Promise((r) => setTimeout(r, 1500));
    await db.query('COMMIT');
    await Promise.all(waiting);
    locked.to = Date.now();
  } finally {
    await db.end();
  }
  // The shop's exporter sends a batch every 5 s: wait until the receiver holds every request's trace.
  const start = Math.floor(calm.from / 1000);
  await waitFor(
    async () => {
      const res = await fetch(
        `${status.tracesUrl}/api/search?tags=service.name%3Dshop&start=${start}&end=${start + 600}&limit=100`,
      );
      return ((await res.json()) as { traces: unknown[] }).traces.length >= 28;
    },
    'the spans of 28 requests at the lab trace receiver',
    15_000,
  );
  out = path.join(dir, 'bundle');
  result = await hindsight(
    [
      'collect',
      '--kubeconfig',
      status.kubeconfig,
      '-n',
      status.namespace,
      '--since',
      '15m',
      '--redis',
      `redis://127.0.0.1:${port(`${status.release}-redis-master`)}`,
      '--postgres',
      `postgres://shop:${encodeURIComponent(pgPassword)}@127.0.0.1:${port(`${status.release}-postgresql`)}/shop`,
      '--tempo',
      status.tracesUrl ?? '',
      '--out-dir',
      out,
    ],
    {},
    240_000,
  );
  for await (const s of (await openBundle(out)).series()) series.push(s);
  for await (const s of (await openBundle(out)).spans()) spans.push(s);
}, 300_000);
afterAll(async () => {
  await lab?.down({ purge: true }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('hindsight collect against the lab', () => {
  it('collects every source into a bundle that validates', async () => {
    expect(result.stderr).not.toMatch(/warning/);
    expect(result.code).toBe(0);
    const m: Manifest = (await openBundle(out)).manifest;
    expect(m.sources.map((s) => [s.name, s.status])).toEqual([
      ['kubernetes', 'ok'],
      ['helm', 'ok'],
      ['redis', 'ok'],
      ['postgres', 'ok'],
      ['nginx', 'ok'],
      ['tempo', 'ok'],
    ]);
    expect(await validateBundle(out)).toEqual([]);
  });

  it('holds the pods and their logs', async () => {
    const b = await openBundle(out);
    const pods = (await b.pods()).map((p) => p.name);
    for (const p of status.pods) expect(pods).toContain(p.name);
    const logs = (await b.logs()).map((l) => l.pod);
    expect(logs).toContain(`${status.release}-redis-master-0`);
    expect(logs.some((p) => p.startsWith(`${status.release}-shop-`))).toBe(true);
  });

  it('holds the release revision with its values diff and the replica change', async () => {
    const changes = await (await openBundle(out)).changes();
    const rev2 = changes.find((c) => c.kind === 'helm' && c.toRevision === 2);
    expect(rev2?.diff).toContainEqual(expect.objectContaining({ path: 'redis.replica.replicaCount', to: 3 }));
    expect(
      changes.find((c) => c.kind === 'scale' && c.target === `StatefulSet/${status.release}-redis-replica`)
        ?.diff,
    ).toEqual([{ path: 'spec.replicas', from: 2, to: 3 }]);
  });

  it('holds Redis series from the master and each replica, and PostgreSQL and nginx series', () => {
    const nodes = series.filter((s) => s.name === 'redis_connected_clients').map((s) => s.labels['role']);
    expect(nodes.sort()).toEqual(['master', 'replica', 'replica', 'replica']);
    expect(series.some((s) => s.name === 'pg_database_xact_commit')).toBe(true);
    // No --nginx-pod: the nginx pods are found by their component label.
    const requests = series.find((s) => s.name === 'nginx_requests');
    expect(requests?.labels['pod']).toBe(status.pods.find((p) => p.component === 'nginx')?.name);
    expect((requests?.points ?? []).reduce((a, [, v]) => a + v, 0)).toBeGreaterThanOrEqual(20);
  });

  it('writes no password to disk', async () => {
    expect(pgPassword.length).toBeGreaterThan(0);
    expect(await filesContaining(out, pgPassword)).toEqual([]);
  });

  it("holds the shop's spans from the lab's trace receiver, and the latency analyzer finds the query that waited", async () => {
    const served = spans.filter(
      (s) => s.component === 'shop' && s.operation === 'GET /products' && s.kind === 'server',
    );
    expect(served.length).toBeGreaterThanOrEqual(28);
    const shopPods = status.pods.filter((p) => p.component === 'shop').map((p) => p.name);
    expect(new Set(served.map((s) => s.pod))).toEqual(new Set(shopPods));
    // The query is a child in the request's trace (pg's client span, under Fastify's handler).
    const byId = new Map(spans.map((s) => [s.span, s]));
    const query = spans.find((s) => s.kind === 'client' && /^pg\.query/.test(s.operation));
    let up = query;
    while (up?.parent !== undefined) up = byId.get(up.parent);
    expect(up?.operation).toBe('GET /products');
    // The window from the calm requests to the locked ones: its first third is the reference.
    const span = locked.to + 500 - calm.from;
    const window = { from: Math.min(calm.from - 200, locked.from - (2 * span) / 3), to: 0 };
    window.to = window.from + 3 * (locked.from - 100 - window.from);
    const bundle = await openBundle(out);
    const findings: Finding[] = await latencyAnalyzer().analyze(bundle, {
      window,
      bucketMs: 1000,
      data: new BundleData(bundle, window, 1000),
    });
    const slowed = findings.find((f) => f.id === 'latency:self:shop');
    expect(slowed?.title).toMatch(/^shop's own work slowed: self time of pg\.query/);
  });
});
