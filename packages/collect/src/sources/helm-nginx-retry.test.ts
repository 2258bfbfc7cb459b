// The helm and nginx sources' retries of the API server: a proxy on 127.0.0.1 in front of the API
// server of recorded responses (kube-fixture.ts) fails as one does while it restarts or sheds load
// (503 on the release Secrets, 429 with Retry-After on the pod list, 500 on a log), then passes the
// requests through.
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle } from '@hindsight/core';
import { collect } from '../collect.js';
import { FIXTURE_WINDOW, startKubeApi } from '../kube-fixture.js';
import { forward, httpServer, kubeStatus, sendJson, tempDir, type TestHttpServer } from '../test-support.js';
import { helmSource } from './helm.js';
import { nginxSource } from './nginx.js';

const NGINX_POD = 'shop-nginx-5c6b7d8f9-kq8zt';
let tmp: Awaited<ReturnType<typeof tempDir>>;
let api: Awaited<ReturnType<typeof startKubeApi>>;
let proxy: TestHttpServer;
let kubeconfig: string;

beforeAll(async () => {
  tmp = await tempDir('hs-helm-nginx-retry-');
  api = await startKubeApi(tmp.dir);
  const upstream = new URL(api.server.url);
  const seen = new Map<string, number>();
  proxy = await httpServer((url, req, res) => {
    const n = (seen.get(url.pathname) ?? 0) + 1;
    seen.set(url.pathname, n);
    if (url.pathname === '/api/v1/namespaces/shop/secrets' && n <= 2)
      return sendJson(res, 503, kubeStatus(503, 'the server is currently unable to handle the request'));
    if (url.pathname === '/api/v1/namespaces/shop/pods' && n === 1) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
      return res.end(JSON.stringify(kubeStatus(429, 'too many requests, please try again later')));
    }
    if (url.pathname === `/api/v1/namespaces/shop/pods/${NGINX_POD}/log` && n === 1)
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

describe('helm and nginx sources retrying the API server (recorded API responses behind a failing proxy)', () => {
  it('reads the release Secrets, the nginx pods and their log after 503, 429 and 500, and says each retried', async () => {
    const out = `${tmp.dir}/bundle`;
    const r = await collect({
      output: out,
      window: FIXTURE_WINDOW,
      kubeconfig,
      sources: [helmSource, nginxSource],
    });
    // The fixture's broken release record makes helm partial, retries or not.
    expect(r.manifest.sources.map((s) => [s.name, s.status])).toEqual([
      ['helm', 'partial'],
      ['nginx', 'ok'],
    ]);
    expect(r.warnings.map((w) => w.code)).toEqual(['HINDSIGHT_RELEASE_RECORD']);
    const b = await openBundle(out);
    expect((await b.changes()).filter((c) => c.kind === 'helm')).toHaveLength(2);
    const series = [];
    for await (const s of b.series()) series.push(s);
    expect(series.find((s) => s.name === 'nginx_requests')?.labels['pod']).toBe(NGINX_POD);
    expect(r.manifest.notes).toEqual(
      expect.arrayContaining([
        `helm: 2 retries after transient failures (HTTP 503 x2) at ${proxy.url}`,
        `nginx: 2 retries after transient failures (HTTP 429 x1, HTTP 500 x1) at ${proxy.url}`,
      ]),
    );
  });

  it('fails on an API server that is down after 4 tries, naming it', async () => {
    const down = await httpServer(() => undefined);
    await down.close();
    const config = `${tmp.dir}/kubeconfig-down`;
    await writeFile(config, (await readFile(api.kubeconfig, 'utf8')).replace(api.server.url, down.url));
    const r = await collect({
      output: `${tmp.dir}/down`,
      window: FIXTURE_WINDOW,
      kubeconfig: config,
      sources: [helmSource, nginxSource],
      retry: { attempts: 4, baseMs: 5, maxDelayMs: 50, budgetMs: 2000 },
    });
    const tries = '\\(4 tries over \\d+\\.\\d s\\)';
    expect(r.manifest.sources.map((s) => [s.name, s.status])).toEqual([
      ['helm', 'failed'],
      ['nginx', 'failed'],
    ]);
    expect(r.manifest.sources[0]?.error).toMatch(
      new RegExp(
        `^cannot list Helm release Secrets in shop at ${down.url}: .*ECONNREFUSED.* ${tries} \\(--no-helm-secrets`,
      ),
    );
    expect(r.manifest.sources[1]?.error).toMatch(
      new RegExp(`^cannot read the nginx pods of shop at ${down.url}: .*ECONNREFUSED.* ${tries}$`),
    );
  });
});
