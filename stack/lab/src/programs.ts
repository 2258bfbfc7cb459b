import { chownSync, existsSync, lchownSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { HindsightError } from '@hindsight/core';
import type { Endpoint } from './service-proxy.js';
import { ensurePrivateDir } from './paths.js';

/** The parts of a Kubernetes container spec the lab reads. */
export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string };
      configMapKeyRef?: { name: string; key: string };
      fieldRef?: { fieldPath: string };
    };
  }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  resources?: { limits?: { memory?: string | number }; requests?: Record<string, string | number> };
}

/** Bytes of a Kubernetes quantity (`256Mi`, `1G`, `128974848`, `129e6`); undefined when unreadable. */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(q.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(m[1]) * (m[2] ? mult[m[2]]! : 1));
}

/** A Kubernetes probe. */
export interface ProbeSpec {
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

/** What a container needs from its pod and the lab to become a local process. */
export interface PodContext {
  pod: string;
  namespace: string;
  /** mountPath -> local path, longest first. */
  mounts: { mountPath: string; local: string }[];
  /** containerPort -> local port of this pod. */
  ports: Map<number, number>;
  /** port name -> containerPort. */
  portNames: Map<string, number>;
  /** The local port of Service `name` port `port`, if the lab runs it. */
  serviceLocalPort(name: string, port: number): number | undefined;
  /** Every Service name, to rewrite host names. */
  serviceNames(): string[];
  /** Ready endpoints of Service `name` port `port`. */
  serviceEndpoints(name: string, port: number): Endpoint[];
  secretValue(name: string, key: string): string | undefined;
  configMapValue(name: string, key: string): string | undefined;
  shopEntry: string;
}

/** A container as a local process. */
export interface ProcessSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
  /** The image's STOPSIGNAL (postgres: SIGINT, nginx: SIGQUIT), as the kubelet sends it. */
  stopSignal: NodeJS.Signals;
  /** Runs before each start (initdb, config files). */
  prepare?: () => Promise<void>;
  /** Runs once the process accepts connections (postgres: create the database the entrypoint would). */
  afterStart?: () => Promise<void>;
  /** Rewrites config from the current endpoints; true when the process must reload (SIGHUP). */
  refresh?: () => Promise<boolean>;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Maps a container path through the pod's mounts to the local path. */
export function mapPath(ctx: PodContext, p: string): string {
  for (const m of ctx.mounts) {
    if (p === m.mountPath) return m.local;
    if (p.startsWith(`${m.mountPath}/`)) return join(m.local, p.slice(m.mountPath.length + 1));
  }
  return p;
}

/** Rewrites `svc:port` and `svc port` to the Service's local address, and container paths to local ones. */
export function rewriteText(ctx: PodContext, text: string): string {
  let out = text;
  for (const svc of ctx.serviceNames()) {
    const re = new RegExp(
      `\\b${svc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\.[a-z0-9.-]*)?:(\\d+)\\b`,
      'g',
    );
    out = out.replace(re, (whole, port: string) => {
      const local = ctx.serviceLocalPort(svc, Number(port));
      return local === undefined ? whole : `127.0.0.1:${local}`;
    });
  }
  return out;
}

function imageName(image: string): string {
  const noTag = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  return noTag.split('/').at(-1) ?? noTag;
}

/** The env of a container: values resolved (Secrets, ConfigMaps, fields), Service names pointed at the lab. */
export function containerEnv(ctx: PodContext, c: ContainerSpec): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const e of c.env ?? []) {
    let v: string | undefined = e.value;
    const from = e.valueFrom;
    if (from?.secretKeyRef) v = ctx.secretValue(from.secretKeyRef.name, from.secretKeyRef.key);
    else if (from?.configMapKeyRef)
      v = ctx.configMapValue(from.configMapKeyRef.name, from.configMapKeyRef.key);
    else if (from?.fieldRef) {
      const f = from.fieldRef.fieldPath;
      v =
        f === 'metadata.name'
          ? ctx.pod
          : f === 'metadata.namespace'
            ? ctx.namespace
            : f.startsWith('status.')
              ? '127.0.0.1'
              : 'lab';
    }
    if (v === undefined) {
      throw new HindsightError(
        'HINDSIGHT_LAB',
        `env ${e.name} refers to a missing Secret or ConfigMap key`,
        `pod ${ctx.pod} container ${c.name}`,
      );
    }
    raw[e.name] = v;
  }
  const services = new Set(ctx.serviceNames());
  const out: Record<string, string> = {};
  for (const [k, v0] of Object.entries(raw)) {
    let v = rewriteText(ctx, v0);
    if (services.has(v)) v = '127.0.0.1';
    else if (v === '0.0.0.0' || v === '::') v = '127.0.0.1';
    else if (v.startsWith('/')) v = mapPath(ctx, v);
    out[k] = v;
  }
  // A *PORT beside a *HOST that names a Service is that Service's port (PGHOST/PGPORT); a PORT
  // equal to one of the container's ports is the pod's own listen port.
  for (const [k, v] of Object.entries(raw)) {
    if (!/PORT$/.test(k) || !/^\d+$/.test(v)) continue;
    const host = raw[k.replace(/PORT$/, 'HOST')];
    const svcPort =
      host !== undefined && services.has(host) ? ctx.serviceLocalPort(host, Number(v)) : undefined;
    if (svcPort !== undefined) out[k] = String(svcPort);
    else if (ctx.ports.has(Number(v))) out[k] = String(ctx.ports.get(Number(v)));
  }
  return out;
}

