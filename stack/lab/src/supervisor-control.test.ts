// The supervisor's control endpoints (apply a revision, shut down) listen on loopback beside the
// Kubernetes API: any local user, or a web page through a rebound DNS name, could reach them. Each
// control request must name loopback as its Host and carry the token only the lab's owner can read.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newLabConfig, writeLabConfig } from './lab-config.js';
import { defaultChartDir, labPaths } from './paths.js';
import { CONTROL_PREFIX, controlHeaders } from './supervisor.js';

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'supervisor-main.js');

function call(
  port: number,
  method: string,
  action: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path: `${CONTROL_PREFIX}${action}`, headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let dir: string;
let child: ChildProcess;
let port = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hs-lab-control-'));
  const paths = labPaths(dir);
  await writeLabConfig(
    paths.config,
    newLabConfig({ release: 'shop', namespace: 'shop', chartDir: defaultChartDir, timeScale: 1 }),
  );
  child = spawn(process.execPath, [entry, dir], { stdio: 'ignore' });
  for (let i = 0; i < 200 && port === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      port = (JSON.parse(readFileSync(paths.status, 'utf8')) as { apiPort: number }).apiPort;
    } catch {
      // not written yet
    }
  }
});
afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

describe('the lab supervisor control endpoints', () => {
  it('writes its token readable by the owner alone', async () => {
    const paths = labPaths(dir);
    expect((await stat(paths.controlToken)).mode & 0o777).toBe(0o600);
    expect((await readFile(paths.controlToken, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a request without the token, or with a wrong one (401)', async () => {
    const host = `127.0.0.1:${port}`;
    expect((await call(port, 'POST', '/shutdown', { host })).status).toBe(401);
    const wrong = { host, authorization: `Bearer ${'0'.repeat(64)}` };
    expect((await call(port, 'POST', '/shutdown', wrong)).status).toBe(401);
    expect(child.exitCode).toBeNull();
  });

  it('refuses a request addressed to another host name, token or not (403)', async () => {
    const auth = controlHeaders(labPaths(dir)) ?? {};
    const r = await call(port, 'GET', '/status', { ...auth, host: `rebound.example:${port}` });
    expect(r.status).toBe(403);
  });

  it('answers the lab with its token, and the Kubernetes API stays open to kubectl', async () => {
    const auth = controlHeaders(labPaths(dir)) ?? {};
    const s = await call(port, 'GET', '/status', { ...auth, host: `127.0.0.1:${port}` });
    expect([s.status, (JSON.parse(s.body) as { release: string }).release]).toEqual([200, 'shop']);
    const version = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/version' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(version).toBe(200);
    const down = await call(port, 'POST', '/shutdown', { ...auth, host: `localhost:${port}` });
    expect(down.status).toBe(200);
    await once(child, 'exit');
  });
});
