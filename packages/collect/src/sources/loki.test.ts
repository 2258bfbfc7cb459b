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
    expect(await validateBundle(out)).toEqual([]);
  });
});
