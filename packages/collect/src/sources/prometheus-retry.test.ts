// The prometheus source's retries, against an HTTP server on 127.0.0.1 answering Prometheus' API
// (https://prometheus.io/docs/prometheus/latest/querying/api/) after failing as a restarting one does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../collect.js';
import type { ProgressEvent } from '../source.js';
import { httpServer, sendJson, tempDir, type TestHttpServer } from '../test-support.js';
import { prometheusSource } from './prometheus.js';

const FROM = Date.parse('2026-11-25T10:00:00Z');
const window = { from: new Date(FROM), to: new Date(FROM + 10 * 60_000) };
let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('hs-prom-retry-');
});
afterAll(async () => {
  await tmp?.cleanup();
});

/** Prometheus whose first `failures` answers are 503, and whose query_range answers `queryStatus`. */
async function prometheus(failures: number, queryStatus = 200): Promise<TestHttpServer> {
  let n = 0;
  return httpServer((url, _req, res) => {
    n += 1;
    if (n <= failures)
      return sendJson(res, 503, { status: 'error', errorType: 'unavailable', error: 'starting' });
    if (url.pathname === '/api/v1/series') return sendJson(res, 200, { status: 'success', data: [] });
    if (queryStatus !== 200)
      return sendJson(res, queryStatus, {
        status: 'error',
        errorType: 'timeout',
        error: 'query timed out in expression evaluation',
      });
    sendJson(res, 200, {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [{ metric: { __name__: 'up', job: 'shop' }, values: [[FROM / 1000 + 60, '1']] }],
      },
    });
  });
}

describe('prometheus source retrying a Prometheus that fails for a moment', () => {
  it('reads everything when Prometheus answers 503 twice first, and says it retried', async () => {
    const server = await prometheus(2);
    try {
      const events: ProgressEvent[] = [];
      const r = await collect({
        output: `${tmp.dir}/flaky`,
        window,
        namespace: 'shop',
        prometheus: server.url,
        promql: ['up'],
        sources: [prometheusSource],
        onProgress: (e) => events.push(e),
      });
      expect(r.manifest.sources[0]).toMatchObject({ name: 'prometheus', status: 'ok', items: 1 });
      expect(r.warnings).toEqual([]);
      expect(r.manifest.notes).toContain(
        `prometheus: 2 retries after transient failures (HTTP 503 x2) at ${server.url}`,
      );
      expect(events.map((e) => e.detail)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            new RegExp(`^${server.url}/api/v1/series: HTTP 503, try 2 of 4 in \\d+\\.\\d s$`),
          ),
        ]),
      );
    } finally {
      await server.close();
    }
  });

  it('does not retry a query that timed out (503 with errorType timeout): it would time out again', async () => {
    const server = await prometheus(0, 503);
    try {
      const r = await collect({
        output: `${tmp.dir}/timeout`,
        window,
        namespace: 'shop',
        prometheus: server.url,
        promql: ['up', 'rate(x[5m])'],
        sources: [prometheusSource],
      });
      expect(server.requests.filter((u) => u.pathname === '/api/v1/query_range')).toHaveLength(2);
      expect(r.warnings[0]?.message).toMatch(/HTTP 503 .*query timed out/);
    } finally {
      await server.close();
    }
  });

  it('stops on a Prometheus that is down after 4 tries, within seconds, naming its URL', async () => {
    const dead = await httpServer(() => undefined);
    await dead.close();
    const started = Date.now();
    const r = await collect({
      output: `${tmp.dir}/down`,
      window,
      namespace: 'shop',
      prometheus: dead.url,
      promql: ['up', 'rate(x[5m])'],
      sources: [prometheusSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'prometheus', status: 'failed' });
    expect(r.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Prometheus at ${dead.url} is unreachable \\(ECONNREFUSED\\) after 4 tries over \\d+\\.\\d s: check --prometheus$`,
        ),
      ),
    ]);
    // One request's tries (waits of at most 0.5, 1 and 2 s), not every query's.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
