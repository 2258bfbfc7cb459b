// The lab is an optional peer of the CLI: without it, the other commands run and `lab` and `demo`
// say which package they need. "Without it" is made real by a module hook that refuses to resolve
// the package, in the built CLI's own process.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLab, optionalPackage } from './lab.js';

const bin = fileURLToPath(new URL('../../bin/hindsight.js', import.meta.url));
let dir: string;
let noLab: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hs-no-lab-'));
  await writeFile(
    path.join(dir, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {
  if (specifier === '@hindsight/lab' || specifier.startsWith('@hindsight/lab/')) {
    const e = new Error("Cannot find package '@hindsight/lab' imported from " + context.parentURL);
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}
`,
  );
  await writeFile(
    path.join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`,
  );
  noLab = ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, bin];
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (args: string[]) =>
  spawnSync(process.execPath, [...noLab, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });

describe('the CLI without its optional lab package', () => {
  it('loads the lab when it is installed (as in this repository)', async () => {
    expect(typeof (await importLab()).Lab).toBe('function');
  });

  it('names the package when `lab` or `demo` runs, and exits 3 with HINDSIGHT_LAB', () => {
    for (const args of [
      ['lab', 'status', '--dir', path.join(dir, 'lab')],
      ['demo', '--dir', path.join(dir, 'demo')],
    ]) {
      const r = run(args);
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toContain('needs the optional package @hindsight/lab, which is not installed');
      expect(r.stderr).toContain('HINDSIGHT_LAB');
    }
  });

  it('runs every other command as usual', () => {
    const r = run(['completion', 'bash']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('hindsight');
  });

  it('lets any other failure of the package through as it is', async () => {
    const boom = new Error('the package threw while loading');
    await expect(optionalPackage('@hindsight/lab', () => Promise.reject(boom), 'x')).rejects.toBe(boom);
  });
});
