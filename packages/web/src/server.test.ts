import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWriter } from '@hindsight/core';
// The built package, as the CLI runs it: the investigation runs in a worker loaded from dist/.
import {
  startServer,
  type Overview,
  type SeriesData,
  type TemplateInfoView,
  type TemplateLine,
  type TemplateRates,
  type TimelineItem,
  type WebServer,
} from '@hindsight/web';

const corruptFixture = fileURLToPath(
  new URL('../../../test/fixtures/redis-replicas-2-to-6-corrupt.tar.gz', import.meta.url),
);
const t0 = Date.parse('2026-03-02T10:00:00Z');
const MIN = 60_000;
let tmp: string;
let bundle: string;
let server: WebServer;

async function writeBundle(dir: string): Promise<void> {
  const w = await BundleWriter.create(dir, { window: { from: new Date(t0), to: new Date(t0 + 20 * MIN) } });
  await w.addChange({
    id: 'shop-6',
    time: new Date(t0 + 10 * MIN).toISOString(),
    kind: 'helm',
    target: 'shop',
    release: 'shop',
    fromRevision: 5,
    toRevision: 6,
    diff: [{ path: 'redis.replica.replicaCount', from: 2, to: 6 }],
  });
  await w.addChange({
    time: new Date(t0 + 15 * MIN).toISOString(),
    kind: 'configmap',
    target: 'nginx-conf',
    diff: [],
  });
  await w.addEvent({
    time: new Date(t0 + 10 * MIN + 5000).toISOString(),
    object: { kind: 'Pod', name: 'redis-replica-3' },
    reason: 'Started',
    message: 'Started container redis',
    type: 'Normal',
    count: 1,
    component: 'redis',
  });
  for (const [name, component] of [
    ['shop-7d9f8-abcde', 'shop'],
    ['shop-7d9f8-fghij', 'shop'],
  ] as const) {
    await w.addPod({ namespace: 'shop', name, component, workload: 'shop', labels: {}, containers: [] });
  }
  const times = Array.from({ length: 41 }, (_, i) => t0 + i * 30_000);
  await w.addSeries({
    name: 'redis_commands_total',
    labels: { source: 'redis', component: 'redis', pod: 'redis-master-0' },
    kind: 'counter',
    // 10/s, then 30/s from the change on.
    points: times.map((t) => [
      t,
      t <= t0 + 10 * MIN ? (t - t0) / 100 : 6000 + ((t - t0 - 10 * MIN) * 3) / 100,
    ]),
  });
  await w.addSeries({
    name: 'redis_connected_slaves',
    labels: { source: 'redis', component: 'redis', pod: 'redis-master-0' },
    kind: 'gauge',
    points: times.map((t) => [t, t < t0 + 10 * MIN ? 2 : 6]),
  });
  for (const pod of ['shop-7d9f8-abcde', 'shop-7d9f8-fghij']) {
    const log = await w.openLog({ namespace: 'shop', pod, container: 'shop', previous: false });
    for (let t = t0; t < t0 + 20 * MIN; t += 10_000) {
      await log.write(t, JSON.stringify({ level: 30, msg: 'session read', session: `s${t % 977}` }));
      if (t >= t0 + 10 * MIN) await log.write(t + 1, JSON.stringify({ level: 40, msg: 'session missing' }));
    }
  }
  await w.finish();
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function json<T>(server: WebServer, p: string): Promise<T> {
  const r = await get(new URL(p, server.url).href);
  expect(r.status, r.body).toBe(200);
  return JSON.parse(r.body) as T;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-web-'));
  bundle = path.join(tmp, 'story');
  await writeBundle(bundle);
  server = await startServer({ bundle });
  await server.ready;
});

afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('hindsight serve API', () => {
  it('listens on loopback only, on a port it picked', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('serves the overview with the investigation report', async () => {
    const o = await json<Overview>(server, '/api/overview');
    expect(o.state).toBe('ready');
    if (o.state !== 'ready') return;
    expect(o.components).toEqual(expect.arrayContaining(['redis', 'shop']));
    expect(o.counts.changes).toBe(2);
    expect(o.counts.logLines).toBe(2 * (120 + 60));
    const report = o.report as { schema: string; hypotheses: Array<{ cause: { changeId?: string } }> };
    expect(report.schema).toBe('hindsight-report');
    expect(report.hypotheses[0]?.cause.changeId).toBe('shop-6');
  });

  it('investigates with the incident time it is given', async () => {
    const at = t0 + 12 * MIN;
    const s = await startServer({ bundle, incidentAt: at });
    try {
      await s.ready;
      const o = await json<Overview>(s, '/api/overview');
      expect(o.state).toBe('ready');
      if (o.state !== 'ready') return;
      expect((o.report as { incident?: { at: string } }).incident?.at).toBe(new Date(at).toISOString());
    } finally {
      await s.close();
    }
  });

  it('lists changes, events and report anomalies on one timeline, filtered by component', async () => {
    const all = await json<{ items: TimelineItem[] }>(server, '/api/timeline');
    expect(all.items.map((i) => i.kind)).toEqual(['change', 'event', 'change']);
    expect(all.items[0]?.ref).toEqual({ change: 'shop-6' });
    const shop = await json<{ items: TimelineItem[] }>(server, '/api/timeline?component=shop');
    expect(shop.items.some((i) => i.component === 'redis')).toBe(false);
  });

  it('serves any series by name and labels, counters as per-second rates', async () => {
    const r = await json<{ series: SeriesData[] }>(
      server,
      '/api/series?name=redis_commands_total&label.pod=redis-master-0',
    );
    const s = r.series[0] as SeriesData;
    expect(s.rate).toBe(true);
    expect(s.key).toBe('redis_commands_total{component=redis,pod=redis-master-0}');
    expect(s.data[0]?.[1]).toBeCloseTo(10);
    expect(s.data[s.data.length - 1]?.[1]).toBeCloseTo(30);
    const byKey = await json<{ series: SeriesData[] }>(
      server,
      `/api/series?key=${encodeURIComponent(s.key)}`,
    );
    expect(byKey.series[0]?.points).toBe(41);
    expect(
      (await get(new URL('/api/series?name=redis_commands_total&label.pod=nope', server.url).href)).status,
    ).toBe(404);
  });

  it("serves a template's rates per pod and the lines behind it with their pods", async () => {
    const { templates } = await json<{ templates: TemplateInfoView[] }>(
      server,
      '/api/templates?component=shop',
    );
    const missing = templates.find((t) => t.template.includes('session missing')) as TemplateInfoView;
    expect(missing.count).toBe(120);
    expect(missing.pods).toEqual({ 'shop-7d9f8-abcde': 60, 'shop-7d9f8-fghij': 60 });
    const rates = await json<TemplateRates>(server, `/api/templates/${missing.id}/rates`);
    expect(rates.pods.map((p) => p.pod)).toEqual(['shop-7d9f8-abcde', 'shop-7d9f8-fghij']);
    const perPod = rates.pods[0]?.data ?? [];
    expect(perPod.find(([t]) => t === t0 + 5 * MIN)?.[1]).toBe(0);
    expect(perPod.find(([t]) => t === t0 + 15 * MIN)?.[1]).toBeCloseTo(0.1);
    const lines = await json<{ lines: TemplateLine[]; truncated: boolean }>(
      server,
      `/api/templates/${missing.id}/lines?pod=shop-7d9f8-fghij&limit=5`,
    );
    expect(lines.truncated).toBe(true);
    expect(lines.lines).toHaveLength(5);
    expect(lines.lines.every((l) => l.pod === 'shop-7d9f8-fghij' && l.text.includes('session missing'))).toBe(
      true,
    );
    // Findings name templates `log:<workload>/<container>:<id>`; the server resolves that too.
    const viaSignal = await json<TemplateRates>(
      server,
      `/api/templates/${encodeURIComponent(`log:${missing.group}:${missing.id}`)}/rates`,
    );
    expect(viaSignal.template.id).toBe(missing.id);
  });

  it("serves a change's diff", async () => {
    const r = await json<{ change: { diff: unknown[]; toRevision: number } }>(server, '/api/changes/shop-6');
    expect(r.change.diff).toEqual([{ path: 'redis.replica.replicaCount', from: 2, to: 6 }]);
    const unnamed = await json<{ changes: Array<{ id: string }> }>(server, '/api/changes');
    expect(unnamed.changes[1]?.id).toBe('configmap:nginx-conf:2026-03-02T10:15:00.000Z');
  });

  it('refuses requests addressed to another host name (DNS rebinding) and paths outside the app', async () => {
    const r = await get(new URL('/api/overview', server.url).href, { host: 'attacker.example:80' });
    expect(r.status).toBe(403);
    const t = await get(new URL('/..%2f..%2fpackage.json', server.url).href);
    expect(t.status).toBe(404);
  });

  it('answers a malformed percent-escape with 400, not an internal error', async () => {
    for (const p of ['/%', '/api/changes/%E0%A4%A', '/api/templates/%zz/rates', '/app/%C0']) {
      const r = await get(new URL(p, server.url).href);
      expect([p, r.status]).toEqual([p, 400]);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'HINDSIGHT_USAGE' } });
    }
  });
});

