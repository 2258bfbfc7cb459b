import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle, type Series } from '@hindsight/core';
import { collect } from '../collect.js';
import {
  CHART_LOG_FORMAT,
  COMBINED_LOG_FORMAT,
  compileLogFormat,
  logFormatFromConfig,
} from '../nginx-log-format.js';
import { nginxSource } from './nginx.js';
import { httpServer, shopServers, tempDir, type TestHttpServer } from '../test-support.js';

const NGINX = process.env['NGINX_BIN'] ?? '/usr/sbin/nginx';
const chartConfigMap = fileURLToPath(
  new URL('../../../../stack/chart/templates/nginx-configmap.yaml', import.meta.url),
);

let tmp: Awaited<ReturnType<typeof tempDir>>;
let upstream: TestHttpServer;
let nginx: ChildProcess;
let port: number;
let accessLog: string;

async function get(p: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  tmp = await tempDir('hs-collect-nginx-');
  upstream = await httpServer(async (url, _req, res) => {
    if (url.pathname === '/slow') return; // never answers: nginx gives up with 504
    await new Promise((r) => setTimeout(r, 5));
    res.statusCode = url.pathname === '/missing' ? 404 : 200;
    res.end('ok');
  });
  port = await (await shopServers()).freePort();
  accessLog = path.join(tmp.dir, 'access.log');
  const upstreamPort = new URL(upstream.url).port;
  // The chart's log_format, verbatim, with a small server in front of a Node upstream.
  const conf = `
daemon off;
worker_processes 1;
pid ${tmp.dir}/nginx.pid;
error_log ${tmp.dir}/error.log warn;
events { worker_connections 64; }
http {
  client_body_temp_path ${tmp.dir}/body;
  proxy_temp_path ${tmp.dir}/proxy;
  fastcgi_temp_path ${tmp.dir}/fastcgi;
  uwsgi_temp_path ${tmp.dir}/uwsgi;
  scgi_temp_path ${tmp.dir}/scgi;
  log_format hindsight escape=json '${CHART_LOG_FORMAT}';
  access_log ${accessLog} hindsight;
  server {
    listen 127.0.0.1:${port};
    location = /broken { return 502; }
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};
      proxy_read_timeout 300ms;
    }
  }
}`;
  await writeFile(path.join(tmp.dir, 'nginx.conf'), conf);
  nginx = spawn(NGINX, ['-p', tmp.dir, '-c', path.join(tmp.dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      await get('/ready');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  for (let i = 0; i < 20; i++) expect(await get(`/cart?i=${i}`)).toBe(200);
  expect(await get('/missing')).toBe(404);
  expect(await get('/broken')).toBe(502);
  expect(await get('/slow')).toBe(504);
});
afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    nginx.kill('SIGQUIT');
    await new Promise((r) => nginx.once('exit', r));
  }
  await upstream?.close();
  await tmp?.cleanup();
});

async function seriesOf(dir: string): Promise<Series[]> {
  const out: Series[] = [];
  for await (const s of (await openBundle(dir)).series()) out.push(s);
  return out;
}

const total = (s: Series | undefined): number => (s?.points ?? []).reduce((a, [, v]) => a + v, 0);

