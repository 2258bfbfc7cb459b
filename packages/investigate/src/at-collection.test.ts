import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleWriter, type BundleEvent, type Pod, type Series } from '@hindsight/core';
import { investigate, reporters, type Report } from './index.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

// The window ends, and the bundle was collected, at 11:00.
const from = Date.parse('2026-03-02T10:00:00Z');
const to = Date.parse('2026-03-02T11:00:00Z');
const at = (min: number, s = 0): string => new Date(from + min * 60_000 + s * 1000).toISOString();

type Container = Pod['containers'][number];
const container = (over: Partial<Container> = {}): Container => ({
  name: 'app',
  image: 'example/app:1',
  ready: true,
  restartCount: 0,
  ...over,
});
const pod = (name: string, over: Partial<Pod> = {}): Pod => ({
  namespace: 'shop',
  name,
  component: name.split('-')[0] as string,
  labels: {},
  phase: 'Running',
  node: 'node-a',
  startTime: at(0),
  containers: [container()],
  ...over,
});
const event = (name: string, reason: string, message: string, time: string, count = 1): BundleEvent => ({
  time,
  object: { kind: 'Pod', name, namespace: 'shop' },
  reason,
  message,
  type: 'Warning',
  count,
});
const gauge = (name: string, labels: Record<string, string>, values: Array<[string, number]>): Series => ({
  name,
  labels: { source: 'test', ...labels },
  kind: 'gauge',
  points: values.map(([t, v]) => [Date.parse(t), v]),
});

async function reportOf(parts: { pods?: Pod[]; events?: BundleEvent[]; series?: Series[] }): Promise<Report> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-at-collection-')), 'bundle');
  temps.push(path.dirname(dir));
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  for (const p of parts.pods ?? []) await w.addPod(p);
  for (const e of parts.events ?? []) await w.addEvent(e);
  for (const s of parts.series ?? []) await w.addSeries(s);
  await w.finish();
  return investigate(dir, { now: new Date(0) });
}

const plain = { paint: (_style: string, text: string) => text };

