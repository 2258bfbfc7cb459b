import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleWriter } from '@hindsight/core';
import { analyzers, investigate, type Finding } from '../index.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const from = Date.parse('2026-03-02T10:00:00Z');
const to = from + 20 * 60_000;

/** What the proxy answered at second `s` of the window: `n` requests, each a status, a route and a time. */
type Traffic = (s: number) => Array<{ status: number; uri: string; method?: string; seconds?: number }>;

/** A bundle holding only the access log of one nginx pod, as JSON lines (the chart's format) or combined. */
async function accessBundle(traffic: Traffic, format: 'json' | 'combined' = 'json'): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-nginx-')), 'bundle');
  temps.push(path.dirname(dir));
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  await w.addPod({
    namespace: 'shop',
    name: 'shop-nginx-5d8f7c6b9d-abcde',
    component: 'nginx',
    labels: {},
    phase: 'Running',
    startTime: new Date(from - 60_000).toISOString(),
    containers: [{ name: 'nginx', ready: true, restartCount: 0 }],
  });
  const log = await w.openLog({
    namespace: 'shop',
    pod: 'shop-nginx-5d8f7c6b9d-abcde',
    container: 'nginx',
    previous: false,
  });
  for (let s = 0; s < (to - from) / 1000; s++) {
    for (const [k, r] of traffic(s).entries()) {
      const t = from + s * 1000 + k * 10;
      const method = r.method ?? 'POST';
      const rt = (r.seconds ?? 0.02).toFixed(3);
      await log.write(
        t,
        format === 'json'
          ? JSON.stringify({ method, uri: r.uri, status: r.status, request_time: Number(rt) })
          : `10.0.0.7 - - [02/Mar/2026:10:00:00 +0000] "${method} ${r.uri} HTTP/1.1" ${r.status} 12 "-" "curl/8" ${rt}`,
      );
    }
  }
  await w.finish();
  return dir;
}

async function nginxFindings(dir: string): Promise<Finding[]> {
  const report = await investigate(dir, {
    analyzers: analyzers.filter((a) => a.name === 'nginx'),
    now: new Date(to),
  });
  return report.findings.filter((f) => f.analyzer === 'nginx');
}

const normal = (s: number) => [
  { status: 200, uri: `/cart/${1000 + (s % 7)}` },
  { status: 200, uri: '/checkout/pay', seconds: 0.05 },
  { status: 200, uri: '/login' },
  { status: s % 10 === 0 ? 401 : 200, uri: '/login' },
];

describe('nginx: what users got, from the access log', () => {
  it('finds a burst of 401s that no application line mentions, as a share of requests, naming the route', async () => {
    // 10:12 to 10:14, half the cart's requests are refused; a 401 trickle on /login all along.
    const findings = await nginxFindings(
      await accessBundle((s) =>
        normal(s).map((r) =>
          s >= 720 && s < 840 && r.uri.startsWith('/cart') && s % 2 === 0 ? { ...r, status: 401 } : r,
        ),
      ),
    );
    const auth = findings.filter((f) => f.signal.includes('status=401'));
    expect(auth.length).toBeGreaterThan(0);
    const first = auth.sort((a, b) => a.time - b.time)[0] as Finding;
    expect(first.userFacing).toBe(true);
    expect(Math.abs(first.time - (from + 720_000))).toBeLessThanOrEqual(60_000);
    expect(first.title).toContain('POST /cart/:id');
    expect(first.title).toMatch(/of requests/);
  });

  it('says nothing of a steady trickle of 401s, whatever the volume of traffic does', async () => {
    // Traffic doubles at 10:10, the 401s with it: the share holds.
    const findings = await nginxFindings(
      await accessBundle((s) => (s >= 600 ? [...normal(s), ...normal(s)] : normal(s))),
    );
    expect(findings.filter((f) => f.signal.includes('status='))).toEqual([]);
  });

  it("finds one route's time rising, with the route's own requests as the denominator", async () => {
    const findings = await nginxFindings(
      await accessBundle(
        (s) => normal(s).map((r) => (r.uri === '/checkout/pay' && s >= 600 ? { ...r, seconds: 1.5 } : r)),
        'combined',
      ),
    );
    const slow = findings.find((f) => f.signal.startsWith('access_route_time_p95'));
    expect(slow?.title).toContain('POST /checkout/pay time p95 up');
    expect(Math.abs((slow?.time ?? 0) - (from + 600_000))).toBeLessThanOrEqual(60_000);
    expect(findings.some((f) => f.signal.includes('route=POST /login'))).toBe(false);
  });
});