/**
 * A window of 20 minutes after a baseline period an hour earlier: `cache warmed` is logged in the
 * baseline alone, `session read` in both, `session missing` in the window alone.
 */
async function writeBaselineBundle(dir: string): Promise<void> {
  const w = await BundleWriter.create(dir, { window: { from: new Date(t0), to: new Date(t0 + 20 * MIN) } });
  w.setBaseline({ from: new Date(t0 - 60 * MIN), to: new Date(t0 - 40 * MIN) });
  await w.addPod({
    namespace: 'shop',
    name: 'shop-7d9f8-abcde',
    component: 'shop',
    workload: 'shop',
    labels: {},
    containers: [],
  });
  const log = await w.openLog({
    namespace: 'shop',
    pod: 'shop-7d9f8-abcde',
    container: 'shop',
    previous: false,
  });
  for (let t = t0 - 60 * MIN; t < t0 - 40 * MIN; t += 10_000) {
    await log.write(t, JSON.stringify({ level: 30, msg: 'cache warmed', entries: t % 997 }));
    await log.write(t + 1, JSON.stringify({ level: 30, msg: 'session read', session: `s${t % 977}` }));
  }
  for (let t = t0; t < t0 + 20 * MIN; t += 10_000) {
    await log.write(t, JSON.stringify({ level: 30, msg: 'session read', session: `s${t % 977}` }));
    if (t >= t0 + 10 * MIN) await log.write(t + 1, JSON.stringify({ level: 40, msg: 'session missing' }));
  }
  await w.finish();
}

