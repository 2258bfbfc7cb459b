// The shop under faults: for each fault, a fresh platform of real processes on loopback (a
// redis-server master, a PostgreSQL cluster made with initdb, 2 shop processes, nginx with the
// chart's proxy retry and keep-alive settings), `lab traffic`'s generator (runTraffic, the lab's
// ground truth) for SECONDS, the fault injected by pid at a third of the run, then, after the
// sweeper's period, the database read: stock drift (seeded stock less what pending, paid and
// confirmed orders hold, against the table) and the orders left open.
//
// Run: npx tsc -b stack/shop stack/lab && node bench/shop-checkout.mjs --faults [--seconds 12] [--users 8]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTraffic } from '@hindsight/lab';
import { freePort, SHOP_MAIN, startPostgres, startRedisReplicaSet, stockDrift } from '@hindsight/shop';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const seconds = Number(arg('seconds', '12'));
const users = Number(arg('users', '8'));
const STUCK_AFTER_SECONDS = 2;
const SWEEP_INTERVAL_SECONDS = 1;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function settledWithin(promise, ms) {
  return Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);
}

async function waitHttp(url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

/** The faults, each injected by pid into a running platform; `heal` is what a kubelet or operator does next. */
const FAULTS = {
  none: { what: 'no fault', async inject() {} },
  'postgres-sigint': {
    what: 'PostgreSQL fast shutdown (SIGINT), restarted 1 s later',
    async inject({ pg }) {
      pg.kill('SIGINT');
      await pg.exited();
      await sleep(1000);
      await pg.start();
    },
  },
  'postgres-sigterm': {
    what: 'PostgreSQL smart shutdown (SIGTERM), restarted 1 s after it exits',
    async inject({ pg }) {
      pg.kill('SIGTERM');
      await pg.exited();
      await sleep(1000);
      await pg.start();
    },
  },
  'shop-sigkill': {
    what: 'one of 2 shop processes killed (SIGKILL), restarted 1 s later',
    async inject({ shops }) {
      const victim = shops[0];
      victim.child.kill('SIGKILL');
      await once(victim.child, 'exit');
      await sleep(1000);
      victim.start();
    },
  },
};

function shopProcess(env) {
  const p = {
    child: undefined,
    start() {
      p.child = spawn(process.execPath, [SHOP_MAIN], { stdio: ['ignore', 'ignore', 'inherit'], env });
    },
    async stop() {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill('SIGTERM');
      await once(p.child, 'exit');
    },
  };
  p.start();
  return p;
}

// The chart's nginx settings that matter here (stack/chart/templates/nginx-configmap.yaml): an upstream
// keep-alive pool whose idle connections close before a shop's drain ends, and retries of failed
// connections for idempotent requests only.
function nginxConf(dir, port, shopPorts) {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream shop { ${shopPorts.map((p) => `server 127.0.0.1:${p};`).join(' ')} keepalive 32; keepalive_timeout 2s; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://shop;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 5s;
      proxy_read_timeout 30s;
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
    }
  }
}
`;
}

async function runFault(name) {
  const fault = FAULTS[name];
  const dir = await mkdtemp(join(tmpdir(), 'bench-shop-faults-'));
  const redis = await startRedisReplicaSet({ replicas: 0 });
  const pg = await startPostgres();
  const shops = [];
  let nginx;
  try {
    const shopPorts = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      shopPorts.push(port);
      shops.push(
        shopProcess({
          PATH: process.env.PATH,
          HOST: '127.0.0.1',
          PORT: String(port),
          POD_NAME: `shop-${i}`,
          LOG_LEVEL: 'warn',
          REDIS_MASTER_URL: redis.masterUrl,
          SESSION_SECRET: 'bench-secret-0123456789abcdef',
          PGHOST: pg.host,
          PGPORT: String(pg.port),
          PGUSER: pg.user,
          PGDATABASE: pg.database,
          PG_CONNECT_TIMEOUT_MS: '1000',
          CHECKOUT_STUCK_AFTER_SECONDS: String(STUCK_AFTER_SECONDS),
          SWEEP_INTERVAL_SECONDS: String(SWEEP_INTERVAL_SECONDS),
        }),
      );
      if (i === 0) await waitHttp(`http://127.0.0.1:${port}/readyz`);
    }
    for (const port of shopPorts) await waitHttp(`http://127.0.0.1:${port}/readyz`);
    const nginxPort = await freePort();
    await writeFile(join(dir, 'nginx.conf'), nginxConf(dir, nginxPort, shopPorts));
    nginx = spawn(NGINX, ['-p', dir, '-e', join(dir, 'nginx-error.log'), '-c', join(dir, 'nginx.conf')], {
      stdio: 'inherit',
    });
    const baseUrl = `http://127.0.0.1:${nginxPort}`;
    await waitHttp(`${baseUrl}/healthz`);

    const statuses = {};
    const traffic = runTraffic({
      baseUrl,
      users,
      durationMs: seconds * 1000,
      maxRequests: users * seconds * 200,
      onSecond: (s) => {
        for (const [k, n] of Object.entries(s.status)) statuses[k] = (statuses[k] ?? 0) + n;
      },
    });
    // Readiness as a kubelet sees it: each shop's /readyz every 500 ms (this nginx does not act on it;
    // in the lab or a cluster an unready shop leaves the Service's endpoints).
    const probes = { total: 0, unready: 0 };
    let probing = true;
    const prober = (async () => {
      while (probing) {
        for (const port of shopPorts) {
          probes.total++;
          const ok = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) })
            .then((r) => r.status === 200)
            .catch(() => false);
          if (!ok) probes.unready++;
        }
        await sleep(500);
      }
    })();
    await sleep((seconds * 1000) / 3);
    const injected = fault.inject({ pg, shops });
    const summary = await traffic;
    probing = false;
    await prober;
    // The sweeper's period: orders cut by the fault are closed within stuck-after + one sweep.
    await sleep((STUCK_AFTER_SECONDS + 2 * SWEEP_INTERVAL_SECONDS) * 1000);
    const alive = shops.filter((s) => s.child.exitCode === null && s.child.signalCode === null).length;
    // A smart shutdown ends when the last session closes: should the shops still hold one, their
    // stop lets it go, and PostgreSQL starts again to be read.
    await Promise.all(shops.map((s) => s.stop()));
    const shutdownLingered =
      name === 'postgres-sigterm' && pg.pid !== undefined && !(await settledWithin(injected, 0));
    await injected;
    const drift = await stockDrift(pg);
    const left = Number(await pg.psql(`SELECT count(*) FROM orders WHERE status IN ('pending', 'paid')`));
    return {
      fault: name,
      what: fault.what,
      requests: summary.requests,
      sessionsLost: summary.sessionsLost,
      stockDrift: drift.reduce((n, d) => n + Math.abs(d.seeded - d.held - d.stock), 0),
      ordersLeft: left,
      ordersLeftByTraffic: summary.checkoutsStuck,
      fiveXX: Object.entries(statuses)
        .filter(([k]) => Number(k) >= 500)
        .reduce((n, [, c]) => n + c, 0),
      errors: summary.errors,
      statuses,
      checkoutsStarted: summary.checkoutsStarted,
      checkoutsConfirmed: summary.checkoutsConfirmed,
      shopsAliveAtEnd: alive,
      readyzUnready: `${probes.unready}/${probes.total}`,
      ...(name === 'postgres-sigterm' ? { shutdownLingeredPastTraffic: shutdownLingered } : {}),
    };
  } finally {
    if (nginx) {
      nginx.kill('SIGQUIT');
      await once(nginx, 'exit');
    }
    await Promise.all(shops.map((s) => s.stop()));
    await Promise.all([redis.stop(), pg.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

const only = arg('fault', undefined);
const rows = [];
for (const name of Object.keys(FAULTS)) {
  if (only !== undefined && only !== name) continue;
  rows.push(await runFault(name));
}
console.log(JSON.stringify(rows, null, 2));
