// Packs the `hindsight` command as one installable npm package (`npm i -g hindsight-X.tgz`, and
// `npx hindsight` once it is published): the CLI and the @hindsight/* workspaces it imports, with
// their npm dependencies, bundled by esbuild into dist/, so the package has no dependency to
// resolve at install time (as prettier and pnpm ship). Run after the build (`npx tsc -b` and
// `npm run build:web`, which scripts/setup.sh does):
//
//   node scripts/pack-cli.mjs [--out DIR]     prints the tarball's path
//
// Kept apart from the bundle, as the code reads them as files at run time: the web view's page
// (dist/app, beside the chunk that serves it), the two worker scripts (their own entry points,
// beside the chunks that start them), and uPlot, which the HTML report inlines from the installed
// package (a bundled dependency). The lab (@hindsight/lab) stays out: an optional peer, which
// `hindsight lab` and `hindsight demo` name when it is absent; every other command runs without it.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (...p) => path.join(root, ...p);
const { values } = parseArgs({ options: { out: { type: 'string', default: '.' } } });
const out = path.resolve(values.out);

const entries = {
  bin: at('packages/cli/dist/bin.js'),
  // `new URL('./mine-worker.js', import.meta.url)` and `./investigate-worker.js`: the chunks are
  // written flat into dist/, so these resolve beside whichever chunk holds the code that starts them.
  'mine-worker': at('packages/investigate/dist/mine-worker.js'),
  'investigate-worker': at('packages/web/dist/investigate-worker.js'),
};
const app = at('packages/web/dist/app');
for (const file of [...Object.values(entries), path.join(app, 'index.html')]) {
  if (!existsSync(file)) {
    console.error(
      `pack-cli: ${path.relative(root, file)} is missing: build first (npx tsc -b && npm run build:web)`,
    );
    process.exit(1);
  }
}

const cli = JSON.parse(readFileSync(at('packages/cli/package.json'), 'utf8'));
const LAB = '@hindsight/lab';
// The name it is published under: `hindsight` on npm is another project's (a Svelte tool, with a
// `hindsight` command of its own), so the package is `hindsight-cli`; its command is `hindsight`.
const PUBLISHED_NAME = 'hindsight-cli';
const stage = mkdtempSync(path.join(tmpdir(), 'hindsight-pack-'));
try {
  const result = await build({
    entryPoints: entries,
    // The metafile's input paths are relative to this: the licences are looked up from the root.
    absWorkingDir: root,
    outdir: path.join(stage, 'dist'),
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    // Stack traces and `instanceof`-free checks on error names keep the names they had.
    keepNames: true,
    legalComments: 'none',
    external: [LAB, `${LAB}/*`],
    // The CommonJS dependencies (pg, ioredis, client-node's) call require(); ESM output has none.
    banner: {
      js: "import { createRequire as __hindsightRequire } from 'node:module'; const require = __hindsightRequire(import.meta.url);",
    },
    metafile: true,
    logLevel: 'warning',
  });
  cpSync(app, path.join(stage, 'dist', 'app'), { recursive: true });
  mkdirSync(path.join(stage, 'bin'));
  cpSync(at('packages/cli/bin/hindsight.js'), path.join(stage, 'bin', 'hindsight.js'));
  chmodSync(path.join(stage, 'bin', 'hindsight.js'), 0o755);
  cpSync(at('node_modules/uplot'), path.join(stage, 'node_modules', 'uplot'), { recursive: true });
  cpSync(at('README.md'), path.join(stage, 'README.md'));
  writeFileSync(path.join(stage, 'THIRD-PARTY-LICENSES.md'), licenses(Object.keys(result.metafile.inputs)));

  const uplot = JSON.parse(readFileSync(at('node_modules/uplot/package.json'), 'utf8'));
  const manifest = {
    name: PUBLISHED_NAME,
    version: cli.version,
    description: cli.description,
    license: 'Apache-2.0',
    type: 'module',
    bin: { hindsight: 'bin/hindsight.js' },
    engines: cli.engines,
    files: ['bin/', 'dist/', 'THIRD-PARTY-LICENSES.md'],
    dependencies: { uplot: uplot.version },
    bundleDependencies: ['uplot'],
    peerDependencies: { [LAB]: cli.version },
    peerDependenciesMeta: { [LAB]: { optional: true } },
  };
  writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  mkdirSync(out, { recursive: true });
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: stage, encoding: 'utf8' }),
  );
  console.log(path.join(out, packed[0].filename));
} finally {
  rmSync(stage, { recursive: true, force: true });
}

/** The licence of every npm package the bundle took code from, with its text where it ships one. */
function licenses(inputs) {
  const dirs = new Map();
  for (const input of inputs) {
    const m = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
    if (m) dirs.set(m[2], path.join(root, m[1]));
  }
  const parts = [
    '# Third-party licences\n\nThe code of these packages is bundled in dist/ (uPlot ships whole in node_modules/).\n',
  ];
  for (const [name, dir] of [...dirs.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    const text = file
      ? readFileSync(path.join(dir, file), 'utf8').trim()
      : '(no licence file in the package)';
    parts.push(`## ${name} ${pkg.version} (${pkg.license ?? 'see below'})\n\n\`\`\`\n${text}\n\`\`\`\n`);
  }
  return parts.join('\n');
}
