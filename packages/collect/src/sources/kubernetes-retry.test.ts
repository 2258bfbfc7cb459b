// The kubernetes source's retries: a proxy on 127.0.0.1 in front of the API server of recorded
// responses fails as an API server does while it restarts or sheds load (503, 429 with
// Retry-After, 500 on a log), then passes the requests through.
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '@hindsight/core';
import { collect } from '../collect.js';
import { FIXTURE_WINDOW, startKubeApi } from '../kube-fixture.js';
import { forward, httpServer, kubeStatus, sendJson, tempDir, type TestHttpServer } from '../test-support.js';
import { kubernetesSource } from './kubernetes.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let api: Awaited<ReturnType<typeof startKubeApi>>;
let proxy: TestHttpServer;
let kubeconfig: string;

beforeAll(async () => {
  tmp = await tempDir('hs-kube-retry-');
  api = await startKubeApi(tmp.dir);
  const upstream = new URL(api.server.url);
  let podLists = 0;
  let events = 0;
  let logs = 0;
  proxy = await httpServer((url, req, res) => {
    if (url.pathname === '/api/v1/namespaces/shop/pods' && ++podLists <= 2)
      return sendJson(res, 503, kubeStatus(503, 'the server is currently unable to handle the request'));
    if (url.pathname === '/api/v1/namespaces/shop/events' && ++events === 1) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      return res.end(JSON.stringify(kubeStatus(429, 'too many requests, please try again later')));
    }
    if (url.pathname.endsWith('/pods/shop-redis-master-0/log') && ++logs === 1)
      return sendJson(res, 500, kubeStatus(500, 'error dialing backend'));
    forward(upstream, req, res);
  });
  kubeconfig = `${tmp.dir}/kubeconfig-proxy`;
  await writeFile(kubeconfig, (await readFile(api.kubeconfig, 'utf8')).replace(api.server.url, proxy.url));
});
afterAll(async () => {
  await proxy?.close();
  await api?.server.close();
  await tmp?.cleanup();
});

describe('kubernetes source retrying the API server (recorded API responses behind a failing proxy)', () => {
  it('reads the pods, events and logs when the API answers 503, 429 and 500 first, and says it retried', async () => {
    const out = `${tmp.dir}/bundle`;
    const r = await collect({ output: out, window: FIXTURE_WINDOW, kubeconfig, sources: [kubernetesSource] });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'kubernetes', status: 'ok' });
    expect(r.warnings).toEqual([]);
    const b = await openBundle(out);
    expect((await b.pods()).length).toBe(4);
    expect((await b.logs()).map((l) => l.file)).toContain('logs/shop/shop-redis-master-0/redis.log');
    expect((await b.events()).length).toBeGreaterThan(0);
    const note = r.manifest.notes?.find((n) => n.startsWith('kubernetes: '));
    expect(note).toMatch(
      new RegExp(`^kubernetes: 4 retries after transient failures \\(.*\\) at ${proxy.url}$`),
    );
    for (const reason of ['HTTP 503 x2', 'HTTP 429 x1', 'HTTP 500 x1']) expect(note).toContain(reason);
  });

  it('fails on an API server that is down after 4 tries, within seconds, naming it', async () => {
    const down = await httpServer(() => undefined);
    await down.close();
    const config = `${tmp.dir}/kubeconfig-down`;
    await writeFile(config, (await readFile(api.kubeconfig, 'utf8')).replace(api.server.url, down.url));
    const started = Date.now();
    const r = await collect({
      output: `${tmp.dir}/down`,
      window: FIXTURE_WINDOW,
      kubeconfig: config,
      sources: [kubernetesSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'kubernetes', status: 'failed' });
    expect(r.manifest.sources[0]?.error).toMatch(
      new RegExp(
        `^cannot list pods in shop at ${down.url}: .*ECONNREFUSED.* \\(4 tries over \\d+\\.\\d s\\)$`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
