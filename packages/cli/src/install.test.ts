// The package users install: scripts/pack-cli.mjs packs it, npm installs the tarball globally into
// a temp prefix, offline, with an empty cache (the package has no dependency to fetch: the
// workspaces and their npm dependencies are bundled, uPlot ships inside), and the installed
// `hindsight` runs as users run it, from a folder outside the repository.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = path.join(repo, 'test/fixtures/redis-replicas-2-to-6.tar.gz');
const exec = promisify(execFile);

let dir: string;
let tarball: string;
let prefix: string;
// npm's settings from a surrounding `npm test` (npm_config_*) would reach the child npm: left out.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k)),
);

/** Runs a program from the temp folder and gives its exit code and output, failure or not. */
async function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(file, args, { cwd: dir, env: { ...env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hs-install-'));
  // Inside the repository, the installed CLI would find the workspace's lab in its node_modules.
  if (!path.relative(repo, dir).startsWith('..')) throw new Error(`the temp folder ${dir} is inside ${repo}`);
  const packed = await run(process.execPath, [path.join(repo, 'scripts/pack-cli.mjs'), '--out', dir]);
  expect(packed.code, packed.stderr).toBe(0);
  tarball = packed.stdout.trim();
  prefix = path.join(dir, 'prefix');
  const npmArgs = ['--offline', '--cache', path.join(dir, 'cache'), '--no-audit', '--no-fund'];
  const installed = await run('npm', ['install', '-g', '--prefix', prefix, ...npmArgs, tarball]);
  expect(installed.code, installed.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// The checks are independent once the package is installed: run at once, they take the longest one's time.
// A loaded CI machine (load 20 on 2 cores) took 45 s for one of them: more than the default 60 s is allowed.
describe.concurrent('the installable hindsight package', { timeout: 120_000 }, () => {
  it('installs with npm i -g offline from its tarball, as one package with no dependency to fetch', async () => {
    const manifest = JSON.parse(
      await readFile(path.join(prefix, 'lib/node_modules/hindsight-cli/package.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(manifest['private']).toBeUndefined();
    expect(manifest['files']).toEqual(['bin/', 'dist/', 'THIRD-PARTY-LICENSES.md']);
    expect(manifest['bundleDependencies']).toEqual(Object.keys(manifest['dependencies'] as object));
    expect(manifest['peerDependenciesMeta']).toEqual({ '@hindsight/lab': { optional: true } });
    // Read as files at run time, beside the chunks: the workers and the web view's page.
    for (const file of ['dist/mine-worker.js', 'dist/investigate-worker.js', 'dist/app/index.html'])
      expect(existsSync(path.join(prefix, 'lib/node_modules/hindsight-cli', file)), file).toBe(true);
    const own = JSON.parse(await readFile(path.join(repo, 'packages/cli/package.json'), 'utf8')) as {
      version: string;
    };
    // Published as hindsight-cli (the name hindsight is another project's); the command is hindsight.
    expect(path.basename(tarball)).toBe(`hindsight-cli-${own.version}.tgz`);
    expect(manifest['bin']).toEqual({ hindsight: 'bin/hindsight.js' });
    const version = await run(path.join(prefix, 'bin/hindsight'), ['--version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(own.version);
  });

  it('investigates a fixture bundle, with the uPlot charts in the HTML report', async () => {
    const html = path.join(dir, 'report.html');
    const r = await run(path.join(prefix, 'bin/hindsight'), [
      'investigate',
      fixture,
      '-o',
      'json',
      '--html',
      html,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { hypotheses: Array<{ title: string }> };
    expect(report.hypotheses[0]?.title).toContain('redis.replica.replicaCount: 2 -> 6');
    expect(await readFile(html, 'utf8')).toContain('uPlot');
  });

  it('serves the web view of a fixture bundle, its investigation run in a worker', async () => {
    const child = spawn(path.join(prefix, 'bin/hindsight'), ['serve', fixture], {
      cwd: dir,
      env: { ...env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      while (!/http:\/\/127\.0\.0\.1:\d+\//.test(out)) {
        if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}`);
        await once(child.stdout, 'data');
      }
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0] as string;
      expect(await (await fetch(url)).text()).toContain('<title>hindsight</title>');
      // 503 while the worker investigates; then the report.
      let res = await fetch(`${url}api/report`);
      for (let i = 0; res.status === 503 && i < 300; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        res = await fetch(`${url}api/report`);
      }
      expect(res.status).toBe(200);
      const body = (await res.json()) as { report: { hypotheses: Array<{ title: string }> } };
      expect(body.report.hypotheses[0]?.title).toContain('redis.replica.replicaCount: 2 -> 6');
    } finally {
      child.kill('SIGINT');
      if (child.exitCode === null) await once(child, 'exit');
    }
  });

  it('says the optional lab is not installed, with exit 3 and HINDSIGHT_LAB', async () => {
    const r = await run(path.join(prefix, 'bin/hindsight'), [
      'lab',
      'status',
      '--dir',
      path.join(dir, 'lab'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('needs the optional package @hindsight/lab, which is not installed');
    expect(r.stderr).toContain('HINDSIGHT_LAB');
  });

  it('runs through npx (npm exec) from the package, as `npx hindsight` runs it from the registry', async () => {
    const r = await run('npm', [
      'exec',
      '--yes',
      '--offline',
      '--cache',
      path.join(dir, 'npx-cache'),
      `--package=${tarball}`,
      '--',
      'hindsight',
      '--version',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
