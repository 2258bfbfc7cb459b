// What pods.jsonl tells the access-log analysis: who listens at an upstream address, and which
// requests are the kubelet's probes of the proxy rather than users'.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleWriter, type Pod } from '@hindsight/core';
import { analyzers, investigate, type Finding, type Report } from '../index.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const from = Date.parse('2026-03-02T10:00:00Z');
const to = from + 20 * 60_000;
const incidentAt = from + 10 * 60_000;

const NGINX = 'shop-nginx-5d8f7c6b9d-abcde';
const SHOPS = ['a', 'b', 'c'].map((x) => `shop-7f9c8d6b5-${x.repeat(5)}`);

type Container = Pod['containers'][number];

/** One request: its path, status and the upstream address nginx passed it to (none: nginx answered). */
interface Request {
  uri: string;
  status: number;
  upstream?: { address: string; seconds: number };
}

/**
 * A bundle of one nginx pod's access log (`traffic` per second of the window) and the shop pods
 * behind it, as pods.jsonl lists them: no series names their addresses.
 */
async function bundle(
  shops: Array<Pick<Pod, 'ips'> & { ports?: number[] }>,
  nginx: Partial<Container>,
  traffic: (t: number) => Request[],
): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-access-pods-')), 'bundle');
  temps.push(path.dirname(dir));
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  const pod = (name: string, component: string, ips: string[] | undefined, c: Partial<Container>) =>
    w.addPod({
      namespace: 'shop',
      name,
      component,
      labels: {},
      phase: 'Running',
      ...(ips ? { ips } : {}),
      containers: [{ name: component, ready: true, restartCount: 0, ...c }],
    });
  await pod(NGINX, 'nginx', ['10.0.0.2'], nginx);
  for (const [i, s] of shops.entries()) {
    const ports = s.ports?.map((containerPort) => ({ containerPort, name: 'http' }));
    await pod(SHOPS[i] as string, 'shop', s.ips, ports ? { ports } : {});
  }
  await w.setTopology({ components: [{ name: 'nginx', dependsOn: ['shop'] }] });
  const log = await w.openLog({ namespace: 'shop', pod: NGINX, container: 'nginx', previous: false });
  for (let t = from; t < to; t += 1000) {
    for (const [k, r] of traffic(t).entries()) {
      const at = t + k * 10;
      const u = r.upstream;
      await log.write(
        at,
        JSON.stringify({
          time: new Date(at).toISOString(),
          method: 'GET',
          uri: r.uri,
          status: r.status,
          request_time: Number(((u?.seconds ?? 0) + 0.001).toFixed(3)),
          upstream_connect_time: u ? '0.001' : '-',
          upstream_response_time: u ? u.seconds.toFixed(3) : '-',
          upstream_status: u ? String(r.status) : '-',
          upstream_addr: u ? u.address : '-',
        }),
      );
    }
  }
  await w.finish();
  return dir;
}

/** One request a second to each address; the one at `slow` takes 0.9 s from the incident. */
function perAddress(addresses: string[], slow: string): (t: number) => Request[] {
  return (t) =>
    addresses.map((address, i) => ({
      uri: '/products',
      status: 200,
      upstream: {
        address,
        seconds: address === slow && t >= incidentAt ? 0.9 : 0.018 + (((t / 1000) * 7 + i * 3) % 9) / 1000,
      },
    }));
}

async function run(dir: string): Promise<Report> {
  return investigate(dir, {
    analyzers: analyzers.filter((a) => a.name === 'nginx'),
    incidentAt,
    now: new Date(to),
  });
}

function slowed(report: Report): Array<[string | undefined, string | undefined]> {
  return report.findings
    .filter((f: Finding) => f.signal.startsWith('upstream_response_time'))
    .map((f) => [f.component, f.pod]);
}

describe('nginx access log and the pods the Kubernetes API listed', () => {
  it('names a slow upstream address by the pod listed at that IP and container port', async () => {
    const addresses = ['10.0.0.11:3000', '10.0.0.12:3000', '10.0.0.13:3000'];
    const dir = await bundle(
      addresses.map((_, i) => ({ ips: [`10.0.0.${11 + i}`], ports: [3000] })),
      {},
      perAddress(addresses, '10.0.0.12:3000'),
    );
    expect(slowed(await run(dir))).toEqual([['shop', SHOPS[1]]]);
  });

  it('tells pods on the host network apart by port, and names a portless pod by its own IP', async () => {
    // a and b share the node's IP (hostNetwork), c declares no port: its IP alone names it.
    const shops = [
      { ips: ['10.0.0.5'], ports: [3000] },
      { ips: ['10.0.0.5'], ports: [3001] },
      { ips: ['10.0.0.13'] },
    ];
    const addresses = ['10.0.0.5:3000', '10.0.0.5:3001', '10.0.0.13:8080'];
    expect(slowed(await run(await bundle(shops, {}, perAddress(addresses, '10.0.0.5:3001'))))).toEqual([
      ['shop', SHOPS[1]],
    ]);
    expect(slowed(await run(await bundle(shops, {}, perAddress(addresses, '10.0.0.13:8080'))))).toEqual([
      ['shop', SHOPS[2]],
    ]);
  });

  it('names no pod by a loopback IP alone: a Service proxy on the node answers there too', async () => {
    // The lab's pods all listen on 127.0.0.1; nginx reaches the shop through its Service's proxy.
    const shops = [{ ips: ['127.0.0.1'], ports: [41001] }, { ips: ['127.0.0.1'] }];
    const addresses = ['127.0.0.1:41001', '127.0.0.1:39999'];
    expect(slowed(await run(await bundle(shops, {}, perAddress(addresses, '127.0.0.1:39999'))))).toEqual([
      ['shop', undefined],
    ]);
  });

  it('does not count the kubelet’s probes of nginx as users refused, and keeps the users’ upstream times', async () => {
    // Users get 200s from two shop pods, one of which slows at the incident; nginx answers its own
    // readiness path 503 from then on (it drains).
    const shops = [
      { ips: ['10.0.0.11'], ports: [3000] },
      { ips: ['10.0.0.12'], ports: [3000] },
    ];
    const traffic = (t: number): Request[] => [
      { uri: '/nginx-healthz', status: t >= incidentAt ? 503 : 200 },
      ...perAddress(['10.0.0.11:3000', '10.0.0.12:3000'], '10.0.0.12:3000')(t),
    ];
    const refusals = (r: Report) =>
      r.findings.filter((f) => /^access_(status|route_error)_share/.test(f.signal)).map((f) => f.title);
    const probes = [{ kind: 'readiness' as const, path: '/nginx-healthz', port: 8080 }];
    const probed = await run(await bundle(shops, { probes }, traffic));
    expect(refusals(probed)).toEqual([]);
    expect(slowed(probed)).toEqual([['shop', SHOPS[1]]]);
    // The same log from a pod whose probes were not recorded: the 503s read as users'.
    const unknown = await bundle(shops, {}, traffic);
    expect(refusals(await run(unknown)).join('\n')).toMatch(/503/);
  });
});
