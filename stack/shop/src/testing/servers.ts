import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, chown } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Where the PostgreSQL 15 binaries live on Debian; override with PG_BIN_DIR. */
export const PG_BIN_DIR = process.env['PG_BIN_DIR'] ?? '/usr/lib/postgresql/15/bin';
/** The redis-server binary; override with REDIS_SERVER_BIN. */
export const REDIS_SERVER_BIN = process.env['REDIS_SERVER_BIN'] ?? '/usr/bin/redis-server';

/** Asks the kernel for a free loopback port (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One raw RESP round trip, so the helper needs no Redis client of its own. */
async function redisCommand(port: number, args: string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis command ${args[0]} on port ${port} timed out`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      // Replies used here are single-line (+OK, -ERR, :n) or one bulk string.
      const kind = buffer[0];
      if (kind === '$') {
        const nl = buffer.indexOf('\r\n');
        if (nl < 0) return;
        const len = Number(buffer.slice(1, nl));
        if (len < 0 || buffer.length >= nl + 2 + len + 2) {
          clearTimeout(timer);
          socket.end();
          resolve(len < 0 ? '' : buffer.slice(nl + 2, nl + 2 + len));
        }
      } else if (buffer.includes('\r\n')) {
        clearTimeout(timer);
        socket.end();
        const line = buffer.slice(0, buffer.indexOf('\r\n'));
        if (kind === '-') reject(new Error(line.slice(1)));
        else resolve(line.slice(1));
      }
    });
    socket.connect(port, '127.0.0.1', () => {
      const payload =
        `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
      socket.write(payload);
    });
  });
}

/** A redis-server process started by the helper. */
export interface RedisNode {
  readonly port: number;
  readonly url: string;
  /** Sends one command (raw RESP) and returns the reply as text. */
  command(...args: string[]): Promise<string>;
  /** INFO replication as key/value pairs. */
  replicationInfo(): Promise<Record<string, string>>;
  /** Stops the process (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop). */
  start(): Promise<void>;
}

/** A master and its replicas, all on loopback, in one temp dir. */
export interface RedisReplicaSet {
  readonly master: RedisNode;
  readonly replicas: RedisNode[];
  readonly masterUrl: string;
  readonly replicaUrls: string[];
  /** Stops every process and removes the temp dir. */
  stop(): Promise<void>;
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(50);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}

function redisNode(dir: string, name: string, port: number, replicaOf: number | null): RedisNode {
  let child: ChildProcess | null = null;
  const node: RedisNode = {
    port,
    url: `redis://127.0.0.1:${port}`,
    command: (...args) => redisCommand(port, args),
    async replicationInfo() {
      const text = await redisCommand(port, ['INFO', 'replication']);
      const out: Record<string, string> = {};
      for (const line of text.split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
      }
      return out;
    },
    async start() {
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--dbfilename',
        `${name}.rdb`,
        '--save',
        '',
        '--appendonly',
        'no',
        '--logfile',
        join(dir, `${name}.log`),
        '--protected-mode',
        'no',
        // Diskless sync keeps a replica's first sync off the disk: faster tests, same semantics.
        '--repl-diskless-sync',
        'yes',
        '--repl-diskless-sync-delay',
        '0',
      ];
      if (replicaOf !== null) args.push('--replicaof', '127.0.0.1', String(replicaOf));
      child = spawn(REDIS_SERVER_BIN, args, { stdio: 'ignore' });
      const started = child;
      await waitFor(`redis ${name} on ${port}`, async () => {
        if (started.exitCode !== null) throw new Error(`redis ${name} exited with ${started.exitCode}`);
        if ((await redisCommand(port, ['PING'], 500)) !== 'PONG') return false;
        if (replicaOf === null) return true;
        return (await node.replicationInfo())['master_link_status'] === 'up';
      });
    },
    async stop() {
      if (child === null) return;
      const running = child;
      child = null;
      running.kill('SIGTERM');
      await waitExit(running);
    },
  };
  return node;
}