/** Rewrites `svc port` argument pairs (redis --replicaof HOST PORT) and container paths. */
function rewriteArgs(ctx: PodContext, args: string[]): string[] {
  const services = new Set(ctx.serviceNames());
  const out = args.map((a) => (a.startsWith('/') ? mapPath(ctx, a) : rewriteText(ctx, a)));
  for (let i = 0; i + 1 < out.length; i++) {
    if (services.has(out[i]!) && /^\d+$/.test(out[i + 1]!)) {
      const local = ctx.serviceLocalPort(out[i]!, Number(out[i + 1]));
      if (local !== undefined) {
        out[i] = '127.0.0.1';
        out[i + 1] = String(local);
      }
    }
  }
  return out;
}

function localPortOf(ctx: PodContext, c: ContainerSpec): number {
  const p = c.ports?.[0]?.containerPort;
  const local = p === undefined ? undefined : ctx.ports.get(p);
  if (local === undefined)
    throw new HindsightError(
      'HINDSIGHT_LAB',
      'container declares no port',
      `pod ${ctx.pod} container ${c.name}`,
    );
  return local;
}

function userIds(name: string): { uid: number; gid: number } | undefined {
  // postgres refuses to run as root: as root, the lab runs it as the postgres OS user.
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

// lstat and lchown: a link inside (planted by the user the tree is handed to) is not followed.
function chownTree(dir: string, uid: number, gid: number): void {
  lchownSync(dir, uid, gid);
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (lstatSync(p).isDirectory()) chownTree(p, uid, gid);
    else lchownSync(p, uid, gid);
  }
}

function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; uid?: number; gid?: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        env: { ...process.env, ...opts.env },
        ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
      },
      (err, _o, stderr) => {
        if (err)
          reject(new HindsightError('HINDSIGHT_LAB', `${cmd} failed: ${stderr.trim() || err.message}`));
        else resolve();
      },
    );
  });
}

/**
 * Maps a container to a local program by its image: redis -> /usr/bin/redis-server, postgres ->
 * the PostgreSQL 15 binaries (initdb on first start, as the image's entrypoint), nginx ->
 * /usr/sbin/nginx, the shop image -> `node stack/shop/dist/main.js`. Command, args, env and config
 * files are the rendered ones, with ports, hosts and paths rewritten to the lab's.
 */
