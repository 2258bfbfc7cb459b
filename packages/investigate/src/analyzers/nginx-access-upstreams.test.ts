import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleWriter } from '@hindsight/core';
import { analyzers, investigate, type Finding, type Report } from '../index.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const from = Date.parse('2026-03-02T10:00:00Z');
const to = from + 20 * 60_000;
const incidentAt = from + 10 * 60_000;
const baseFrom = from - 60 * 60_000;

const NGINX = 'shop-nginx-5d8f7c6b9d-abcde';
/** Three shop pods and their addresses; the bundle knows them from a scrape series' labels. */
const PODS = ['a', 'b', 'c'].map((x, i) => ({
  pod: `shop-7f9c8d6b5-${x}${x}${x}${x}${x}`,
  address: `10.0.0.${11 + i}:3000`,
}));

/** One try of a request: which pod (by index), its time and status, or `-` where nginx wrote none. */
interface Try {
  pod: number;
  seconds: number | '-';
  status: number | '-';
  connect?: number;
}

/** One request through the proxy at second `s`. */
interface Request {
  uri: string;
  status: number;
  /** The request's own time; the tries' times plus 1 ms when absent. */
  seconds?: number;
  tries: Try[];
}

type Traffic = (t: number) => Request[];

function jsonLine(r: Request, t: number): string {
  const list = (f: (x: Try) => string): string => (r.tries.length === 0 ? '-' : r.tries.map(f).join(', '));
  const own =
    r.seconds ?? r.tries.reduce((s, x) => s + (typeof x.seconds === 'number' ? x.seconds : 0), 0.001);
  return JSON.stringify({
    time: new Date(t).toISOString(),
    msec: t / 1000,
    method: 'POST',
    uri: r.uri,
    status: r.status,
    request_time: Number(own.toFixed(3)),
    upstream_connect_time: list((x) => (x.connect ?? 0.001).toFixed(3)),
    upstream_response_time: list((x) => (typeof x.seconds === 'number' ? x.seconds.toFixed(3) : '-')),
    upstream_status: list((x) => String(x.status)),
    upstream_addr: list((x) => (PODS[x.pod] as { address: string }).address),
  });
}

/** ingress-nginx's `upstreaminfo` format: combined, then request length and time, names, upstreams. */
function ingressLine(r: Request, _t: number): string {
  const list = (f: (x: Try) => string): string => (r.tries.length === 0 ? '-' : r.tries.map(f).join(', '));
  const own =
    r.seconds ?? r.tries.reduce((s, x) => s + (typeof x.seconds === 'number' ? x.seconds : 0), 0.001);
  return (
    `10.0.0.7 - - [02/Mar/2026:10:00:00 +0000] "POST ${r.uri} HTTP/1.1" ${r.status} 12 "-" "curl/8" 310 ${own.toFixed(3)} ` +
    `[shop-shop-3000] [] ${list((x) => (PODS[x.pod] as { address: string }).address)} ${list(() => '12')} ` +
    `${list((x) => (typeof x.seconds === 'number' ? x.seconds.toFixed(3) : '-'))} ${list((x) => String(x.status))} 5f0c3e`
  );
}

/**
 * A bundle of one nginx pod's access log and three shop pods behind it: `traffic` per second of the
 * window (and of the baseline period, when `baseline`), the pods' addresses in a scrape series.
 */
