import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The built entry point, as the image and the lab run it (`tsc -b` first); the same path from src/ and dist/. */
export const SHOP_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** A shop process (`node dist/main.js`) with its JSON log lines parsed as they come. */
export interface ShopProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with `http://127.0.0.1:PORT` once the shop logs that it listens. */
  listening(timeoutMs?: number): Promise<string>;
  /** Resolves with the URL once the shop listens and /readyz answers 200 (it has migrated). */
  ready(timeoutMs?: number): Promise<string>;
  /** Sends SIGTERM (when still running) and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  exited(): Promise<number | null>;
}

/** Spawns `node dist/main.js` with `env` (and PATH), capturing stdout lines and stderr. */
export function spawnShop(env: Record<string, string>): ShopProcess {
  const child = spawn(process.execPath, [SHOP_MAIN], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    lines,
    stderr: () => stderr,
    async listening(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const line = lines.find((l) => String(l['msg'] ?? '').startsWith('Server listening at'));
        if (line) return String(line['msg']).replace('Server listening at ', '');
        if (child.exitCode !== null) throw new Error(`shop exited with ${child.exitCode}: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`shop not listening after ${timeoutMs} ms`);
    },
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const url = await this.listening(timeoutMs);
      while (Date.now() < deadline) {
        const status = await fetch(`${url}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (status === 200) return url;
        if (child.exitCode !== null) throw new Error(`shop exited with ${child.exitCode}: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`shop not ready after ${timeoutMs} ms`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    exited: () => exited,
  };
}

/** An answer as {@link HttpClient} reads it: status 0 and `failure` when no HTTP answer came. */
export interface HttpAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  failure?: string;
}

/** A browser-like client over real HTTP (keep-alive fetch) that keeps the session cookie. */
export class HttpClient {
  cookie: string | undefined;
  constructor(private readonly baseUrl: string) {}

  /** Sends a request; a connection failure or a body that is not JSON is returned, never thrown. */
  async request(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    try {
      const res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.cookie ? { cookie: this.cookie } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(15_000),
      });
      for (const c of res.headers.getSetCookie()) {
        const m = /^shop_sid=([^;]*)/.exec(c);
        if (m) this.cookie = m[1] ? `shop_sid=${m[1]}` : undefined;
      }
      const text = await res.text();
      try {
        return { status: res.status, body: text === '' ? null : JSON.parse(text) };
      } catch {
        return { status: res.status, body: text, failure: 'not JSON' };
      }
    } catch (err) {
      return { status: 0, body: null, failure: (err as Error).message };
    }
  }

  /** Logs in as a seeded user. */
  login(username: string): Promise<HttpAnswer> {
    return this.request('POST', '/login', { username, password: `${username}-password` });
  }
}
