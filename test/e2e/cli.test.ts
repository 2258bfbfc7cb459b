import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, appendFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWriter } from '@hindsight/core';
import { commands } from 'hindsight';
import { bin, hindsight, repoRoot } from './helpers.js';

let tmp: string;
let good: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-cli-'));
  good = path.join(tmp, 'good');
  const from = Date.parse('2026-01-01T10:00:00Z');
  const w = await BundleWriter.create(good, {
    window: { from: new Date(from), to: new Date(from + 3_600_000) },
  });
  const log = await w.openLog({ namespace: 'default', pod: 'shop-1', container: 'shop', previous: false });
  for (let i = 0; i < 10; i++) await log.write(from + i * 1000, `GET /cart 200 ${i}ms`);
  w.recordSource({ name: 'files', status: 'ok' });
  await w.finish();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('hindsight CLI', () => {
  it('prints help that lists the commands, and its version', async () => {
    const help = await hindsight(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/validate/);
    expect(help.stdout).toMatch(/Exit codes/);
    const version = await hindsight(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('shows an example in every command help', async () => {
    const help = await hindsight(['validate', '--help']);
    expect(help.stdout).toMatch(/Examples:\n {2}\$ hindsight validate/);
  });

  it('answers a misspelt command with the right one and exit code 2', async () => {
    const r = await hindsight(['valdate', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Did you mean validate\?/);
  });

  it('refuses an incident time that is not one, for investigate and serve alike, with exit code 2', async () => {
    for (const command of ['investigate', 'serve']) {
      const r = await hindsight([command, good, '--incident-at', 'yesterday']);
      expect([command, r.code]).toEqual([command, 2]);
      expect(r.stderr).toContain('--incident-at is not a time: "yesterday" (use RFC 3339)');
    }
  });

  it("refuses an incident time outside the bundle's window, naming the window", async () => {
    const r = await hindsight(['investigate', good, '--incident-at', '2001-01-01T00:00:00Z']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /the incident time 2001-01-01T00:00:00\.000Z is far outside the bundle's window \(\S+ to \S+\); collect a window that holds it/,
    );
  });

  it('validates a good bundle with exit code 0', async () => {
    const r = await hindsight(['validate', good]);
    expect(r.stdout).toMatch(/^valid/);
    expect(r.code).toBe(0);
  });

  it('lists each problem of a broken copy with file and line, exit code 1, and JSON on request', async () => {
    const broken = path.join(tmp, 'broken');
    await cp(good, broken, { recursive: true });
    await appendFile(path.join(broken, 'logs/default/shop-1/shop.log'), 'garbage line\n');
    await writeFile(path.join(broken, 'events.jsonl'), '{"time": 1}\n');
    const r = await hindsight(['validate', broken]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/logs\/default\/shop-1\/shop\.log:11 {2}warning/);
    expect(r.stdout).toMatch(/events\.jsonl:1 {2}warning/);
    const j = await hindsight(['validate', broken, '--json']);
    const parsed = JSON.parse(j.stdout) as {
      valid: boolean;
      problems: Array<{ file: string; line: number }>;
    };
    expect(parsed.valid).toBe(false);
    expect(parsed.problems).toHaveLength(2);
  });

  it('says plainly when the bundle does not exist', async () => {
    const r = await hindsight(['validate', path.join(tmp, 'missing')]);
    expect(r.stdout).toMatch(/bundle not found/);
  });

  it('exits 3 on a missing input in every command that reads one, naming the path and the code', async () => {
    const missing = path.join(tmp, 'no-such-input');
    const out = (name: string): string => path.join(tmp, `out-${name}`);
    const runs: Array<[string, string[], RegExp]> = [
      ['investigate', ['investigate', missing], /HINDSIGHT_BUNDLE_MISSING/],
      ['validate', ['validate', missing], /HINDSIGHT_BUNDLE_MISSING/],
      ['serve', ['serve', missing, '--port', '0'], /HINDSIGHT_BUNDLE_MISSING/],
      ['templates', ['templates', missing], /HINDSIGHT_INPUT_MISSING/],
      [
        'support-bundle',
        ['import', 'support-bundle', missing, '--out-dir', out('sb')],
        /HINDSIGHT_INPUT_MISSING/,
      ],
      ['rca-dataset', ['import', 'rca-dataset', missing, '--out-dir', out('rca')], /HINDSIGHT_INPUT_MISSING/],
      [
        'collect',
        ['collect', '--nginx-log', missing, '--out-dir', out('collect')],
        /HINDSIGHT_SOURCE_FAILED/,
      ],
    ];
    const results = await Promise.all(runs.map(([, args]) => hindsight(args, {}, 60_000)));
    for (const [i, [name, , code]] of runs.entries()) {
      const r = results[i] as (typeof results)[number];
      const said = `${r.stdout}${r.stderr}`;
      expect({ name, code: r.code }).toEqual({ name, code: 3 });
      expect(said, name).toContain(missing);
      expect(said, name).toMatch(code);
    }
    // serve stopped at once, before listening: it printed no address.
    expect(results[2]?.stdout).not.toMatch(/http:/);
  });

  it('stops serve at once on a bundle that cannot be read, with the code and exit of investigate', async () => {
    const bad = path.join(tmp, 'broken-manifest');
    await mkdir(bad);
    await writeFile(path.join(bad, 'manifest.json'), '{"format": "hindsight-bundle", "version": 1, ');
    const [served, investigated] = await Promise.all([
      hindsight(['serve', bad, '--port', '0'], {}, 60_000),
      hindsight(['investigate', bad]),
    ]);
    expect(investigated.code).toBe(3);
    expect(served.code).toBe(investigated.code);
    expect(served.stdout).not.toMatch(/http:/);
    expect(served.stderr).toMatch(/manifest\.json is not valid JSON.*HINDSIGHT_BUNDLE_MANIFEST/);
  });

  it('stops quietly when its output pipe closes early (| head)', async () => {
    const big = path.join(tmp, 'big.log');
    await writeFile(
      big,
      Array.from({ length: 100_000 }, (_, i) => `user ${i} logged in from 10.0.0.${i % 255}`).join('\n'),
    );
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" templates "${big}" --jsonl | head -1`], {
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/^\{"line":1/);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it('documents every command in docs/cli.md', async () => {
    const doc = await readFile(path.join(repoRoot, 'docs/cli.md'), 'utf8');
    for (const c of commands) expect(doc, c.name).toContain(`\`hindsight ${c.name}\``);
  });

  it('uses no colour when NO_COLOR is set', async () => {
    const r = await hindsight(['valdate'], { NO_COLOR: '1' });
    expect(r.stderr).not.toContain(String.fromCharCode(27));
  });
});

describe("hindsight's flags follow kubectl's habits", () => {
  it('reads -o as the report format: investigate -o json prints JSON, -o markdown Markdown', async () => {
    const [json, long, md] = await Promise.all([
      hindsight(['investigate', good, '-o', 'json']),
      hindsight(['investigate', good, '--output', 'json']),
      hindsight(['investigate', good, '-o', 'markdown']),
    ]);
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { schema: string }).schema).toBe('hindsight-report');
    expect((JSON.parse(long.stdout) as { schema: string }).schema).toBe('hindsight-report');
    expect(md.stdout).toMatch(/^# /);
  });

  it('refuses -o FILE in investigate, and -o DIR in collect and import, naming the flag to use', async () => {
    const dir = path.join(tmp, 'flags-out');
    const [inv, col, imp] = await Promise.all([
      hindsight(['investigate', good, '-o', 'report.json']),
      hindsight(['collect', '--redis', 'redis://127.0.0.1:1', '-o', dir]),
      hindsight(['import', 'support-bundle', good, '-o', dir]),
    ]);
    expect(inv.code).toBe(2);
    expect(inv.stderr).toMatch(
      /-o\/--output is the report format \(text, json, markdown, html\).*> report\.json/,
    );
    for (const r of [col, imp]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`write the bundle with --out-dir ${dir}`);
    }
  });

  it('warns that -n and --context are ignored with a bundle, and still investigates it', async () => {
    const r = await hindsight(['investigate', good, '-n', 'shop', '--context', 'prod']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning -n\/--namespace, --context are for collecting first and ignored with a bundle/,
    );
  });

  it('refuses a time with no zone instead of reading it as local time', async () => {
    const r = await hindsight(['investigate', good, '--incident-at', '2026-01-01T10:30:00']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--incident-at "2026-01-01T10:30:00" has no time zone: add Z for UTC/);
  });

  it('collects from the kubeconfig kubectl would use: $KUBECONFIG as a merged list, else ~/.kube/config', async () => {
    const home = path.join(tmp, 'home');
    await mkdir(path.join(home, '.kube'), { recursive: true });
    const kubeconfig = (name: string, port: number, current: boolean): string =>
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: ${name}, cluster: {server: "http://127.0.0.1:${port}"}}]`,
        `users: [{name: ${name}, user: {token: t}}]`,
        `contexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}, namespace: ns-${name}}}]`,
        ...(current ? [`current-context: ${name}`] : []),
      ].join('\n');
    const first = path.join(tmp, 'kc-first');
    const second = path.join(tmp, 'kc-second');
    await writeFile(first, kubeconfig('first', 1, false));
    await writeFile(second, kubeconfig('second', 2, true));
    await writeFile(path.join(home, '.kube', 'config'), kubeconfig('home', 3, true));
    const [listed, homed] = await Promise.all([
      hindsight(['investigate', '--since', '5m', '--context', 'first'], {
        HOME: home,
        KUBECONFIG: `${first}${path.delimiter}${second}`,
      }),
      hindsight(['investigate', '--since', '5m'], { HOME: home, KUBECONFIG: '' }),
    ]);
    // No API server listens there: every source fails, naming the server it tried.
    expect(listed.code).toBe(3);
    expect(listed.stderr).toMatch(/127\.0\.0\.1:1\b/);
    expect(homed.code).toBe(3);
    expect(homed.stderr).toMatch(/127\.0\.0\.1:3\b/);
  });
});

describe('hindsight as a package', () => {
  it('runs through its committed bin shim, which npm links before the build exists', async () => {
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'packages/cli/package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    const shim = path.join(repoRoot, 'packages/cli', pkg.bin['hindsight'] ?? '');
    const r = spawnSync(process.execPath, [shim, '--version'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('packs the bin shim and the built code, and no sources or tests (npm pack --dry-run)', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--workspace', 'packages/cli'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map(
      (f) => f.path,
    );
    expect(files).toContain('bin/hindsight.js');
    expect(files).toContain('dist/bin.js');
    expect(files?.filter((f) => f.startsWith('src/') || /\.test\./.test(f))).toEqual([]);
  });

  it('states in docs/rbac.md every Kubernetes resource collect lists or reads', async () => {
    const doc = await readFile(path.join(repoRoot, 'docs/rbac.md'), 'utf8');
    const dir = path.join(repoRoot, 'packages/collect/src');
    const code = (
      await Promise.all(
        (await readdir(dir, { recursive: true }))
          .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
          .map((f) => readFile(path.join(dir, f), 'utf8')),
      )
    ).join('\n');
    const kinds = [...code.matchAll(/\.(?:list|read)Namespaced([A-Z][A-Za-z]+)\(/g)].map(
      (m) => m[1] as string,
    );
    expect(kinds).toContain('Pod');
    for (const kind of new Set(kinds)) expect(doc).toContain(`'${kind.toLowerCase()}s'`);
    if (code.includes('/log`')) expect(doc).toContain("'pods/log'");
  });
});