describe('hindsight serve, log templates', () => {
  it('opens the template of every log finding in the report, as the investigation mined it', async () => {
    const o = await json<Overview>(server, '/api/overview');
    if (o.state !== 'ready') throw new Error(`not ready: ${o.state}`);
    const signals = (o.report?.findings ?? []).map((f) => f.signal).filter((s) => s.startsWith('log:'));
    expect(signals.length).toBeGreaterThan(0);
    for (const signal of signals) {
      const rates = await json<TemplateRates>(server, `/api/templates/${encodeURIComponent(signal)}/rates`);
      expect(signal.endsWith(`:${rates.template.id}`)).toBe(true);
    }
  });

  it('shows the same templates when the view mines the logs itself (no investigation)', async () => {
    const s = await startServer({ bundle, investigate: false });
    try {
      await s.ready;
      const mined = await json<{ templates: TemplateInfoView[] }>(s, '/api/templates');
      const investigated = await json<{ templates: TemplateInfoView[] }>(server, '/api/templates');
      expect(mined.templates).toEqual(investigated.templates);
      const id = investigated.templates[0]?.id as string;
      expect(await json<TemplateRates>(s, `/api/templates/${id}/rates`)).toEqual(
        await json<TemplateRates>(server, `/api/templates/${id}/rates`),
      );
    } finally {
      await s.close();
    }
  });

  it.each([
    ['mined by the investigation', undefined],
    ['mined by the view', false as const],
  ])("shows the window's templates and lines, not the baseline period's (%s)", async (_, investigate) => {
    const dir = path.join(tmp, `baseline-${investigate === false ? 'view' : 'investigation'}`);
    await writeBaselineBundle(dir);
    const s = await startServer({ bundle: dir, ...(investigate === false ? { investigate } : {}) });
    try {
      const o = await s.ready;
      if (o.state !== 'ready') throw new Error(`not ready: ${JSON.stringify(o)}`);
      expect(o.counts.logLines).toBe(2 * 120 + 120 + 60);
      const { templates } = await json<{ templates: TemplateInfoView[] }>(s, '/api/templates');
      expect(templates.map((t) => t.template).sort()).toEqual([
        expect.stringContaining('session missing'),
        expect.stringContaining('session read'),
      ]);
      expect(o.counts.templates).toBe(2);
      const read = templates.find((t) => t.template.includes('session read')) as TemplateInfoView;
      expect(read.count).toBe(120);
      const lines = await json<{ lines: TemplateLine[]; truncated: boolean }>(
        s,
        `/api/templates/${read.id}/lines?limit=2000`,
      );
      expect(lines.lines).toHaveLength(120);
      expect(lines.lines.every((l) => l.timeMs >= t0)).toBe(true);
      const rates = await json<TemplateRates>(s, `/api/templates/${read.id}/rates`);
      const data = rates.pods[0]?.data ?? [];
      expect(data[0]?.[0]).toBe(t0);
      expect(data.reduce((sum, [, v]) => sum + (v ?? 0) * (rates.bucketMs / 1000), 0)).toBeCloseTo(120);
    } finally {
      await s.close();
    }
  });
});

describe('hindsight serve, when things go wrong', () => {
  it('reports a bundle that cannot be read as an error state with its code', async () => {
    const s = await startServer({ bundle: path.join(tmp, 'nope') });
    try {
      const o = await s.ready;
      expect(o).toMatchObject({
        state: 'error',
        error: { code: 'HINDSIGHT_BUNDLE_MISSING', message: 'bundle not found' },
      });
      const r = await get(new URL('/api/timeline', s.url).href);
      expect(r.status).toBe(500);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'HINDSIGHT_BUNDLE_MISSING' } });
    } finally {
      await s.close();
    }
  });

  it('still serves the data when the investigation fails, with a warning', async () => {
    const s = await startServer({
      bundle,
      investigate: () => Promise.reject(new Error('analyzer exploded')),
    });
    try {
      const o = await s.ready;
      expect(o.state).toBe('ready');
      if (o.state !== 'ready') return;
      expect(o.report).toBeNull();
      expect(o.warnings.some((w) => w.message.includes('analyzer exploded'))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it.skipIf(!existsSync(corruptFixture))(
    'serves a bundle with corrupt parts, listing each problem once',
    async () => {
      const s = await startServer({ bundle: corruptFixture });
      try {
        const o = await s.ready;
        expect(o.state).toBe('ready');
        if (o.state !== 'ready') return;
        expect((o.report as { hypotheses: unknown[] }).hypotheses.length).toBeGreaterThan(0);
        const where = o.warnings.map((w) => w.where ?? w.name);
        expect(where).toEqual(expect.arrayContaining(['series/redis.jsonl:24']));
        expect(new Set(where.map((w, i) => `${w}|${o.warnings[i]?.message}`)).size).toBe(where.length);
      } finally {
        await s.close();
      }
    },
  );

  it('says the app is not built instead of answering a blank page', async () => {
    const s = await startServer({ bundle, appDir: path.join(tmp, 'no-app'), investigate: false });
    try {
      const r = await get(s.url);
      expect(r.status).toBe(500);
      expect(r.body).toMatch(/web app is not built/);
    } finally {
      await s.close();
    }
  });
});