describe('atCollection: what is still broken when the bundle was collected', () => {
  it('lists a crash-looping container with its back-off, restarts and last stop, and the finding behind it', async () => {
    const report = await reportOf({
      pods: [
        pod('cart-7d4f8b7c9d-aaaaa', {
          containers: [
            container({
              ready: false,
              restartCount: 7,
              lastTermination: { reason: 'Error', exitCode: 1, finishedAt: at(58) },
            }),
          ],
        }),
      ],
      events: [
        event('cart-7d4f8b7c9d-aaaaa', 'BackOff', 'Back-off restarting failed container', at(52)),
        event('cart-7d4f8b7c9d-aaaaa', 'BackOff', 'Back-off restarting failed container', at(59), 4),
      ],
    });
    expect(report.atCollection).toEqual([
      {
        what: 'crash-looping',
        object: 'Pod/cart-7d4f8b7c9d-aaaaa',
        container: 'app',
        component: 'cart',
        since: Date.parse(at(52)),
        detail:
          'container app restarted 7 times; last Error (exit 1) at 10:58:00; Back-off restarting failed container (x4)',
        evidence: expect.arrayContaining([
          'k8s:Pod/cart-7d4f8b7c9d-aaaaa:BackOff',
          'k8s:pod/cart-7d4f8b7c9d-aaaaa/app:restarts',
        ]),
      },
    ]);
  });

  it('lays a back-off that names no container on the one that restarted, and tells an image pull apart', async () => {
    const report = await reportOf({
      pods: [
        pod('cart-7d4f8b7c9d-aaaaa', {
          containers: [
            container({ name: 'proxy' }),
            container({
              ready: false,
              restartCount: 2,
              lastTermination: { reason: 'Error', exitCode: 1, finishedAt: at(30) },
            }),
          ],
        }),
        pod('search-6c5d7f8b9d-bbbbb', { containers: [container({ ready: false })] }),
      ],
      events: [
        event('cart-7d4f8b7c9d-aaaaa', 'BackOff', 'Back-off restarting failed container', at(59)),
        event('search-6c5d7f8b9d-bbbbb', 'BackOff', 'Back-off pulling image "example/app:2"', at(59)),
      ],
    });
    expect(report.atCollection?.map((e) => [e.what, e.object, e.container])).toEqual([
      ['crash-looping', 'Pod/cart-7d4f8b7c9d-aaaaa', 'app'],
      ['image-pull-failing', 'Pod/search-6c5d7f8b9d-bbbbb', 'app'],
    ]);
  });

  it('lists a pod known only from a recent back-off event (created after the pod list was taken)', async () => {
    const report = await reportOf({
      pods: [pod('cart-7d4f8b7c9d-aaaaa')],
      events: [event('static-hi', 'BackOff', 'Back-off restarting failed container', at(58, 30))],
    });
    expect(report.atCollection).toMatchObject([
      {
        what: 'crash-looping',
        object: 'Pod/static-hi',
        since: Date.parse(at(58, 30)),
        detail: 'Back-off restarting failed container; no pod status in the bundle',
        evidence: ['k8s:Pod/static-hi:BackOff'],
      },
    ]);
  });

  it('lists a container OOM-killed minutes before collection, even when it is ready again', async () => {
    const report = await reportOf({
      pods: [
        pod('search-6c5d7f8b9d-bbbbb', {
          containers: [
            container({
              restartCount: 1,
              lastTermination: { reason: 'OOMKilled', exitCode: 137, finishedAt: at(55) },
            }),
          ],
        }),
      ],
    });
    expect(report.atCollection).toMatchObject([
      {
        what: 'oom-killed',
        object: 'Pod/search-6c5d7f8b9d-bbbbb',
        container: 'app',
        since: Date.parse(at(55)),
        detail: 'container app OOMKilled (exit 137) at 10:55:00, restarted 1 time, ready again',
      },
    ]);
  });

  it('lists pending and failed pods, and a running pod whose container is not ready', async () => {
    const report = await reportOf({
      pods: [
        pod('mailer-5b6c7d8e9f-ccccc', { phase: 'Pending', containers: [container({ ready: false })] }),
        pod('report-job-x1x2x', {
          phase: 'Failed',
          containers: [
            container({
              ready: false,
              lastTermination: { reason: 'Error', exitCode: 2, finishedAt: at(40) },
            }),
          ],
        }),
        pod('billing-4a5b6c7d8e-ddddd', { containers: [container({ ready: false })] }),
      ],
      events: [
        event(
          'mailer-5b6c7d8e9f-ccccc',
          'FailedScheduling',
          '0/3 nodes are available: 3 Insufficient cpu.',
          at(57),
        ),
        event(
          'billing-4a5b6c7d8e-ddddd',
          'Unhealthy',
          'Readiness probe failed: HTTP probe failed',
          at(59),
          12,
        ),
      ],
    });
    expect(report.atCollection?.map((e) => [e.what, e.object, e.detail])).toEqual([
      ['failed', 'Pod/report-job-x1x2x', 'phase Failed; container app Error (exit 2) at 10:40:00'],
      [
        'pending',
        'Pod/mailer-5b6c7d8e9f-ccccc',
        'phase Pending; 0/3 nodes are available: 3 Insufficient cpu.',
      ],
      [
        'not-ready',
        'Pod/billing-4a5b6c7d8e-ddddd',
        'container app not ready; Readiness probe failed: HTTP probe failed (x12)',
      ],
    ]);
  });

  it('lists a Redis replica whose link is down at its last sample, not one replaced earlier', async () => {
    const link = (node: string, values: Array<[string, number]>): Series =>
      gauge('redis_master_link_up', { component: 'redis', node, role: 'replica' }, values);
    const report = await reportOf({
      series: [
        link('127.0.0.1:7001', [
          [at(58), 1],
          [at(59), 0],
          [at(59, 30), 0],
        ]),
        // Down at its last sample too, but sampled no more after 10:50: replaced by a rolling restart.
        link('127.0.0.1:7002', [
          [at(49), 1],
          [at(49, 30), 0],
        ]),
        link('127.0.0.1:7003', [
          [at(58), 1],
          [at(59), 1],
          [at(59, 30), 1],
        ]),
      ],
    });
    expect(report.atCollection).toMatchObject([
      {
        what: 'link-down',
        object: 'Redis/127.0.0.1:7001',
        component: 'redis',
        since: Date.parse(at(59)),
        detail: 'replication link to the master down at the last sample (10:59:30, 127.0.0.1:7001)',
      },
    ]);
  });

  it('lists workloads with fewer ready replicas than desired, from kube-state-metrics series', async () => {
    const ksm = (name: string, deployment: string, v: number): Series =>
      gauge(name, { namespace: 'shop', deployment }, [
        [at(58), v],
        [at(59), v],
      ]);
    const report = await reportOf({
      series: [
        ksm('kube_deployment_spec_replicas', 'cart', 3),
        ksm('kube_deployment_status_replicas_ready', 'cart', 1),
        ksm('kube_deployment_spec_replicas', 'search', 2),
        ksm('kube_deployment_status_replicas_ready', 'search', 0),
        ksm('kube_deployment_spec_replicas', 'mailer', 2),
        ksm('kube_deployment_status_replicas_ready', 'mailer', 2),
      ],
    });
    expect(report.atCollection?.map((e) => [e.what, e.object, e.detail])).toEqual([
      ['replicas-not-ready', 'Deployment/cart', '1 of 3 replicas ready'],
      ['replicas-not-ready', 'Deployment/search', '0 of 2 replicas ready'],
    ]);
  });

  it('says nothing for a quiet bundle: old restarts, completed jobs and healthy replicas are not failures', async () => {
    const report = await reportOf({
      pods: [
        pod('cart-7d4f8b7c9d-aaaaa', {
          containers: [
            container({
              restartCount: 4,
              lastTermination: { reason: 'OOMKilled', exitCode: 137, finishedAt: at(20) },
            }),
          ],
        }),
        pod('migrate-job-a1b2c', { phase: 'Succeeded', containers: [container({ ready: false })] }),
      ],
      events: [event('cart-7d4f8b7c9d-aaaaa', 'BackOff', 'Back-off restarting failed container', at(21))],
      series: [
        gauge('redis_master_link_up', { node: '127.0.0.1:7001' }, [
          [at(30), 0],
          [at(59), 1],
        ]),
      ],
    });
    expect(report.atCollection).toEqual([]);
    expect(reporters.terminal.render(report, plain)).not.toMatch(/Still failing/);
    expect(reporters.markdown.render(report)).not.toMatch(/Still failing/);
    expect(reporters.html.render(report)).not.toMatch(/Still failing/);
  });

  it('orders the most severe first and shows the block in every reporter, the terminal at most 8 lines', async () => {
    const looping = Array.from({ length: 9 }, (_, i) =>
      pod(`worker-7d4f8b7c9d-w000${i}`, {
        containers: [
          container({
            ready: false,
            restartCount: 5,
            lastTermination: { reason: 'Error', exitCode: 1, finishedAt: at(57, i) },
          }),
        ],
      }),
    );
    const report = await reportOf({
      pods: [pod('billing-4a5b6c7d8e-ddddd', { containers: [container({ ready: false })] }), ...looping],
    });
    const whats = report.atCollection?.map((e) => e.what);
    expect(whats).toEqual([...Array<string>(9).fill('crash-looping'), 'not-ready']);
    expect(report.atCollection?.[0]?.object).toBe('Pod/worker-7d4f8b7c9d-w0000');

    const terminal = reporters.terminal.render(report, plain);
    const block = terminal.slice(terminal.indexOf('Still failing at collection (11:00):'));
    const lines = block.split('\n').slice(1, 10);
    expect(lines.slice(0, 7).every((l) => l.startsWith('  crash-looping  Pod/worker-'))).toBe(true);
    expect(lines[0]).toBe(
      '  crash-looping  Pod/worker-7d4f8b7c9d-w0000  worker, since 10:57:00  container app restarted 5 times; last Error (exit 1) at 10:57:00',
    );
    expect(lines[7]).toBe('  ... and 3 more (see -o json)');
    // After the summary, before the hypotheses.
    expect(terminal.indexOf(report.summary)).toBeLessThan(terminal.indexOf('Still failing'));

    const md = reporters.markdown.render(report);
    expect(md).toContain('## Still failing at collection (11:00)');
    expect(md).toContain(
      '| not-ready | `Pod/billing-4a5b6c7d8e-ddddd` | billing |  | container app not ready |',
    );
    const html = reporters.html.render(report);
    expect(html).toContain('<h2>Still failing at collection (11:00)</h2>');
    expect(html).toContain('<td><code>Pod/worker-7d4f8b7c9d-w0008</code></td>');
    expect(JSON.parse(reporters.json.render(report)).atCollection).toHaveLength(10);
  });
});
