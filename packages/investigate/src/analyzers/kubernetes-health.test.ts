import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleWriter, type Pod } from '@hindsight/core';
import { investigate } from '../index.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const from = Date.parse('2026-03-02T10:00:00Z');
const to = Date.parse('2026-03-02T11:00:00Z');
const at = (min: number, s = 0): string => new Date(from + min * 60_000 + s * 1000).toISOString();

function pod(
  name: string,
  node: string,
  stops: Array<{ reason: string; exitCode: number; at: string }>,
): Pod {
  return {
    namespace: 'shop',
    name,
    component: name.split('-')[0] as string,
    labels: {},
    phase: 'Running',
    node,
    startTime: at(0),
    containers: stops.map((s, i) => ({
      name: `c${i}`,
      image: 'example/app:1',
      ready: true,
      restartCount: 2,
      lastTermination: { reason: s.reason, exitCode: s.exitCode, finishedAt: s.at },
    })),
  };
}

async function bundleOf(pods: Pod[]): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-k8s-health-')), 'bundle');
  temps.push(path.dirname(dir));
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  for (const p of pods) await w.addPod(p);
  await w.finish();
  return dir;
}

const killed = (s: string): { reason: string; exitCode: number; at: string } => ({
  reason: 'Unknown',
  exitCode: 255,
  at: s,
});

describe('kubernetes-health: containers that stopped together', () => {
  it('names the node when containers of several pods on it stopped within seconds, and what failed after', async () => {
    const report = await investigate(
      await bundleOf([
        pod('cart-7d4f8b7c9d-aaaaa', 'node-a', [killed(at(30)), killed(at(30, 1))]),
        pod('search-6c5d7f8b9d-bbbbb', 'node-a', [killed(at(30, 3))]),
        pod('mailer-5b6c7d8e9f-ccccc', 'node-a', [{ reason: 'Error', exitCode: 1, at: at(31) }]),
        // Another node's container, stopped at the same moment, is not part of it.
        pod('billing-4a5b6c7d8e-ddddd', 'node-b', [killed(at(30, 2))]),
      ]),
      { now: new Date(0) },
    );
    const node = report.findings.find((f) => f.component === 'node/node-a');
    expect(node?.title).toBe(
      'node node-a: 3 containers in 2 pods stopped together (Unknown, exit 255): the node, its kubelet or' +
        ' its container runtime restarted; 1 more failed within 2 min after (c0)',
    );
    expect(node?.time).toBe(Date.parse(at(30)));
    expect(report.findings.some((f) => f.component === 'node/node-b')).toBe(false);
    expect(report.hypotheses[0]?.cause).toMatchObject({ type: 'component', component: 'node/node-a' });
    expect(report.hypotheses[0]?.nextStep).toMatch(/kubectl describe node node-a/);
  });

  it('leaves clean exits, one pod alone and stops minutes apart to their containers', async () => {
    const report = await investigate(
      await bundleOf([
        pod('cart-7d4f8b7c9d-aaaaa', 'node-a', [killed(at(30)), killed(at(30)), killed(at(30))]),
        pod('search-6c5d7f8b9d-bbbbb', 'node-a', [{ reason: 'Completed', exitCode: 0, at: at(30) }]),
        pod('mailer-5b6c7d8e9f-ccccc', 'node-a', [killed(at(40))]),
      ]),
      { now: new Date(0) },
    );
    expect(report.findings.filter((f) => f.component?.startsWith('node/'))).toEqual([]);
  });
});

describe('kubernetes-health: onset where the failing begins', () => {
  it('dates a pod that an earlier rollout created at its first failure, and credits the change before it', async () => {
    const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-k8s-onset-')), 'bundle');
    temps.push(path.dirname(dir));
    const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
    const change = (rev: number, min: number, diffPath: string, a: unknown, b: unknown) =>
      w.addChange({
        id: `helm:shop/shop:${rev}`,
        time: at(min),
        kind: 'helm',
        target: 'release/shop',
        namespace: 'shop',
        release: 'shop',
        fromRevision: rev - 1,
        toRevision: rev,
        diff: [{ path: diffPath, from: a, to: b }],
      });
    await change(2, 10, 'api.podLabels.team', 'a', 'b');
    await change(3, 30, 'database.maxConnections', 100, 5);
    const name = 'api-7d4f8b7c9d-aaaaa';
    await w.addPod({
      namespace: 'shop',
      name,
      component: 'api',
      labels: {},
      phase: 'Running',
      startTime: at(10, 5),
      containers: [
        {
          name: 'api',
          ready: false,
          restartCount: 4,
          lastTermination: { reason: 'Error', exitCode: 1, finishedAt: at(45) },
        },
      ],
    });
    const event = (t: string, reason: string, message: string, count: number) =>
      w.addEvent({
        time: t,
        object: { kind: 'Pod', name, namespace: 'shop' },
        reason,
        message,
        type: 'Warning',
        count,
        component: 'api',
      });
    // Not ready while it starts (the rollout's), then failing after the connection limit fell.
    await event(at(10, 20), 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', 2);
    await event(at(31), 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', 10);
    await event(at(31, 30), 'BackOff', `Back-off restarting failed container api in pod ${name}`, 1);
    await event(at(40), 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', 20);
    await w.finish();

    const report = await investigate(dir, { now: new Date(0) });
    const probe = report.findings.find((f) => f.signal === `k8s:Pod/${name}:Unhealthy`);
    const restarts = report.findings.find((f) => f.signal === `k8s:pod/${name}/api:restarts`);
    expect(probe?.time).toBe(Date.parse(at(31)));
    expect(restarts?.time).toBe(Date.parse(at(31, 30)));
    expect(report.hypotheses[0]?.cause).toMatchObject({ type: 'change', revision: 3 });
  });
});