/** Starts a redis-server master and `replicas` replicas (replicaof), each ready (replicas synced). */
export async function startRedisReplicaSet(options: { replicas?: number } = {}): Promise<RedisReplicaSet> {
  const dir = await mkdtemp(join(tmpdir(), 'shop-redis-'));
  const master = redisNode(dir, 'master', await freePort(), null);
  const replicas: RedisNode[] = [];
  try {
    await master.start();
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      const replica = redisNode(dir, `replica-${i}`, await freePort(), master.port);
      replicas.push(replica);
      await replica.start();
    }
  } catch (err) {
    await Promise.all([master, ...replicas].map((n) => n.stop()));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    master,
    replicas,
    masterUrl: master.url,
    replicaUrls: replicas.map((r) => r.url),
    async stop() {
      await Promise.all([master, ...replicas].map((n) => n.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A PostgreSQL cluster made with initdb, trust auth, listening on loopback. */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** The postmaster's pid while it runs (undefined once it has exited). */
  readonly pid: number | undefined;
  /** Runs SQL through psql and returns its unaligned, tuples-only output. */
  psql(sql: string): Promise<string>;
  /**
   * Sends a signal to the postmaster, as a pod deletion or an operator would: SIGINT is its fast
   * shutdown (clients cut), SIGTERM its smart shutdown (waits for clients, refuses new ones).
   */
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the postmaster has exited. */
  exited(): Promise<void>;
  /** Starts the postmaster again on the same data and port (after it exited). */
  start(): Promise<void>;
  /** Stops the server and removes the temp dir. */
  stop(): Promise<void>;
}

/**
 * postgres refuses to run as root, so when we are root the cluster belongs to the `postgres` OS
 * user and every binary runs through setpriv (which execs, so the pid we hold is postgres itself).
 */
function asPostgresUser(bin: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [bin, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', bin, ...args]];
}

/** Starts PostgreSQL 15 in a temp dir (fsync off: test data need not survive a crash). */
export async function startPostgres(
  options: { user?: string; database?: string } = {},
): Promise<PostgresServer> {
  const user = options.user ?? 'shop';
  const database = options.database ?? 'shop';
  const dir = await mkdtemp(join(tmpdir(), 'shop-pg-'));
  if (process.getuid?.() === 0) await chown(dir, ...(await postgresIds()));
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const run = async (bin: string, args: string[]): Promise<string> => {
    const [cmd, argv] = asPostgresUser(join(PG_BIN_DIR, bin), args);
    const { stdout } = await execFileAsync(cmd, argv, { cwd: dir });
    return stdout;
  };
  await run('initdb', [
    '-D',
    dataDir,
    '-U',
    user,
    '-A',
    'trust',
    '--no-sync',
    '--no-instructions',
    '-E',
    'UTF8',
  ]);
  const postmasterArgs = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
  ];
  const psql = (sql: string, db = database): Promise<string> =>
    run('psql', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      user,
      '-d',
      db,
      '-v',
      'ON_ERROR_STOP=1',
      '-qAt',
      '-c',
      sql,
    ]).then((s) => s.trim());
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    const [cmd, argv] = asPostgresUser(join(PG_BIN_DIR, 'postgres'), postmasterArgs);
    const started = spawn(cmd, argv, { cwd: dir, stdio: 'ignore' });
    child = started;
    await waitFor(`postgres on ${port}`, async () => {
      if (started.exitCode !== null) throw new Error(`postgres exited with ${started.exitCode}`);
      return (await psql('SELECT 1', 'postgres')) === '1';
    });
  };
  const exited = (): Promise<void> => (child === null ? Promise.resolve() : waitExit(child));
  const stop = async (): Promise<void> => {
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT'); // fast shutdown
      await waitExit(child);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await launch();
    if (database !== 'postgres') await psql(`CREATE DATABASE ${database}`, 'postgres');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    user,
    database,
    get pid() {
      return child !== null && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    psql: (sql) => psql(sql),
    kill(signal) {
      if (child?.pid === undefined) throw new Error('postgres is not running');
      process.kill(child.pid, signal);
    },
    exited,
    async start() {
      await exited();
      await launch();
    },
    stop,
  };
}

async function postgresIds(): Promise<[number, number]> {
  const { stdout: uid } = await execFileAsync('id', ['-u', 'postgres']);
  const { stdout: gid } = await execFileAsync('id', ['-g', 'postgres']);
  return [Number(uid.trim()), Number(gid.trim())];
}
