// `hindsight collect` against a Prometheus that fails for a moment and one that is down, through
// the built CLI: node:http servers on 127.0.0.1 answering Prometheus' API
// (https://prometheus.io/docs/prometheus/latest/querying/api/).
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/hindsight.js', import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hs-cli-retry-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the built CLI with no cluster at hand: HOME is the temp folder and KUBECONFIG unset. */
function hindsight(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: dir, NO_COLOR: '1' };
  delete env['KUBECONFIG'];
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env }, (err, stdout, stderr) =>
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr }),
    );
  });
}

/** A Prometheus whose first two answers are 503; it listens on a free port until closed. */
async function flakyPrometheus(): Promise<{ url: string; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => {
    n += 1;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (n <= 2) return send(503, { status: 'error', errorType: 'unavailable', error: 'starting' });
    if (req.url?.startsWith('/api/v1/series')) return send(200, { status: 'success', data: [] });
    send(200, {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [{ metric: { __name__: 'up', job: 'shop' }, values: [[1e9, '1']] }],
      },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server };
}

describe('hindsight collect retrying Prometheus', () => {
  it('collects from a Prometheus that answers 503 twice first, and the manifest says it retried', async () => {
    const { url, server } = await flakyPrometheus();
    try {
      const r = await hindsight([
        'collect',
        '--prometheus',
        url,
        '--promql',
        'up',
        '--out-dir',
        path.join(dir, 'flaky'),
        '-o',
        'json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as {
        manifest: { sources: unknown[]; notes?: string[] };
        warnings: unknown[];
      };
      expect(out.manifest.sources).toEqual([expect.objectContaining({ name: 'prometheus', status: 'ok' })]);
      expect(out.warnings).toEqual([]);
      expect(out.manifest.notes).toContain(
        `prometheus: 2 retries after transient failures (HTTP 503 x2) at ${url}`,
      );
    } finally {
      server.close();
    }
  });

  it('names a Prometheus that is down, after 4 tries in seconds, and exits 3', async () => {
    const { url, server } = await flakyPrometheus();
    await new Promise((resolve) => server.close(resolve));
    const started = Date.now();
    const r = await hindsight(['collect', '--prometheus', url, '--out-dir', path.join(dir, 'down')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(
        `Prometheus at ${url} is unreachable \\(ECONNREFUSED\\) after 4 tries over \\d+\\.\\d s: check --prometheus`,
      ),
    );
    // Waits of at most 0.5, 1 and 2 s, and the CLI's start: bounded, not minutes, on a loaded machine too.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
