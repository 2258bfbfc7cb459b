// Throughput and tail latency of the whole checkout flow through nginx -> shop -> Redis and
// PostgreSQL on this machine, with the sessions lost. Real processes on loopback: a redis-server
// master with 2 replicas, a PostgreSQL cluster made with initdb, SHOPS shop processes
// (node stack/shop/dist/main.js) and nginx proxying to them. Each virtual user loops over a
// visit: login, then PURCHASES times (add 2 items, read the cart, checkout start, pay, confirm),
// then logout. A session is
// counted lost when a request after login answers 401 SHOP_SESSION_MISSING or the cart read
// does not hold the items just added.
//
// Run: npx tsc -b stack/shop && node bench/shop-checkout.mjs [--seconds 20] [--users 16] [--shops 2]
//      [--purchases 3] [--read-from master|replicas] [--guard true|false]
// Faults: node bench/shop-checkout.mjs --faults (see bench/shop-faults.mjs).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startPostgres, startRedisReplicaSet, SEED_USERS } from '@hindsight/shop';

// `--faults`: the fault table instead (bench/shop-faults.mjs).
if (process.argv.includes('--faults')) {
  await import('./shop-faults.mjs');
  process.exit(0);
}

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, '..', 'stack', 'shop', 'dist', 'main.js');
const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const seconds = Number(arg('seconds', '20'));
const users = Number(arg('users', '16'));
const shops = Number(arg('shops', '2'));
const purchases = Number(arg('purchases', '3'));
const readFrom = arg('read-from', 'master');
const guard = arg('guard', 'true');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitHttp(url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

const dir = await mkdtemp(join(tmpdir(), 'bench-shop-'));
const redis = await startRedisReplicaSet({ replicas: 2 });
const pg = await startPostgres();
const children = [];
let nginx;
try {
  const shopPorts = [];
  for (let i = 0; i < shops; i++) {
    const port = await freePort();
    shopPorts.push(port);
    const child = spawn(process.execPath, [MAIN], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        PORT: String(port),
        POD_NAME: `shop-${i}`,
        LOG_LEVEL: 'info',
        REDIS_MASTER_URL: redis.masterUrl,
        REDIS_REPLICA_URLS: redis.replicaUrls.join(','),
        SESSION_READ_FROM: readFrom,
        SESSION_READ_YOUR_WRITES: guard,
        SESSION_SECRET: 'bench-secret-0123456789abcdef',
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGUSER: pg.user,
        PGDATABASE: pg.database,
      },
    });
    children.push(child);
    // One shop migrates and seeds first, so the others find the work done.
    if (i === 0) await waitHttp(`http://127.0.0.1:${port}/readyz`);
  }
  for (const port of shopPorts) await waitHttp(`http://127.0.0.1:${port}/readyz`);

  const nginxPort = await freePort();
  await writeFile(
    join(dir, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  log_format hindsight escape=json '{"time":"$time_iso8601","msec":$msec,"remote_addr":"$remote_addr","request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,"upstream_response_time":"$upstream_response_time","upstream_status":"$upstream_status","upstream_addr":"$upstream_addr"}';
  access_log ${dir}/access.log hindsight buffer=64k flush=1s;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream shop { ${shopPorts.map((p) => `server 127.0.0.1:${p};`).join(' ')} keepalive 32; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://shop;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 5s;
      proxy_read_timeout 30s;
    }
  }
}
`,
  );
  nginx = spawn(NGINX, ['-p', dir, '-e', join(dir, 'nginx-error.log'), '-c', join(dir, 'nginx.conf')], {
    stdio: 'inherit',
  });
  const base = `http://127.0.0.1:${nginxPort}`;
  await waitHttp(`${base}/healthz`);

  const latencies = [];
  const byRoute = new Map();
  const flowLatencies = [];
  const statuses = new Map();
  let lost = 0;
  // Writes refused because the session changed since it was read (a stale read caught at write time).
  let conflicts = 0;
  let visits = 0;
  let failedVisits = 0;
  const stopAt = Date.now() + seconds * 1000;

  // node:http with a keep-alive agent: fetch (undici) cost ~4 ms of client CPU per request here,
  // which on 2 cores is taken from the servers being measured.
  const agent = new http.Agent({ keepAlive: true, maxSockets: users * 2 });
  function send(method, path, headers, payload) {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: nginxPort, method, path, headers, agent },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async function call(state, method, path, body) {
    const headers = {};
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    if (state.cookie) headers.cookie = state.cookie;
    const t0 = performance.now();
    const res = await send(method, path, headers, payload);
    const ms = performance.now() - t0;
    latencies.push(ms);
    const key = `${method} ${path}`;
    if (!byRoute.has(key)) byRoute.set(key, []);
    byRoute.get(key).push(ms);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const set = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith('shop_sid='));
    if (set) state.cookie = set.split(';')[0];
    const json = res.text === '' ? null : JSON.parse(res.text);
    if (res.status === 401 && json?.error?.code === 'SHOP_SESSION_MISSING') state.lost = true;
    if (res.status === 409 && json?.error?.code === 'SHOP_SESSION_CONFLICT') conflicts += 1;
    return { status: res.status, json };
  }

  async function visit(vu, n) {
    const user = SEED_USERS[(vu * 7 + n) % SEED_USERS.length];
    const state = { cookie: undefined, lost: false };
    const t0 = performance.now();
    const purchase = (i) => [
      () => call(state, 'POST', '/cart/items', { sku: 'tea-green', qty: 1 }),
      () => call(state, 'POST', '/cart/items', { sku: 'mug', qty: 2 }),
      async () => {
        const r = await call(state, 'GET', '/cart');
        if (r.status === 200 && r.json.items.length !== 2) state.lost = true;
        return r;
      },
      () => call(state, 'POST', '/checkout/start'),
      () => call(state, 'POST', '/checkout/pay', { idempotencyKey: `bench-${vu}-${n}-${i}-${Date.now()}` }),
      () => call(state, 'POST', '/checkout/confirm'),
    ];
    const steps = [
      () => call(state, 'POST', '/login', { username: user.username, password: user.password }),
      ...Array.from({ length: purchases }, (_, i) => purchase(i)).flat(),
      () => call(state, 'POST', '/logout'),
    ];
    let ok = true;
    for (const step of steps) {
      const r = await step();
      if (r.status !== 200) {
        ok = false;
        break;
      }
    }
    visits += 1;
    if (state.lost) lost += 1;
    if (!ok) failedVisits += 1;
    else flowLatencies.push(performance.now() - t0);
  }

  const started = performance.now();
  await Promise.all(
    Array.from({ length: users }, async (_, vu) => {
      for (let n = 0; Date.now() < stopAt; n++) await visit(vu, n);
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  };
  const stuck = await (await fetch(`${base}/admin/stuck`)).json();
  // The shops' own counters, summed over the pods: what the platform saw of the same run.
  const counter = (text, name) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name) && !l.startsWith('#'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  const scraped = await Promise.all(
    shopPorts.map(async (p) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text()),
  );
  const shopCounters = {
    session_missing_total: scraped.reduce((n, t) => n + counter(t, 'session_missing_total'), 0),
    session_stale_reads_total: scraped.reduce((n, t) => n + counter(t, 'session_stale_reads_total'), 0),
  };
  const access = (await readFile(join(dir, 'access.log'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean).length;
  const result = {
    config: {
      seconds,
      users,
      shops,
      purchasesPerVisit: purchases,
      readFrom,
      readYourWrites: guard,
      replicas: 2,
    },
    requests: latencies.length,
    requestsPerSecond: Math.round(latencies.length / elapsed),
    requestP50Ms: Number(pct(latencies, 50).toFixed(1)),
    requestP99Ms: Number(pct(latencies, 99).toFixed(1)),
    visits,
    visitsPerSecond: Number((visits / elapsed).toFixed(1)),
    visitP99Ms: Number(pct(flowLatencies, 99).toFixed(1)),
    failedVisits,
    sessionsLost: lost,
    sessionConflicts: conflicts,
    stuckOrders: stuck.count,
    shopCounters,
    statuses: Object.fromEntries(statuses),
    routeP50P99Ms: Object.fromEntries(
      [...byRoute].map(([k, xs]) => [k, [Number(pct(xs, 50).toFixed(1)), Number(pct(xs, 99).toFixed(1))]]),
    ),
    nginxAccessLogLines: access,
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  if (nginx) {
    nginx.kill('SIGQUIT');
    await once(nginx, 'exit');
  }
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode === null) {
        c.kill('SIGTERM');
        await once(c, 'exit');
      }
    }),
  );
  await Promise.all([redis.stop(), pg.stop()]);
  await rm(dir, { recursive: true, force: true });
}
