// Memory and time of hindsight on the hostile inputs of issue #16, each run as users run it (the
// built CLI, one process per case) under /usr/bin/time for its peak resident set size:
// investigate on a bundle whose window starts in 1970, validate on a .tar.gz gzip bomb (a 2 GiB
// entry of zeros in 2 MB), import of a support bundle with a Helm record that inflates to 80 MiB.
// Run: npx tsc -b && node --import tsx bench/hostile.ts
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipBomb, writeEpochBundle } from '../test/fixtures/hostile/make.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repo, 'packages/cli/dist/bin.js');

/** Runs the CLI under /usr/bin/time: exit code, wall seconds, peak RSS in MB, last line of output. */
function measure(args: string[]): { code: number; seconds: number; peakMb: number; said: string } {
  const r = spawnSync('/usr/bin/time', ['-f', 'HSTIME %e %M', process.execPath, bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const m = /HSTIME ([\d.]+) (\d+)/.exec(r.stderr);
  const said = `${r.stdout}\n${r.stderr}`
    .split('\n')
    .filter((l) => /widened|refused|more than/.test(l))
    .at(0);
  return {
    code: r.status ?? -1,
    seconds: Number(m?.[1] ?? NaN),
    peakMb: Number(m?.[2] ?? NaN) / 1024,
    said: (said ?? '').trim().slice(0, 160),
  };
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-bench-hostile-'));
try {
  const epoch = path.join(tmp, 'epoch');
  await writeEpochBundle(epoch);
  const bomb = path.join(tmp, 'bomb.tar.gz');
  await writeFile(bomb, gzipBomb(2 * 1024 ** 3));
  const rows: Array<[string, ReturnType<typeof measure>]> = [
    ['investigate, window from 1970', measure(['investigate', epoch, '--json'])],
    ['validate, gzip bomb (2 GiB of zeros in 2 MB)', measure(['validate', bomb])],
    [
      'import support-bundle, Helm record of 80 MiB',
      measure([
        'import',
        'support-bundle',
        path.join(repo, 'test/fixtures/hostile/support-bundle-helm-bomb'),
        '--out-dir',
        path.join(tmp, 'out'),
      ]),
    ],
  ];
  console.log('| case | exit | time | peak RSS |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, r] of rows)
    console.log(`| ${name} | ${r.code} | ${r.seconds.toFixed(2)} s | ${r.peakMb.toFixed(0)} MB |`);
  for (const [name, r] of rows) console.log(`\n${name}: ${r.said}`);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
