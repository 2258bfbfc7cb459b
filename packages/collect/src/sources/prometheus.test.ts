import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type BundleWriter, type Series } from '@hindsight/core';
import { collect } from '../collect.js';
import type { Source } from '../source.js';
import { prometheusSource } from './prometheus.js';
import { httpServer, shopServers, tempDir, type TestHttpServer } from '../test-support.js';
import { startKubeApi } from '../kube-fixture.js';

// A real Prometheus (Debian's `prometheus`, set up by scripts/setup.sh) scraping a real
// redis_exporter (`prometheus-redis-exporter`) in front of a real redis-server, every second.
type RedisSet = Awaited<ReturnType<Awaited<ReturnType<typeof shopServers>>['startRedisReplicaSet']>>;
let redis: RedisSet;
let tmp: Awaited<ReturnType<typeof tempDir>>;
const children: ChildProcess[] = [];
let promUrl = '';
let started = 0;

function start(cmd: string, args: string[]): void {
  const child = spawn(cmd, args, { stdio: 'ignore' });
  children.push(child);
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  started = Date.now();
  const servers = await shopServers();
  redis = await servers.startRedisReplicaSet({ replicas: 0 });
  tmp = await tempDir('hs-collect-prometheus-');
  const exporterPort = await servers.freePort();
  const promPort = await servers.freePort();
  start('prometheus-redis-exporter', [
    '-redis.addr',
    `redis://127.0.0.1:${redis.master.port}`,
    '-web.listen-address',
    `127.0.0.1:${exporterPort}`,
  ]);
  // The targets carry the labels Kubernetes service discovery gives them: the redis exporter is in
  // the namespace in scope, Prometheus itself in another, which must not be read.
  const config = `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: redis
    static_configs:
      - targets: ['127.0.0.1:${exporterPort}']
        labels: { namespace: shop, pod: shop-redis-master-0 }
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:${promPort}']
        labels: { namespace: monitoring, pod: prometheus-0 }
`;
  await writeFile(`${tmp.dir}/prometheus.yml`, config);
  promUrl = `http://127.0.0.1:${promPort}`;
  start('prometheus', [
    `--config.file=${tmp.dir}/prometheus.yml`,
    `--storage.tsdb.path=${tmp.dir}/tsdb`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    // Low enough that a query over every series of the window is refused as too large.
    '--query.max-samples=20000',
  ]);
  // Prometheus opens its TSDB and WAL first: on a loaded 2-core machine that took over 10 s.
  await waitFor(
    'every target up, scraped twice',
    async () => {
      const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('count_over_time(up[1m])')}`);
      const body = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
      return body.data.result.length === 2 && body.data.result.every((s) => Number(s.value[1]) >= 2);
    },
    60_000,
  );
}, 20_000);
afterAll(async () => {
  for (const c of children) c.kill();
  await redis?.stop();
  await tmp?.cleanup();
});

async function seriesOf(dir: string): Promise<Series[]> {
  const out: Series[] = [];
  for await (const s of (await openBundle(dir)).series()) out.push(s);
  return out;
}

function window(): { from: Date; to: Date } {
  return { from: new Date(started - 5000), to: new Date(Date.now() + 1000) };
}

describe('prometheus source against a real Prometheus scraping redis_exporter', () => {
  it('reads the discovered exporter series of the namespace in scope, not the others', async () => {
    const out = `${tmp.dir}/scoped`;
    const r = await collect({
      output: out,
      window: window(),
      namespace: 'shop',
      prometheus: promUrl,
      prometheusStep: 1,
      sources: [prometheusSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'prometheus', status: 'ok' });
    expect(await validateBundle(out)).toEqual([]);
    const series = await seriesOf(out);
    const names = new Set(series.map((s) => s.name));
    expect(names).toContain('redis_up');
    expect(names).toContain('redis_connected_clients');
    expect(series.find((s) => s.name === 'up')?.labels).toMatchObject({
      pod: 'shop-redis-master-0',
      namespace: 'shop',
    });
    // Prometheus' own series are in another namespace, and not in a family asked for.
    expect(series.filter((s) => s.labels['namespace'] !== 'shop')).toEqual([]);
    expect(names).not.toContain('prometheus_tsdb_head_series');
    expect(series.find((s) => s.name === 'redis_up')?.points.length).toBeGreaterThanOrEqual(2);
    // The exporter's names for what the redis source samples itself are the bundle's, so the analyzers
    // read a Prometheus' scrapes and collect's samples alike.
    const calls = series.find((s) => s.name === 'redis_cmdstat_calls');
    expect(calls?.kind).toBe('counter');
    expect(calls?.labels).toMatchObject({
      exporter_metric: 'redis_commands_total',
      command: expect.any(String),
    });
    expect(names).not.toContain('redis_commands_total');
    expect(names).toContain('redis_sync_full');
    // The queries asked are in the manifest, so a reader knows what the series answer.
    expect(r.manifest.notes?.some((n) => n.includes('redis_.+') && n.includes('namespace="shop"'))).toBe(
      true,
    );
  });

  it('scopes by the pods a selector lists (recorded API responses): their names and workloads', async () => {
    let api: { server: TestHttpServer; kubeconfig: string } | undefined;
    try {
      api = await startKubeApi(tmp.dir);
      const kubeconfig = api.kubeconfig;
      const run = async (selector: string): Promise<Series[]> => {
        const out = `${tmp.dir}/selector-${selector.replace(/\W+/g, '-')}`;
        await collect({
          output: out,
          window: window(),
          kubeconfig,
          selector,
          prometheus: promUrl,
          prometheusStep: 1,
          sources: [prometheusSource],
        });
        return seriesOf(out);
      };
      const redisPods = await run('app.kubernetes.io/component=redis');
      expect(redisPods.find((s) => s.name === 'redis_up')?.labels).toMatchObject({
        pod: 'shop-redis-master-0',
        component: 'redis',
      });
      // The shop's pods do not include the redis exporter's: none of its series.
      expect(
        (await run('app.kubernetes.io/component=shop')).filter((s) => s.name.startsWith('redis_')),
      ).toEqual([]);
    } finally {
      await api?.server.close();
    }
  });

  it('keeps to --prometheus-max-series and says which names it left out', async () => {
    const out = `${tmp.dir}/limited`;
    const r = await collect({
      output: out,
      window: window(),
      namespace: 'shop',
      prometheus: promUrl,
      prometheusStep: 1,
      prometheusMaxSeries: 5,
      sources: [prometheusSource],
    });
    const series = await seriesOf(out);
    expect(series.length).toBeGreaterThan(0);
    expect(series.length).toBeLessThanOrEqual(5);
    expect(r.manifest.notes?.some((n) => /left out: .*redis_/.test(n))).toBe(true);
    expect(r.warnings.some((w) => w.message.includes('--prometheus-max-series 5'))).toBe(true);
  });

  it('warns of a query too large, naming it, and still reads the others', async () => {
    const huge = 'max_over_time({__name__=~"redis_.+"}[1h:1ms])';
    const r = await collect({
      output: `${tmp.dir}/huge`,
      window: window(),
      namespace: 'shop',
      prometheus: promUrl,
      prometheusStep: 1,
      promql: [huge],
      sources: [prometheusSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'prometheus', status: 'partial' });
    const w = r.warnings.find((x) => x.where?.includes(huge));
    expect(w?.message).toMatch(/HTTP 422 .*too many samples.*too large/);
    expect(w?.where).toContain(promUrl);
    expect(r.manifest.sources[0]?.items).toBeGreaterThan(0);
  });

  it('keeps NaN and Inf samples out of the bundle as gaps, and the rest of the query in', async () => {
    // A ratio of zero rates is NaN, as a quantile of no observation is: Prometheus writes "NaN".
    const r = await collect({
      output: `${tmp.dir}/nan`,
      window: window(),
      namespace: 'shop',
      prometheus: promUrl,
      prometheusStep: 1,
      promql: ['redis_up / (redis_up - 1)', 'vector(0) / vector(0)', 'redis_up * 2'],
      sources: [prometheusSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'prometheus', status: 'ok' });
    expect(await validateBundle(`${tmp.dir}/nan`)).toEqual([]);
    const asked = (await seriesOf(`${tmp.dir}/nan`)).filter((s) => s.labels['query'] !== undefined);
    expect(asked.map((s) => s.labels['query'])).toEqual(['redis_up * 2']);
  });

  it('warns of a Prometheus that is down, naming its URL, and the other sources still run', async () => {
    const dead = await httpServer(() => undefined);
    const url = dead.url;
    await dead.close();
    const other: Source = {
      name: 'other',
      flags: [],
      schema: prometheusSource.schema,
      needs: [],
      async collect(writer: BundleWriter) {
        await writer.addEvent({
          time: new Date().toISOString(),
          object: { kind: 'Pod', name: 'p' },
          reason: 'Seen',
          message: 'still collected',
          type: 'Normal',
          count: 1,
        });
        return { status: 'ok', items: 1 };
      },
    };
    const out = `${tmp.dir}/down`;
    const r = await collect({
      output: out,
      window: window(),
      namespace: 'shop',
      prometheus: url,
      sources: [prometheusSource, other],
    });
    expect(r.manifest.sources).toEqual([
      expect.objectContaining({ name: 'prometheus', status: 'failed' }),
      expect.objectContaining({ name: 'other', status: 'ok', items: 1 }),
    ]);
    expect(r.warnings.find((w) => w.name === 'prometheus')?.message).toMatch(
      new RegExp(`Prometheus at ${url} is unreachable \\(ECONNREFUSED\\)`),
    );
    expect(await validateBundle(out)).toEqual([]);
  });
});