async function upstreamBundle(
  traffic: Traffic,
  options: { format?: 'json' | 'ingress'; baseline?: boolean } = {},
): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-upstream-')), 'bundle');
  temps.push(path.dirname(dir));
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  const pod = (name: string, component: string) =>
    w.addPod({
      namespace: 'shop',
      name,
      component,
      labels: {},
      phase: 'Running',
      startTime: new Date(baseFrom - 60_000).toISOString(),
      containers: [{ name: component, ready: true, restartCount: 0 }],
    });
  await pod(NGINX, 'nginx');
  for (const p of PODS) {
    await pod(p.pod, 'shop');
    await w.addSeries({
      name: 'up',
      labels: { instance: p.address, pod: p.pod, job: 'shop' },
      kind: 'gauge',
      points: [
        [from, 1],
        [to, 1],
      ],
    });
  }
  await w.setTopology({ components: [{ name: 'nginx', dependsOn: ['shop'] }] });
  const log = await w.openLog({ namespace: 'shop', pod: NGINX, container: 'nginx', previous: false });
  const line = options.format === 'ingress' ? ingressLine : jsonLine;
  const periods = options.baseline ? [baseFrom, from] : [from];
  for (const start of periods) {
    const end = start === baseFrom ? baseFrom + 10 * 60_000 : to;
    for (let t = start; t < end; t += 1000)
      for (const [k, r] of traffic(t).entries()) await log.write(t + k * 10, line(r, t + k * 10));
  }
  if (options.baseline)
    w.setBaseline({ from: new Date(baseFrom), to: new Date(baseFrom + 10 * 60_000), note: 'fault-free' });
  await w.finish();
  return dir;
}

/** Three requests a second, one to each pod, 18-26 ms each; `slow` says what a pod answers instead. */
function roundRobin(slow: (pod: number, t: number) => Try | undefined = () => undefined): Traffic {
  return (t) =>
    PODS.map((_, pod) => {
      const base = 0.018 + (((t / 1000) * 7 + pod * 3) % 9) / 1000;
      const tr = slow(pod, t) ?? { pod, seconds: base, status: 200 };
      const status = typeof tr.status === 'number' ? tr.status : 504;
      return { uri: pod === 2 ? '/login' : '/checkout/pay', status, tries: [tr] };
    });
}

async function run(dir: string, all = false): Promise<Report> {
  return investigate(dir, {
    ...(all ? {} : { analyzers: analyzers.filter((a) => a.name === 'nginx') }),
    incidentAt,
    now: new Date(to),
  });
}

function upstream(report: Report): Finding[] {
  return report.findings.filter((f) => f.signal.startsWith('upstream_response_time'));
}

