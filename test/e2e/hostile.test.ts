// The hostile-input corpus of issue #16, run through the built CLI as users run it: each case once
// crashed hindsight with HINDSIGHT_INTERNAL, hung it or ran it out of memory. The small cases live
// in test/fixtures/hostile (written by its make.mjs); the gzip bomb is written here, in a temp folder.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gzipBomb, supportBundleCases } from '../fixtures/hostile/make.mjs';
import { bin, hindsight, repoRoot } from './helpers.js';

const corpus = path.join(repoRoot, 'test/fixtures/hostile');
const temps: string[] = [];
async function temp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hs-e2e-hostile-'));
  temps.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

/** No internal error, no stack, no raw ZodError: what a user must never see. */
function expectNoInternal(r: { stdout: string; stderr: string }): void {
  const all = `${r.stdout}\n${r.stderr}`;
  expect(all).not.toContain('HINDSIGHT_INTERNAL');
  expect(all).not.toMatch(/ZodError|"code": "invalid_type"|\n\s+at /);
}

describe('hindsight validate on hostile bundles', () => {
  const cases: Array<[string, RegExp]> = [
    [
      'validate-series-time-1e300',
      /^series\/redis\.jsonl:1 {2}warning {2}time 1e\+300 is outside the range of dates/m,
    ],
    ['validate-events-is-a-folder', /^events\.jsonl {2}error {2}a folder where a file of records belongs/m],
    [
      'archive-path-escape.tar.gz',
      /error {2}cannot unpack bundle archive: .*'\.\.'.*\[HINDSIGHT_BUNDLE_ARCHIVE\]/,
    ],
    ['archive-symlink.tar.gz', /\[HINDSIGHT_BUNDLE_ARCHIVE\]/],
    ['archive-hardlink.tar.gz', /\[HINDSIGHT_BUNDLE_ARCHIVE\]/],
  ];
  for (const [name, says] of cases) {
    it(`names the file (and line) of ${name}, exit 1`, async () => {
      const r = await hindsight(['validate', path.join(corpus, name)]);
      expectNoInternal(r);
      expect(r.stdout).toMatch(says);
      expect(r.code).toBe(1);
    });
  }

  it('refuses a gzip bomb while it inflates, naming it, and leaves nothing unpacked', async () => {
    const archive = path.join(await temp(), 'bomb.tar.gz');
    await writeFile(archive, gzipBomb(2 * 1024 ** 3));
    const r = await hindsight(['validate', archive]);
    expectNoInternal(r);
    expect(r.stdout).toMatch(
      /bundle archive refused: .* \(over 200 times\) \(a gzip bomb\?\)\s+\[HINDSIGHT_BUNDLE_ARCHIVE\]/,
    );
    expect(r.stdout).toContain(archive);
    expect(r.code).toBe(1);
  });
});

describe('hindsight investigate on a bundle whose window starts in 1970', () => {
  it('completes with its buckets widened and says so in the report', async () => {
    const r = await hindsight(['investigate', path.join(corpus, 'investigate-epoch-1970'), '--json']);
    expectNoInternal(r);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { warnings: Array<{ code: string; message: string }> };
    expect(report.warnings).toContainEqual({
      stage: 'analyze',
      name: 'window',
      code: 'HINDSIGHT_BUNDLE_WINDOW',
      message: expect.stringMatching(/^the data spans 56 years .* buckets widened from 5 min to 25 hours/),
    });
  });
});

describe('hindsight import support-bundle on wrongly typed records', () => {
  for (const name of Object.keys(supportBundleCases)) {
    it(`imports support-bundle-${name}, skipping the bad record with its file and field`, async () => {
      const out = path.join(await temp(), 'bundle');
      const r = await hindsight([
        'import',
        'support-bundle',
        path.join(corpus, `support-bundle-${name}`),
        '--out-dir',
        out,
      ]);
      expectNoInternal(r);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(
        /^cluster-resources\/(pods|events)\/shop\.json {2}warning {2}.*: field [\w.]+: .*; skipped {2}\[HINDSIGHT_IMPORT\]$/m,
      );
      const v = await hindsight(['validate', out]);
      expect(v.code).toBe(0);
    });
  }

  it('refuses a Helm record that inflates past 64 MiB, naming the release and revision, and imports the rest', async () => {
    const out = path.join(await temp(), 'bundle');
    const r = await hindsight([
      'import',
      'support-bundle',
      path.join(corpus, 'support-bundle-helm-bomb'),
      '--out-dir',
      out,
    ]);
    expectNoInternal(r);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /sh\.helm\.release\.v1\.shop\.v2 {2}warning {2}release record decompresses to more than 64 MiB.*\[HINDSIGHT_RELEASE_RECORD\]/,
    );
    expect(existsSync(path.join(out, 'pods.jsonl'))).toBe(true);
  });
});

/** GETs a raw path (sent as written, malformed escapes and all) and resolves to the status. */
function status(url: string, rawPath: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    request({ host: u.hostname, port: u.port, path: rawPath }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('hindsight serve on malformed percent-escapes', () => {
  it('answers 400, not 500, and keeps serving', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'serve', path.join(corpus, 'investigate-epoch-1970'), '--port', '0'],
      {
        cwd: repoRoot,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
          if (m) resolve(m[0]);
        });
        child.once('exit', (code) => reject(new Error(`hindsight serve exited with ${code}`)));
      });
      // The API answers 503 while the bundle is read: the escapes are decoded once it is ready.
      for (let i = 0; i < 200 && (await status(url, '/api/changes')) !== 200; i++)
        await new Promise((r) => setTimeout(r, 100));
      for (const p of ['/%', '/api/changes/%E0%A4%A', '/%C0%AF'])
        expect([p, await status(url, p)]).toEqual([p, 400]);
      expect(await status(url, '/api/changes')).toBe(200);
    } finally {
      child.kill('SIGINT');
    }
  });
});
