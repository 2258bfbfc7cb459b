// `hindsight collect --watch` follows pod logs as stern does, end to end on the lab: real shop pods
// behind the lab's read-only Kubernetes API, and an upgrade during the watch that replaces every shop
// pod (a template change) and adds one (replicaCount 2 -> 3). The lab's own log files are the truth
// the bundle is compared with, line for line.
import { readFile, readdir, rm, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, parseRfc3339, redactText, type Manifest, type Pod } from '@hindsight/core';
import { Lab, type LabStatus } from '@hindsight/lab';
import { hindsight, type CliResult } from './helpers.js';

let dir: string;
let lab: Lab;
let status: LabStatus;
let out: string;
let collected: CliResult;
let manifest: Manifest;
let pods: Pod[];
let before: string[];
let after: string[];
let watchStart: number;

const lines = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);
const timeOf = (line: string): number => parseRfc3339(line.slice(0, line.indexOf(' ')));

/** The shop container's lines of `pod` as the lab wrote them, every instance, in the window. */
async function labLines(pod: string): Promise<string[]> {
  const folder = path.join(dir, 'lab', 'logs', pod, 'shop');
  const files = (await readdir(folder)).sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  const all: string[] = [];
  for (const f of files) all.push(...lines(await readFile(path.join(folder, f), 'utf8')));
  const from = Date.parse(manifest.window.from);
  const to = Date.parse(manifest.window.to);
  // The bundle writes each line redacted, as every bundle record is.
  return all.filter((l) => timeOf(l) >= from && timeOf(l) <= to).map((l) => redactText(l));
}

async function bundleLines(pod: string): Promise<string[]> {
  const file = path.join(out, 'logs', status.namespace, pod, 'shop.log');
  return lines(await readFile(file, 'utf8').catch(() => ''));
}

const shopPods = (s: LabStatus): string[] =>
  s.pods.map((p) => p.name).filter((n) => n.startsWith(`${s.release}-shop-`));

/** Requests through nginx, each a line in a shop pod's log; one that fails (nginx reloading) is only a line fewer. */
async function requests(n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await fetch(`${status.nginxUrl}/products`).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hs-e2e-collect-watch-'));
  lab = new Lab({ dir: path.join(dir, 'lab'), timeScale: 0.2 });
  status = await lab.up();
  before = shopPods(status);
  out = path.join(dir, 'bundle');
  watchStart = Date.now();
  const collecting = hindsight(
    [
      'collect',
      '--kubeconfig',
      status.kubeconfig,
      '-n',
      status.namespace,
      '--since',
      '2m',
      '--watch',
      '30s',
      '--interval',
      '1s',
      '--out-dir',
      out,
    ],
    {},
    120_000,
  );
  // Lines written by the pods that were there when the watch began, then the rollout.
  await new Promise((r) => setTimeout(r, 3000));
  await requests(20);
  await lab.upgrade({ set: ['shop.replicaCount=3', 'shop.redisReplicaPoolSize=5'] });
  status = await lab.status();
  after = shopPods(status);
  await requests(20);
  collected = await collecting;
  const bundle = await openBundle(out);
  manifest = bundle.manifest;
  pods = await bundle.pods();
}, 150_000);
afterAll(async () => {
  await lab?.down({ purge: true }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('hindsight collect --watch follows pod logs and pods (the lab: real shop pods, its Kubernetes API)', () => {
  it('rolled every shop pod during the watch', () => {
    expect(collected.stderr).not.toMatch(/warning/i);
    expect(collected.code).toBe(0);
    expect(before).toHaveLength(2);
    expect(after).toHaveLength(3);
    expect(after.filter((p) => before.includes(p))).toEqual([]);
  });

  it('keeps the pods deleted during the watch and the pods created in it', () => {
    const names = pods.map((p) => p.name);
    for (const p of [...before, ...after]) expect(names).toContain(p);
  });

  it('holds every line a deleted pod wrote, those of the watch included, once each', async () => {
    for (const pod of before) {
      const got = await bundleLines(pod);
      expect(got.some((l) => timeOf(l) > watchStart + 3000)).toBe(true);
      expect(got).toEqual(await labLines(pod));
    }
  });

  it('holds the lines of the pods created during the watch, once each', async () => {
    const end = Date.parse(manifest.window.to);
    for (const pod of after) {
      const got = await bundleLines(pod);
      const want = await labLines(pod);
      expect(got.length).toBeGreaterThan(0);
      const twice = got.filter((l, i) => got.indexOf(l) !== i);
      expect(twice, `${pod}: lines held twice`).toEqual([]);
      // The follow stops at the window's end: lines of its last moments may still be on their way.
      expect(got).toEqual(want.slice(0, got.length));
      const settled = want.filter((l) => timeOf(l) < end - 3000);
      expect(got.slice(0, settled.length)).toEqual(settled);
    }
  });
});
