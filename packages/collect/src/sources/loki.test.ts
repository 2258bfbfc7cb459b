import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle } from '@hindsight/core';
import { collect } from '../collect.js';
import { lokiSource } from './loki.js';
import { httpServer, sendJson, tempDir, type TestHttpServer } from '../test-support.js';

const FROM = Date.parse('2026-11-25T10:00:00Z');
const TO = FROM + 10 * 60_000;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let server: TestHttpServer;

// Answers as Loki (https://grafana.com/docs/loki/latest/reference/loki-http-api/#query-logs-within-a-range-of-time) do.
beforeAll(async () => {
  tmp = await tempDir('hs-collect-loki-');
  server = await httpServer((url, _req, res) => {
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

describe('loki source against an HTTP server answering its documented API', () => {
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
    // Tried 4 times (waits of at most 0.5, 1 and 2 s), once for the source, not for each query.
    expect(r.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Loki at ${url} is unreachable \\(ECONNREFUSED\\) after 4 tries over \\d+\\.\\d s: check --loki$`,
        ),
      ),
    ]);
    expect(await validateBundle(out)).toEqual([]);
  });

  it('reads everything when Loki answers 502 and drops a connection first, and says it retried', async () => {
    let n = 0;
    const flaky = await httpServer((url, _req, res) => {
      n += 1;
      if (n === 1) return sendJson(res, 502, { message: 'bad gateway' });
      if (n === 2) return res.socket?.destroy();
      if (url.pathname === '/loki/api/v1/index/volume')
        return sendJson(res, 200, { status: 'success', data: { result: [] } });
      return sendJson(res, 200, {
        status: 'success',
        data: {
          resultType: 'streams',
          result: [
            {
              stream: { namespace: 'shop', pod: 'p', container: 'c' },
              values: [[String(BigInt(FROM + 1000) * 1_000_000n), 'one line']],
            },
          ],
        },
      });
    });
    try {
      const r = await collect({
        output: `${tmp.dir}/loki-flaky`,
        window: { from: new Date(FROM), to: new Date(TO) },
        loki: flaky.url,
        logql: ['{namespace="shop"}'],
        sources: [lokiSource],
      });
      expect(r.manifest.sources[0]).toMatchObject({ name: 'loki', status: 'ok', items: 1 });
      expect(r.warnings).toEqual([]);
      expect(r.manifest.notes).toEqual([
        expect.stringMatching(
          new RegExp(
            `^loki: 2 retries after transient failures \\(HTTP 502 x1, (ECONNRESET|UND_ERR_SOCKET) x1\\) at ${flaky.url}$`,
          ),
        ),
      ]);
    } finally {
      await flaky.close();
    }
  });
});

// Loki itself cannot run here: the volume and patterns answers follow the examples of
// https://grafana.com/docs/loki/latest/reference/loki-http-api/#query-log-volume and #patterns-detection.
describe('loki source with a line budget (--loki-max-lines)', () => {
  const SHOP = { namespace: 'shop', pod: 'shop-0', container: 'shop' };
  const NGINX = { namespace: 'shop', pod: 'nginx-0', container: 'nginx' };
  const nginxLines = Array.from({ length: 1000 }, (_, i) => ({
    t: BigInt(FROM + i * 600) * 1_000_000n,
    line: `GET /cart ${i} 200`,
  }));
  const shopLines = Array.from({ length: 10 }, (_, i) => ({
    t: BigInt(FROM + i * 60_000) * 1_000_000n,
    line: `{"msg":"order ${i}"}`,
  }));
  let budget: TestHttpServer;
  beforeAll(async () => {
    budget = await httpServer((url, _req, res) => {
      const q = url.searchParams.get('query') ?? '';
      if (url.pathname === '/loki/api/v1/index/volume')
        return sendJson(res, 200, {
          status: 'success',
          data: {
            resultType: 'vector',
            result: [
              { metric: NGINX, value: [FROM / 1000, String(1000 * 150)] },
              { metric: SHOP, value: [FROM / 1000, String(10 * 150)] },
            ],
          },
        });
      if (url.pathname === '/loki/api/v1/patterns')
        return sendJson(res, 200, {
          status: 'success',
          data: [
            {
              pattern: 'GET /cart <_> 200',
              samples: [
                [FROM / 1000, 990],
                [FROM / 1000 + 60, 5],
              ],
            },
            { pattern: 'GET /cart <_> 502', samples: [[FROM / 1000 + 60, 5]] },
          ],
        });
      if (url.pathname === '/loki/api/v1/query_range') {
        const start = BigInt(url.searchParams.get('start') ?? '0');
        const end = BigInt(url.searchParams.get('end') ?? '0');
        const limit = Number(url.searchParams.get('limit'));
        const [labels, lines] = q.includes('nginx') ? [NGINX, nginxLines] : [SHOP, shopLines];
        const page = lines.filter((e) => e.t >= start && e.t < end).slice(0, limit);
        return sendJson(res, 200, {
          status: 'success',
          data: {
            resultType: 'streams',
            result: [{ stream: labels, values: page.map((e) => [String(e.t), e.line]) }],
          },
        });
      }
      sendJson(res, 404, { status: 'error', error: 'not found' });
    });
  });
  afterAll(async () => {
    await budget?.close();
  });

  it('asks the volume API first, reads small streams whole, and samples big ones with their template counts', async () => {
    const out = `${tmp.dir}/loki-budget`;
    const r = await collect({
      output: out,
      window: { from: new Date(FROM), to: new Date(TO) },
      loki: budget.url,
      logql: ['{namespace="shop"}'],
      lokiMaxLines: 20,
      sources: [lokiSource],
    });
    expect(await validateBundle(out)).toEqual([]);
    expect(budget.requests[0]?.pathname).toBe('/loki/api/v1/index/volume');
    const b = await openBundle(out);
    const count = async (file: string): Promise<number[]> => {
      const ref = (await b.logs()).find((x) => x.file === file);
      const times: number[] = [];
      if (ref) for await (const l of b.readLog(ref)) times.push(l.time);
      return times;
    };
    expect(await count('logs/shop/shop-0/shop.log')).toHaveLength(10);
    const nginx = await count('logs/shop/nginx-0/nginx.log');
    expect(nginx.length).toBeLessThanOrEqual(20);
    // Spread over the window, not its first lines.
    expect(new Set(nginx.map((t) => Math.floor((t - FROM) / 60_000))).size).toBe(10);
    const patterns: string[] = [];
    for await (const s of b.series())
      if (s.name === 'loki_pattern_lines') patterns.push(s.labels['pattern'] ?? '');
    expect(patterns.sort()).toEqual(['GET /cart <_> 200', 'GET /cart <_> 502']);
    expect(r.manifest.sources[0]).toMatchObject({ name: 'loki', status: 'partial' });
    expect(r.manifest.sources[0]?.error).toMatch(
      /past --loki-max-lines 20, 1 streams sampled: .*nginx-0.*2 templates and 20 lines sampled/,
    );
    expect(r.manifest.notes?.some((n) => n.startsWith('loki: past --loki-max-lines 20'))).toBe(true);
  });
});
