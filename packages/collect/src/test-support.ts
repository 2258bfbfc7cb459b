// Helpers for this package's tests, and for test/e2e through `@hindsight/collect/testing` (not index.ts).
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A temp folder removed by `cleanup`. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Every file of a folder, with its text, for greps over what reached disk. */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    out.set(path.relative(dir, full), await readFile(full, 'utf8'));
  }
  return out;
}

/** Files of `dir` whose text contains `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  return [...(await readTree(dir)).entries()].filter(([, text]) => text.includes(needle)).map(([f]) => f);
}

/** A loopback HTTP server answering with `handler`; `requests` keeps every URL asked for. */
export interface TestHttpServer {
  url: string;
  requests: URL[];
  close(): Promise<void>;
}

export async function httpServer(
  handler: (url: URL, req: IncomingMessage, res: ServerResponse) => unknown,
): Promise<TestHttpServer> {
  const requests: URL[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url);
    Promise.resolve(handler(url, req, res)).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A Kubernetes API `Status` failure body, as the API server answers an error. */
export function kubeStatus(code: number, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, message };
}

/** Passes a request through to `upstream` and its answer back: a proxy's way when it does not fail. */
export function forward(upstream: URL, req: IncomingMessage, res: ServerResponse): void {
  const out = request(
    { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  out.on('error', () => res.socket?.destroy());
  req.pipe(out);
}

/** The shop's real-server test harness (stack/shop/src/testing/servers.ts), loaded from its build. */
export interface ShopServers {
  freePort(): Promise<number>;
  startRedisReplicaSet(options?: { replicas?: number }): Promise<{
    masterUrl: string;
    replicaUrls: string[];
    master: {
      port: number;
      command(...args: string[]): Promise<string>;
      /** Stops the process, and starts it again on the same port (ready when it answers PING). */
      stop(): Promise<void>;
      start(): Promise<void>;
    };
    replicas: Array<{ port: number }>;
    stop(): Promise<void>;
  }>;
  startPostgres(options?: { user?: string; database?: string }): Promise<{
    host: string;
    port: number;
    user: string;
    database: string;
    psql(sql: string): Promise<string>;
    /** Signals the postmaster (SIGINT: its fast shutdown); `exited` resolves when it has gone. */
    kill(signal: NodeJS.Signals): void;
    exited(): Promise<void>;
    /** Starts the postmaster again on the same data and port (ready when psql answers). */
    start(): Promise<void>;
    stop(): Promise<void>;
  }>;
}

/** Loads the harness; a path outside this package, so it is imported at run time from the shop's dist. */
export async function shopServers(): Promise<ShopServers> {
  const url = new URL('../../../stack/shop/dist/testing/servers.js', import.meta.url);
  return (await import(url.href)) as ShopServers;
}