export function processSpec(ctx: PodContext, c: ContainerSpec): ProcessSpec {
  const image = imageName(c.image);
  const env = containerEnv(ctx, c);
  const cwd = c.workingDir ? mapPath(ctx, c.workingDir) : join(ctx.mounts.at(-1)?.local ?? '/tmp');
  if (image === 'redis') {
    const cmd = [...(c.command ?? ['redis-server']), ...(c.args ?? [])];
    const args = rewriteArgs(ctx, cmd.slice(1));
    // Command-line options override the config file: the pod's port, loopback only, its data folder.
    args.push(
      '--port',
      String(localPortOf(ctx, c)),
      '--bind',
      '127.0.0.1',
      '--daemonize',
      'no',
      '--dir',
      cwd,
    );
    return {
      command: '/usr/bin/redis-server',
      args,
      env,
      cwd,
      stopSignal: 'SIGTERM',
      prepare: async () => {
        await mkdir(cwd, { recursive: true });
      },
    };
  }
  if (image === 'postgres' || image === 'postgresql') {
    const ids = userIds('postgres');
    const podPgdata = env.PGDATA ?? mapPath(ctx, '/var/lib/postgresql/data');
    // As root, postgres runs as the postgres user, who may not enter the state folder (~ is 0700 under
    // /root, mkdtemp makes 0700): its data then lives in /var/tmp, linked from the claim's folder.
    const outside = ids
      ? `/var/tmp/hindsight-lab-pg-${createHash('sha256').update(podPgdata).digest('hex').slice(0, 16)}`
      : undefined;
    const pgdata = outside ? join(outside, 'pgdata') : podPgdata;
    const runDir = outside ? join(outside, 'run') : mapPath(ctx, '/var/run/postgresql');
    const user = env.POSTGRES_USER ?? 'postgres';
    const password = env.POSTGRES_PASSWORD ?? '';
    const db = env.POSTGRES_DB ?? user;
    const port = localPortOf(ctx, c);
    return {
      command: join(PG_BIN, 'postgres'),
      args: [
        '-D',
        pgdata,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${runDir}`,
        ...rewriteArgs(ctx, c.args ?? []),
      ],
      env: { ...env, PGDATA: pgdata },
      cwd: pgdata,
      ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
      stopSignal: 'SIGINT',
      prepare: async () => {
        // Before anything is made inside: a name planted in /var/tmp (a symlink) is refused.
        if (ids && outside) await ensurePrivateDir(outside, ids);
        await mkdir(pgdata, { recursive: true, mode: 0o700 });
        await mkdir(runDir, { recursive: true });
        if (ids && outside) {
          chownTree(runDir, ids.uid, ids.gid);
          chownSync(pgdata, ids.uid, ids.gid);
          await mkdir(dirname(podPgdata), { recursive: true });
          if (!existsSync(podPgdata)) await symlink(pgdata, podPgdata);
        }
        if (existsSync(join(pgdata, 'PG_VERSION'))) return;
        // As the image's docker-entrypoint.sh: initdb with POSTGRES_USER and its password.
        const pwfile = join(runDir, '.pwfile');
        await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
        if (ids) chownSync(pwfile, ids.uid, ids.gid);
        await run(
          join(PG_BIN, 'initdb'),
          [
            '-D',
            pgdata,
            '-U',
            user,
            `--pwfile=${pwfile}`,
            '-A',
            'scram-sha-256',
            '--auth-local=trust',
            '-E',
            'UTF8',
            '--no-sync',
          ],
          { ...(ids ?? {}) },
        );
      },
      afterStart: async () => {
        const { default: pg } = await import('pg');
        const client = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'postgres' });
        await client.connect();
        try {
          const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
          if (r.rowCount === 0)
            await client.query(
              `CREATE DATABASE "${db.replace(/"/g, '""')}" OWNER "${user.replace(/"/g, '""')}"`,
            );
        } finally {
          await client.end();
        }
      },
    };
  }
  if (image === 'nginx') {
    const cmd = [...(c.command ?? ['nginx']), ...(c.args ?? [])];
    const args = rewriteArgs(ctx, cmd.slice(1));
    const ci = args.indexOf('-c');
    const conf = ci >= 0 ? args[ci + 1]! : mapPath(ctx, '/etc/nginx/nginx.conf');
    // The mounted file is the ConfigMap's text; nginx reads a rewritten copy beside it.
    const localConf = `${conf}.lab`;
    if (ci >= 0) args[ci + 1] = localConf;
    else args.push('-c', localConf);
    // Messages before the config is read go to stderr, not /var/log/nginx (absent or not ours).
    args.push('-e', 'stderr');
    const g = args.indexOf('-g');
    // As root, nginx's workers would run as `nobody`, who cannot enter a state folder under /root.
    if (process.getuid?.() === 0) {
      if (g >= 0) args[g + 1] = `${args[g + 1]} user root;`;
      else args.push('-g', 'user root;');
    }
    const render = async (): Promise<string> => {
      const text = await readFile(conf, 'utf8');
      let out = text.replace(
        /^(\s*listen\s+)(?:[\d.]+:)?(\d+)(\s*[^;]*;)/gm,
        (whole, pre: string, port: string, post: string) => {
          const local = ctx.ports.get(Number(port));
          return local === undefined ? whole : `${pre}127.0.0.1:${local}${post}`;
        },
      );
      // An upstream `server SVC:PORT` lists the Service's ready endpoints, as a headless Service
      // resolved by nginx would; with none, one closed port (nginx rejects an empty upstream).
      out = out.replace(
        /^(\s*)server\s+([a-z0-9.-]+):(\d+)([^;]*);/gm,
        (whole, indent: string, host: string, port: string, rest: string) => {
          const svc = ctx.serviceNames().find((s) => host === s || host.startsWith(`${s}.`));
          if (!svc) return whole;
          const eps = ctx.serviceEndpoints(svc, Number(port));
          if (eps.length === 0) return `${indent}server 127.0.0.1:1${rest}; # ${svc}: no ready endpoint`;
          return eps.map((e) => `${indent}server 127.0.0.1:${e.port}${rest}; # ${e.pod}`).join('\n');
        },
      );
      out = out.replace(
        /(\s)(\/tmp\/[^\s;]*|\/tmp\b)/g,
        (_w, sp: string, p: string) => `${sp}${mapPath(ctx, p)}`,
      );
      return rewriteText(ctx, out);
    };
    let last = '';
    return {
      command: '/usr/sbin/nginx',
      args,
      env,
      cwd,
      stopSignal: 'SIGQUIT',
      prepare: async () => {
        for (const m of ctx.mounts)
          if (!m.local.endsWith('.conf')) await mkdir(m.local, { recursive: true }).catch(() => undefined);
        last = await render();
        await writeFile(localConf, last);
      },
      refresh: async () => {
        const next = await render();
        if (next === last) return false;
        last = next;
        await writeFile(localConf, next);
        return true;
      },
    };
  }
  if (image === 'shop' || image.endsWith('-shop')) {
    return {
      command: process.execPath,
      args: [ctx.shopEntry, ...rewriteArgs(ctx, c.args ?? [])],
      env,
      cwd,
      stopSignal: 'SIGTERM',
    };
  }
  throw new HindsightError(
    'HINDSIGHT_LAB',
    `the lab maps no local program to image ${c.image}`,
    `pod ${ctx.pod} container ${c.name}`,
  );
}

/** Rewrites an exec probe's command to the pod's local ports (`-p 6379` -> `-p <pod port>`). */
export function probeCommand(ctx: PodContext, cmd: string[]): string[] {
  return cmd.map((part) =>
    part.replace(/\b(\d{2,5})\b/g, (w, n: string) => {
      const local = ctx.ports.get(Number(n));
      return local === undefined ? w : String(local);
    }),
  );
}