describe('nginx: response time per upstream, from the access log', () => {
  it('blames the service whose pods all slowed together, not nginx, which only waited', async () => {
    const dir = await upstreamBundle(
      roundRobin((pod, t) => (t >= incidentAt ? { pod, seconds: 4.9 + pod * 0.05, status: 200 } : undefined)),
    );
    const report = await run(dir, true);
    const found = upstream(report);
    expect(found.map((f) => [f.component, f.pod])).toEqual([['shop', undefined]]);
    const [shop] = found as [Finding];
    expect(shop.title).toMatch(/^upstream shop \(3 pods, 3 of 3 slowed\)/);
    expect(shop.title).toMatch(
      /response time p95 0\.02\d -> 5\.0 s, median 0\.02\d -> 5\.0 s; most on POST \/login \(0\.02\d -> 5\.0 s\)/,
    );
    expect(shop.bystanders).toEqual(['nginx']);
    expect(shop.title).toMatch(/nginx only waited on it/);
    expect(Math.abs(shop.time - incidentAt)).toBeLessThanOrEqual(60_000);
    const lines = shop.evidence.find((e) => e.type === 'lines');
    expect(lines?.type === 'lines' && lines.lines[0]?.pod).toBe(NGINX);
    expect(report.findings.some((f) => f.signal.startsWith('proxy_own_time'))).toBe(false);
    expect(report.hypotheses[0]?.cause).toMatchObject({ type: 'component', component: 'shop' });
  });

  it('blames the one pod that slowed when its siblings did not, against the baseline period', async () => {
    // Slow from the window's start: only the baseline period tells it from before.
    const dir = await upstreamBundle(
      roundRobin((pod, t) => (pod === 1 && t >= from ? { pod, seconds: 0.9, status: 200 } : undefined)),
      { baseline: true },
    );
    const report = await investigate(dir, {
      analyzers: analyzers.filter((a) => a.name === 'nginx'),
      now: new Date(to),
    });
    const found = upstream(report);
    expect(found.map((f) => [f.component, f.pod])).toEqual([['shop', PODS[1]?.pod]]);
    expect(found[0]?.title).toMatch(
      /^upstream pod shop-7f9c8d6b5-bbbbb of shop alone \(1 of 3 servers slowed\)/,
    );
    expect(found[0]?.title).toMatch(/most on POST \/checkout\/pay/);
    expect(found[0]?.baseline).toBe(true);
  });

  it.each(['json', 'ingress'] as const)(
    'reads both servers of a request nginx retried on another (%s format)',
    async (format) => {
      // After the incident, pod a answers slowly with a 502 and nginx retries on pod b, which is
      // slow too: b is seen slow only as the second server of these lines; pod c is unchanged.
      const traffic: Traffic = (t) =>
        t < incidentAt
          ? roundRobin()(t)
          : [0, 1].map((k) => {
              const c = 0.02 + (k % 2) / 1000;
              return k === 0
                ? {
                    uri: '/checkout/pay',
                    status: 200,
                    tries: [
                      { pod: 0, seconds: 0.6, status: 502 },
                      { pod: 1, seconds: 0.8, status: 200 },
                    ],
                  }
                : { uri: '/login', status: 200, tries: [{ pod: 2, seconds: c, status: 200 }] };
            });
      const found = upstream(await run(await upstreamBundle(traffic, { format })));
      expect(found.map((f) => [f.component, f.pod])).toEqual([['shop', undefined]]);
      expect(found[0]?.title).toMatch(/^upstream shop \(3 pods, 2 of 3 slowed\)/);
      const lines = found[0]?.evidence.find((e) => e.type === 'lines');
      expect(lines?.type === 'lines' && lines.lines.map((l) => l.text).join('\n')).toMatch(
        /upstream 10\.0\.0\.12:3000 \(shop-7f9c8d6b5-bbbbb\) 200 in 0\.800 s/,
      );
    },
  );

  it('counts a timed-out try nginx logged as `-` as at least its request time, and reads `-` lines', async () => {
    // Pod c times out from the incident: 504, no upstream time, the request held 5 s. Health checks
    // nginx answers itself (every upstream field `-`) are read past.
    const slow = roundRobin((pod, t) =>
      pod === 2 && t >= incidentAt ? { pod, seconds: '-', status: 504 } : undefined,
    );
    const traffic: Traffic = (t) => {
      const list = slow(t).map((r) => (r.tries[0]?.seconds === '-' ? { ...r, seconds: 5.0 } : r));
      return [...list, { uri: '/nginx-healthz', status: 200, seconds: 0, tries: [] }];
    };
    const dir = await upstreamBundle(traffic);
    const report = await run(dir);
    const found = upstream(report);
    expect(found.map((f) => [f.component, f.pod])).toEqual([['shop', PODS[2]?.pod]]);
    expect(found[0]?.title).toMatch(/median 0\.0\d+ -> 5\.0 s; most on POST \/login/);
    expect(found[0]?.title).toMatch(/POST \/login/);
    expect(report.warnings.filter((w) => w.stage === 'analyze')).toEqual([]);
  });

  it('says when the connect time rose with the response time: the network into it or its accept queue', async () => {
    const dir = await upstreamBundle(
      roundRobin((pod, t) =>
        t >= incidentAt ? { pod, seconds: 0.52, status: 200, connect: 0.5 } : undefined,
      ),
    );
    const found = upstream(await run(dir));
    expect(found.map((f) => [f.component, f.pod])).toEqual([['shop', undefined]]);
    expect(found[0]?.title).toMatch(
      /connect time 0\.001 -> 0\.500 s: the network into it or its accept queue/,
    );
    expect(
      found[0]?.evidence.some((e) => e.type === 'series' && e.name === 'nginx_upstream_connect_time'),
    ).toBe(true);
  });

  it("finds nginx's own time rising while its upstreams answer as before", async () => {
    const traffic: Traffic = (t) =>
      roundRobin()(t).map((r) =>
        t >= incidentAt ? { ...r, seconds: 0.4 + (r.tries[0]?.seconds as number) } : r,
      );
    const report = await run(await upstreamBundle(traffic));
    expect(upstream(report)).toEqual([]);
    const own = report.findings.filter((f) => f.signal.startsWith('proxy_own_time'));
    expect(own.map((f) => f.component)).toEqual(['nginx']);
    expect(own[0]?.title).toMatch(/nginx's own time \(request time less upstream time\) 0\.001 -> 0\.400 s/);
  });
});
