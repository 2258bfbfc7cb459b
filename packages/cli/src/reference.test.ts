import { spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateCliDoc, run } from './index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const sink = new Writable({
    write: (c: Buffer, _e, done) => {
      stdout += c.toString();
      done();
    },
  });
  const code = await run(args, {
    stdout: sink,
    stderr: new Writable({ write: (_c, _e, d) => d() }),
    env: {},
  });
  return { code, stdout };
}

/** Every source file of the repository that the tool, the lab, the benches or the tests run. */
async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'fixtures', 'out', '.git'].includes(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (/\.(ts|mjs|js|sh)$/.test(e.name)) out.push(p);
  }
  return out;
}

// process.env.X, env.X, env['X'], (options.env ?? process.env)['X'], and ${X:-default} in shell.
const ENV_READ =
  /(?:process\.env\)?|(?<![.\w])env\)?)(?:\.([A-Z][A-Z0-9_]+)|\[\s*['"]([A-Z][A-Z0-9_]+)['"]\s*\])|\$\{([A-Z][A-Z0-9_]+):-/g;

describe('the CLI reference and completion, from the command registry', () => {
  it('keeps docs/cli.md equal to what the registry generates (node scripts/gen-cli-docs.mjs)', async () => {
    const doc = await readFile(path.join(repo, 'docs/cli.md'), 'utf8');
    expect(generateCliDoc(doc)).toBe(doc);
  });

  it('documents in docs/cli.md every environment variable the code reads', async () => {
    const doc = await readFile(path.join(repo, 'docs/cli.md'), 'utf8');
    const read = new Set<string>();
    for (const root of ['packages', 'stack', 'bench', 'scripts', 'test']) {
      for (const file of await sources(path.join(repo, root))) {
        for (const m of (await readFile(file, 'utf8')).matchAll(ENV_READ))
          read.add(m[1] ?? m[2] ?? m[3] ?? '');
      }
    }
    expect(read).toContain('KUBECONFIG');
    expect(read).toContain('HINDSIGHT_DEBUG');
    const missing = [...read].filter((name) => !doc.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('prints a bash completion that completes commands, subcommands and -o formats', async () => {
    const script = await cli(['completion', 'bash']);
    expect(script.code).toBe(0);
    const complete = (...words: string[]): string => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `eval "$SCRIPT"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _hindsight; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8', env: { ...process.env, SCRIPT: script.stdout } },
      );
      return r.stdout.trim();
    };
    expect(complete('hindsight', 'inv')).toBe('investigate');
    expect(complete('hindsight', 'investigate', '-o', '')).toBe('text json markdown html');
    expect(complete('hindsight', 'import', 'rc')).toBe('rca-dataset');
    expect(complete('hindsight', 'completion', 'f')).toBe('fish');
  });

  it('prints zsh and fish completions naming every command, and refuses another shell', async () => {
    const [zsh, fish, other] = await Promise.all([
      cli(['completion', 'zsh']),
      cli(['completion', 'fish']),
      cli(['completion', 'tcsh']),
    ]);
    expect(zsh.stdout).toMatch(/^#compdef hindsight/);
    expect(fish.stdout).toMatch(/complete -c hindsight .* -a 'investigate'/);
    expect(fish.stdout).toMatch(/-s o -l output -x -a 'text json markdown html'/);
    expect(other.code).toBe(2);
  });
});