describe('nginx source on lines written by a real nginx with the chart log_format', () => {
  it('keeps the built-in format in step with the chart', async () => {
    const text = await readFile(chartConfigMap, 'utf8');
    expect(logFormatFromConfig(text, 'hindsight')).toBe(CHART_LOG_FORMAT);
  });

  it('turns the access log into per-second request, status and latency series', async () => {
    // nginx writes the access log line when the request ends; the last one may lag a moment.
    let lines = 0;
    for (let i = 0; i < 100 && lines < 24; i++) {
      lines = (await readFile(accessLog, 'utf8')).split('\n').filter((l) => l.length > 0).length;
      if (lines < 24) await new Promise((r) => setTimeout(r, 50));
    }
    expect(lines).toBe(24);
    const out = `${tmp.dir}/bundle`;
    const now = Date.now();
    const r = await collect({
      output: out,
      window: { from: new Date(now - 120_000), to: new Date(now + 60_000) },
      nginxLog: accessLog,
      sources: [nginxSource],
    });
    expect(r.warnings).toEqual([]);
    expect(r.manifest.sources[0]).toMatchObject({ name: 'nginx', status: 'ok' });
    expect(await validateBundle(out)).toEqual([]);
    const series = await seriesOf(out);
    const by = (name: string): Series | undefined => series.find((s) => s.name === name);
    expect(total(by('nginx_requests'))).toBe(24);
    // 20 carts and the one /ready probe that found nginx listening.
    expect(total(by('nginx_status_2xx'))).toBe(21);
    expect(total(by('nginx_status_4xx'))).toBe(1);
    expect(total(by('nginx_status_5xx'))).toBe(2);
    expect(total(by('nginx_status_502'))).toBe(1);
    expect(total(by('nginx_status_504'))).toBe(1);
    expect(by('nginx_requests')?.labels).toEqual({ source: 'nginx', component: 'nginx' });
    // The 504 waited for proxy_read_timeout (300 ms): the p99 of its second shows it.
    const p99 = Math.max(...(by('nginx_request_time_p99')?.points ?? []).map(([, v]) => v));
    expect(p99).toBeGreaterThanOrEqual(0.3);
    expect(by('nginx_upstream_time_p99')?.points.length).toBeGreaterThan(0);
  });

  it('warns about lines of another format and still uses the others', async () => {
    const mixed = path.join(tmp.dir, 'mixed.log');
    const good = (await readFile(accessLog, 'utf8')).split('\n').filter((l) => l.length > 0);
    await writeFile(
      mixed,
      [...good.slice(0, 5), 'not an access log line', ...good.slice(5, 10)].join('\n') + '\n',
    );
    const now = Date.now();
    const r = await collect({
      output: `${tmp.dir}/mixed`,
      window: { from: new Date(now - 120_000), to: new Date(now + 60_000) },
      nginxLog: mixed,
      sources: [nginxSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'nginx', status: 'partial' });
    expect(r.warnings[0]).toMatchObject({ code: 'HINDSIGHT_LOG_FORMAT' });
    expect(r.warnings[0]?.message).toMatch(/1 of 11 .*line 6/);
    expect(total((await seriesOf(`${tmp.dir}/mixed`)).find((s) => s.name === 'nginx_requests'))).toBe(10);
  });

  it("counts nginx's own error-log lines in the same stream as a series by level, without a warning", async () => {
    // A container's logs hold stderr (the error log) beside stdout (the access log).
    const errors = (await readFile(path.join(tmp.dir, 'error.log'), 'utf8'))
      .split('\n')
      .filter((l) => /\[error\]/.test(l));
    expect(errors.some((l) => l.includes('upstream timed out'))).toBe(true);
    const good = (await readFile(accessLog, 'utf8')).split('\n').filter((l) => l.length > 0);
    const mixed = path.join(tmp.dir, 'with-errors.log');
    await writeFile(mixed, [...good.slice(0, 12), ...errors, ...good.slice(12)].join('\n') + '\n');
    const now = Date.now();
    const r = await collect({
      output: `${tmp.dir}/with-errors`,
      window: { from: new Date(now - 120_000), to: new Date(now + 60_000) },
      nginxLog: mixed,
      sources: [nginxSource],
    });
    expect(r.warnings).toEqual([]);
    expect(r.manifest.sources[0]).toMatchObject({ name: 'nginx', status: 'ok' });
    const series = await seriesOf(`${tmp.dir}/with-errors`);
    const lines = series.find((s) => s.name === 'nginx_error_log_lines');
    expect(lines?.labels).toEqual({ source: 'nginx', component: 'nginx', level: 'error' });
    expect(total(lines)).toBe(errors.length);
    expect(total(series.find((s) => s.name === 'nginx_requests'))).toBe(24);
  });
});

describe('nginx log_format compiler', () => {
  it('parses the combined format, with its local time and a quoted user agent', () => {
    const f = compileLogFormat(COMBINED_LOG_FORMAT);
    const v = f.parse(
      '10.0.0.7 - - [25/Nov/2026:19:17:37 +0100] "GET /cart?id=1 HTTP/1.1" 499 0 "-" "curl/8.1 (x86_64) \\"q\\""',
    );
    expect(v).toMatchObject({ remote_addr: '10.0.0.7', status: '499', request: 'GET /cart?id=1 HTTP/1.1' });
    expect(v?.['http_user_agent']).toBe('curl/8.1 (x86_64) \\"q\\"');
  });

  it('accepts a whole directive and ${var} spelling', () => {
    const f = compileLogFormat(
      `log_format main '\${remote_addr} [$time_iso8601] '\n  '$status $request_time';`,
    );
    expect(f.variables).toEqual(['remote_addr', 'time_iso8601', 'status', 'request_time']);
    expect(f.parse('1.2.3.4 [2026-11-25T19:17:37+00:00] 200 0.004')).toMatchObject({ status: '200' });
    expect(f.parse('1.2.3.4 [2026-11-25T19:17:37+00:00] OK 0.004')).toBeUndefined();
  });
});
