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
