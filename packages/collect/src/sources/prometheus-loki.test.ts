import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type Series } from '@hindsight/core';
import { collect } from '../collect.js';
import { prometheusSource } from './prometheus.js';
import { lokiSource } from './loki.js';
import { httpServer, sendJson, tempDir, type TestHttpServer } from '../test-support.js';

const FROM = Date.parse('2026-11-25T10:00:00Z');
const TO = FROM + 10 * 60_000;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let server: TestHttpServer;

// Answers as Prometheus (https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries)
// and Loki (https://grafana.com/docs/loki/latest/reference/loki-http-api/#query-logs-within-a-range-of-time) do.
beforeAll(async () => {
  tmp = await tempDir('hs-collect-prom-');
  server = await httpServer((url, _req, res) => {
    const q = url.searchParams.get('query') ?? '';
    if (url.pathname === '/api/v1/query_range') {
      if (q === 'bad(')
        return sendJson(res, 400, { status: 'error', errorType: 'bad_data', error: 'parse error' });
      const start = Number(url.searchParams.get('start'));
      return sendJson(res, 200, {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: { __name__: 'http_requests_total', job: 'shop', pod: 'shop-0' },
              values: [
                [start, '10'],
                [start + 60, '25'],
              ],
            },
            {
              metric: { __name__: 'http_requests_total', job: 'shop', pod: 'shop-1' },
              values: [[start + 60, '7']],
            },
          ],
        },
      });
    }
    if (url.pathname === '/loki/api/v1/query_range') {
      const start = BigInt(url.searchParams.get('start') ?? '0');
      const limit = Number(url.searchParams.get('limit'));
      // 7000 lines in all from one stream, two per nanosecond: more than one page of `limit`, and
      // the page boundary falls between two lines of the same nanosecond.
      const all = Array.from({ length: 7000 }, (_, i) => ({
        t: BigInt(FROM + 1000 + Math.floor((i + 1) / 2) * 50) * 1_000_000n,
        i,
      }));
      const page = all.filter((e) => e.t >= start).slice(0, limit);
      return sendJson(res, 200, {
        status: 'success',
        data: {
          resultType: 'streams',
          result: [
            {
              stream: { namespace: 'shop', pod: 'shop-7d9f-abcde', container: 'shop' },
              values: page.map((e) => [
                String(e.t),
                `{"msg":"request ${e.i}","token":"tok_${e.t}","url":"redis://:pw123@r:6379"}`,
              ]),
            },
          ],
          stats: {},
        },
      });
    }
    sendJson(res, 404, { status: 'error', error: 'not found' });
  });
});
afterAll(async () => {
  await server?.close();
  await tmp?.cleanup();
});

describe('prometheus and loki sources against an HTTP server answering their documented API', () => {
  it('writes query_range matrices as series with their labels', async () => {
    const out = `${tmp.dir}/prom`;
    const r = await collect({
      output: out,
      window: { from: new Date(FROM), to: new Date(TO) },
      prometheus: server.url,
      promql: ['http_requests_total{job="shop"}'],
      sources: [prometheusSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'prometheus', status: 'ok', items: 2 });
    expect(await validateBundle(out)).toEqual([]);
    const series: Series[] = [];
    for await (const s of (await openBundle(out)).series()) series.push(s);
    expect(series[0]).toEqual({
      name: 'http_requests_total',
      labels: { job: 'shop', pod: 'shop-0', source: 'prometheus' },
      kind: 'counter',
      points: [
        [FROM, 10],
        [FROM + 60_000, 25],
      ],
    });
    const asked = server.requests.find((u) => u.pathname === '/api/v1/query_range');
    expect(asked?.searchParams.get('start')).toBe(String(FROM / 1000));
    expect(asked?.searchParams.get('step')).toBe('1s');
  });

  it('records a failed query and still runs the others', async () => {
    const r = await collect({
      output: `${tmp.dir}/prom-bad`,
      window: { from: new Date(FROM), to: new Date(TO) },
      prometheus: server.url,
      promql: ['bad(', 'up'],
      sources: [prometheusSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'prometheus', status: 'partial', items: 2 });
    expect(r.warnings[0]?.message).toMatch(/HTTP 400/);
  });

  it('pages through Loki streams into container logs, redacting secrets in the lines', async () => {
    const out = `${tmp.dir}/loki`;
    const r = await collect({
      output: out,
      window: { from: new Date(FROM), to: new Date(TO) },
      loki: server.url,
      logql: ['{namespace="shop"}'],
      sources: [lokiSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'loki', status: 'ok', items: 7000 });
    expect(await validateBundle(out)).toEqual([]);
    const b = await openBundle(out);
    const [ref] = await b.logs();
    expect(ref?.file).toBe('logs/shop/shop-7d9f-abcde/shop.log');
    let n = 0;
    let prev = 0;
    for await (const line of b.readLog(ref!)) {
      expect(line.time).toBeGreaterThanOrEqual(prev);
      expect(line.text).toContain(`request ${n}"`);
      expect(line.text).not.toMatch(/tok_|pw123/);
      prev = line.time;
      n++;
    }
    expect(n).toBe(7000);
    expect(server.requests.filter((u) => u.pathname === '/loki/api/v1/query_range')).toHaveLength(2);
  });

  it('records a Loki that is down as a failed source in a valid bundle', async () => {
    const dead = await httpServer(() => undefined);
    const url = dead.url;
    await dead.close();
    const out = `${tmp.dir}/loki-down`;
    const r = await collect({
      output: out,
      window: { from: new Date(FROM), to: new Date(TO) },
      loki: url,
      logql: ['{app="x"}'],
      sources: [lokiSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'loki', status: 'failed' });
    expect(await validateBundle(out)).toEqual([]);
  });
});
