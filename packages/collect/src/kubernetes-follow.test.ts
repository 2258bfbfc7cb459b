// The kubernetes source during a watch, over HTTP against a scripted Kubernetes API that answers as a
// real one does where the lab does not: a follow stream closed before its container stopped (an API
// server's stream timeout), `sinceTime` kept to the whole second, two lines with one timestamp.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, type Pod } from '@hindsight/core';
import { collect } from './collect.js';
import { kubernetesSource } from './sources/kubernetes.js';
import { httpServer, sendJson, tempDir, type TestHttpServer } from './test-support.js';

const base = Math.floor((Date.now() - 30_000) / 1000) * 1000;
const at = (ms: number, nanos = '000000'): string =>
  new Date(base + ms).toISOString().replace(/Z$/, `${nanos}Z`);
// The container `app` of pod `a`: its first instance, restarted during the watch, then its second.
const first = [
  `${at(100)} L1`,
  `${at(1200)} L2`,
  `${at(1500)} L3`,
  `${at(1500)} L3b, written in the same nanosecond`,
  `${at(1500, '000001')} L4`,
];
const second = [`${at(2000)} L5`, `${at(2100)} L6`];

const pod = (name: string) => ({
  metadata: { name, namespace: 'shop', labels: { app: 'x' } },
  spec: { containers: [{ name: 'app', image: 'x:1' }] },
  status: {
    phase: 'Running',
    containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'x:1' }],
  },
});

let tmp: Awaited<ReturnType<typeof tempDir>>;
let api: TestHttpServer;
let out: string;
let result: Awaited<ReturnType<typeof collect>>;
let pods: Pod[];

/** Lines at or after `sinceTime` cut to the second, as the API server passes it to the kubelet. */
function sinceSecond(url: URL, lines: string[]): string[] {
  const since = Math.floor(Date.parse(url.searchParams.get('sinceTime') ?? '') / 1000) * 1000;
  return lines.filter((l) => Date.parse(l.slice(0, l.indexOf(' '))) >= since);
}

/** Sends `lines`; the stream stays open (the container runs on) unless `end`. */
function stream(res: ServerResponse, lines: string[], end: boolean): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  for (const l of lines) res.write(`${l}\n`);
  if (end) res.end();
}

beforeAll(async () => {
  tmp = await tempDir('hs-collect-follow-');
  let podLists = 0;
  const opens = new Map<string, number>();
  api = await httpServer((url, _req, res) => {
    const p = url.pathname;
    if (p === '/api/v1/namespaces/shop/pods') {
      podLists += 1;
      // `gone` is deleted after the first list; `b` is created after it.
      const items = podLists === 1 ? [pod('a'), pod('gone')] : [pod('a'), pod('b')];
      return sendJson(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
    }
    if (p === '/api/v1/namespaces/shop/events')
      return sendJson(res, 200, { kind: 'EventList', apiVersion: 'v1', metadata: {}, items: [] });
    const log = /^\/api\/v1\/namespaces\/shop\/pods\/([^/]+)\/log$/.exec(p);
    if (log && url.searchParams.get('follow') === 'true') {
      const name = log[1] as string;
      const n = (opens.get(name) ?? 0) + 1;
      opens.set(name, n);
      if (name === 'a' && n === 1) return stream(res, first.slice(0, 4), true);
      if (name === 'a' && n === 2) return stream(res, sinceSecond(url, first), true);
      if (name === 'a') return stream(res, sinceSecond(url, second), false);
      if (name === 'gone' && n === 1) return stream(res, [`${at(300)} G1`], true);
      if (name === 'b') return stream(res, [`${at(2500)} B1`], false);
    }
    return sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', code: 404, message: `not found: ${p}` });
  });
  const kubeconfig = path.join(tmp.dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: scripted
  cluster:
    server: ${api.url}
    insecure-skip-tls-verify: true
contexts:
- name: scripted
  context: { cluster: scripted, user: reader, namespace: shop }
current-context: scripted
users:
- name: reader
  user: { token: t }
`,
  );
  out = path.join(tmp.dir, 'bundle');
  const now = Date.now();
  result = await collect({
    output: out,
    // Long enough that a loaded machine still starts following before the window ends (past its
    // end, a log is read once, without follow, and this API answers only follows).
    window: { from: new Date(now - 60_000), to: new Date(now + 6000) },
    watchMs: 6000,
    intervalMs: 200,
    kubeconfig,
    sources: [kubernetesSource],
  });
  pods = await (await openBundle(out)).pods();
});
afterAll(async () => {
  await api?.close();
  await tmp?.cleanup();
});

const logOf = async (pod: string): Promise<string[]> =>
  (await readFile(path.join(out, 'logs', 'shop', pod, 'app.log'), 'utf8')).split('\n').filter(Boolean);

describe('kubernetes source with --watch, over HTTP against a scripted Kubernetes API', () => {
  it('reads every line of a followed container once, across a closed stream and a restart', async () => {
    expect(result.warnings).toEqual([]);
    expect(result.manifest.sources).toEqual([expect.objectContaining({ name: 'kubernetes', status: 'ok' })]);
    expect(await logOf('a')).toEqual([...first, ...second]);
  });

  it('keeps the log of a pod deleted during the watch and follows a pod created in it', async () => {
    expect(await logOf('gone')).toEqual([`${at(300)} G1`]);
    expect(await logOf('b')).toEqual([`${at(2500)} B1`]);
    expect(pods.map((p) => p.name)).toEqual(['a', 'b', 'gone']);
  });
});
