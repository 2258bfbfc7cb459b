import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffValues, encodeRelease, unpackBundle, type HelmRelease } from '@hindsight/core';
import { bin, hindsight, repoRoot } from './helpers.js';

// The secrets of issue #16, planted in logs, events, a change's message and Helm values: see the
// fixture for each value and the leak it stands for.
interface Planted {
  redactPattern: string;
  secrets: Array<{ value: string; leak: string }>;
  logs: string[];
  events: string[];
  changeMessage: string;
  helmValues: Record<string, unknown>;
}
const fixtureFile = path.join(repoRoot, 'test/fixtures/secrets/planted.json');
const story = path.join(repoRoot, 'test/fixtures/redis-replicas-2-to-6.tar.gz');

let planted: Planted;
let tmp: string;

beforeAll(async () => {
  planted = JSON.parse(await readFile(fixtureFile, 'utf8')) as Planted;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-e2e-redaction-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Every part of every planted secret found in `text`, with the leak it stands for. */
function leaks(text: string): string[] {
  const found: string[] = [];
  for (const s of planted.secrets)
    for (const part of s.value.split(' ')) if (text.includes(part)) found.push(`${part} (${s.leak})`);
  return found;
}

async function filesText(root: string): Promise<string> {
  let out = '';
  for (const e of await readdir(root, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out += `${await readFile(path.join(e.parentPath, e.name), 'utf8')}\n`;
  return out;
}

const T0 = Date.parse('2026-03-02T09:30:00Z');
const at = (i: number): string => new Date(T0 + i * 1000).toISOString();

/**
 * The story's bundle with the secrets added past any writer, as a bundle written by an older
 * hindsight or by hand holds them: in a shop log, in events, and in the replicaCount change (the
 * top hypothesis), whose diff gains the Helm values and whose message gains a bearer token.
 */
async function handWrittenBundle(): Promise<string> {
  const dir = await unpackBundle(story);
  const changesFile = path.join(dir, 'changes.jsonl');
  const changes = (await readFile(changesFile, 'utf8'))
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as { id?: string; diff: unknown[]; message?: string });
  const target = changes.find((c) => c.id === 'helm:shop:6');
  if (!target) throw new Error('the story fixture has no helm:shop:6 change');
  target.diff.push(...diffValues({}, planted.helmValues));
  target.message = planted.changeMessage;
  await writeFile(changesFile, `${changes.map((c) => JSON.stringify(c)).join('\n')}\n`);
  const events = planted.events.map((message, i) => ({
    time: at(i),
    object: { kind: 'Pod', name: 'shop-shop-dhjbcchjk-22e53', namespace: 'shop' },
    reason: 'Planted',
    message,
    type: 'Warning',
    count: 1,
  }));
  await appendFile(path.join(dir, 'events.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  // A log of its own, so the story's logs keep their time order.
  const logDir = path.join(dir, 'logs/shop/shop-planted-0');
  await mkdir(logDir, { recursive: true });
  await writeFile(path.join(logDir, 'shop.log'), planted.logs.map((l, i) => `${at(i)} ${l}\n`).join(''));
  return dir;
}

/** A troubleshoot support bundle (unpacked) holding the secrets: a pod, its log, events and two Helm revisions. */
async function supportBundle(): Promise<string> {
  const root = path.join(tmp, 'sb');
  const cr = path.join(root, 'cluster-resources');
  const pod = {
    metadata: { name: 'shop-0', namespace: 'shop', labels: { app: 'shop' } },
    spec: { containers: [{ name: 'shop', image: 'shop:1' }] },
    status: { phase: 'Running' },
  };
  await mkdir(path.join(cr, 'pods/logs/shop/shop-0'), { recursive: true });
  await writeFile(path.join(cr, 'pods/shop.json'), JSON.stringify({ kind: 'PodList', items: [pod] }));
  await writeFile(
    path.join(cr, 'pods/logs/shop/shop-0/shop.log'),
    planted.logs.map((l, i) => `${at(i)} ${l}\n`).join(''),
  );
  await mkdir(path.join(cr, 'events'), { recursive: true });
  const events = planted.events.map((message, i) => ({
    metadata: { name: `e${i}`, namespace: 'shop', uid: `uid-${i}` },
    involvedObject: { kind: 'Pod', name: 'shop-0', namespace: 'shop' },
    reason: 'Planted',
    message,
    type: 'Warning',
    lastTimestamp: at(i),
    count: 1,
  }));
  await writeFile(path.join(cr, 'events/shop.json'), JSON.stringify({ kind: 'EventList', items: events }));
  const release = (version: number, config: Record<string, unknown>): HelmRelease => ({
    name: 'shop',
    namespace: 'shop',
    version,
    info: { status: version === 2 ? 'deployed' : 'superseded', last_deployed: at(20 + version) },
    chart: { metadata: { name: 'shop', version: '1.0.0' } },
    config,
    manifest: '',
  });
  const secret = (r: HelmRelease): unknown => ({
    metadata: { name: `sh.helm.release.v1.shop.v${r.version}`, namespace: 'shop' },
    data: { release: Buffer.from(encodeRelease(r)).toString('base64') },
  });
  await mkdir(path.join(cr, 'secrets'), { recursive: true });
  await writeFile(
    path.join(cr, 'secrets/shop.json'),
    JSON.stringify({
      kind: 'SecretList',
      items: [
        secret(release(1, { redis: { replica: { replicaCount: 2 } } })),
        secret(release(2, planted.helmValues)),
      ],
    }),
  );
  return root;
}

/** Runs investigate on `bundle` to every report, and returns each output by name. */
async function reportsOf(bundle: string, out: string): Promise<Record<string, string>> {
  await mkdir(out, { recursive: true });
  const files = {
    html: path.join(out, 'r.html'),
    md: path.join(out, 'r.md'),
  };
  const pattern = ['--redact-pattern', planted.redactPattern];
  const written = await hindsight([
    'investigate',
    bundle,
    '-o',
    'json',
    '--html',
    files.html,
    '--markdown',
    files.md,
    ...pattern,
  ]);
  expect(written.code, written.stderr).toBe(0);
  const terminal = await hindsight(['investigate', bundle, '--top', '10', ...pattern]);
  expect(terminal.code, terminal.stderr).toBe(0);
  return {
    json: written.stdout,
    html: await readFile(files.html, 'utf8'),
    markdown: await readFile(files.md, 'utf8'),
    terminal: terminal.stdout + terminal.stderr,
  };
}

interface Served {
  child: ChildProcess;
  url: string;
}

function serve(bundle: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [bin, 'serve', bundle, '--port', '0', '--redact-pattern', planted.redactPattern],
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) resolve({ child, url: m[0] });
    });
    child.once('exit', (code) => reject(new Error(`hindsight serve exited with ${code}`)));
  });
}

async function stop(s: Served): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  s.child.kill('SIGINT');
  await exited;
}

/** Everything `serve` answers about the bundle: overview, report, changes, timeline, templates and their lines. */
async function servedText(s: Served): Promise<string> {
  const get = async (p: string): Promise<string> => (await fetch(new URL(p, s.url))).text();
  for (let i = 0; i < 600; i++) {
    if ((JSON.parse(await get('/api/overview')) as { state: string }).state !== 'loading') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const overview = JSON.parse(await get('/api/overview')) as { state: string; report: unknown };
  expect([overview.state, overview.report === null]).toEqual(['ready', false]);
  const parts = await Promise.all(
    ['/api/overview', '/api/report', '/api/changes', '/api/timeline', '/api/templates', '/api/series'].map(
      get,
    ),
  );
  const { templates } = JSON.parse(parts[4] as string) as { templates: Array<{ id: string }> };
  for (const t of templates)
    parts.push(await get(`/api/templates/${encodeURIComponent(t.id)}/lines?limit=2000`));
  return parts.join('\n');
}

describe('hindsight keeps planted secrets out of everything it writes', () => {
  it('a bundle written by hand: no report (JSON, HTML, Markdown, terminal) and no serve answer holds one; escapes and markup arrive as text', async () => {
    const bundle = await handWrittenBundle();
    try {
      expect(leaks(await filesText(bundle)).length, 'the planted bundle holds every secret').toBeGreaterThan(
        20,
      );
      const reports = await reportsOf(bundle, path.join(tmp, 'hand-reports'));
      for (const [name, text] of Object.entries(reports)) expect(leaks(text), name).toEqual([]);
      // The top hypothesis is the change that carried the Helm values: its diff was in every report.
      expect(reports['markdown']).toMatch(/redis\.replica\.replicaCount/);
      // Its banner's escapes reach the terminal as text (colour is off: no ESC is ours), its markup
      // reaches Markdown and HTML as text.
      expect(reports['terminal']).toContain('app.banner');
      // eslint-disable-next-line no-control-regex
      expect(reports['terminal']).not.toMatch(/[\u001b\u0007\u009b]/);
      expect(reports['terminal']).toContain('\\x1b]0;owned\\x07');
      const outsideCode = (reports['markdown'] as string).replace(/(`+)[^`][\s\S]*?\1/g, '');
      expect(outsideCode).toContain('&lt;img src=x');
      expect(outsideCode).not.toMatch(/<img/);
      expect(reports['html']).not.toMatch(/<img/);
      const json = JSON.parse(reports['json'] as string) as {
        redactions: { report: Record<string, number> };
      };
      for (const kind of ['jwt', 'secret-key', 'aws-access-key', 'cookie', 'custom'])
        expect(json.redactions.report[kind], kind).toBeGreaterThan(0);
      const served = await serve(bundle);
      try {
        expect(leaks(await servedText(served))).toEqual([]);
      } finally {
        await stop(served);
      }
    } finally {
      await rm(bundle, { recursive: true, force: true });
    }
  });

  it('an imported support bundle: the bundle holds none, counts them in its manifest, and its reports hold none', async () => {
    const input = await supportBundle();
    expect(leaks(await filesText(input)).length).toBeGreaterThan(15);
    const out = path.join(tmp, 'imported');
    const r = await hindsight([
      'import',
      'support-bundle',
      input,
      '--out-dir',
      out,
      '--redact-pattern',
      planted.redactPattern,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(leaks(await filesText(out))).toEqual([]);
    // The Helm revisions were read: the change and its env list are there, the values redacted.
    expect(await readFile(path.join(out, 'changes.jsonl'), 'utf8')).toMatch(
      /"path":"shop\.env","to":\[\{"name":"PGPASSWORD","value":"\[REDACTED\]"\}/,
    );
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as {
      redactions: Record<string, number>;
    };
    for (const kind of [
      'jwt',
      'secret-key',
      'aws-access-key',
      'cookie',
      'private-key',
      'github-token',
      'custom',
    ])
      expect(manifest.redactions[kind], kind).toBeGreaterThan(0);
    expect((await hindsight(['validate', out])).code).toBe(0);
    const reports = await reportsOf(out, path.join(tmp, 'imported-reports'));
    for (const [name, text] of Object.entries(reports)) expect(leaks(text), name).toEqual([]);
  });

  it('collect from a Git working copy of Helm values: the bundle holds none of their secrets', async () => {
    const run = promisify(execFile);
    const repo = path.join(tmp, 'deploy');
    await mkdir(path.join(repo, 'envs/prod'), { recursive: true });
    await run('git', ['-C', repo, 'init', '-q']);
    const commit = async (date: string, message: string, values: unknown): Promise<void> => {
      // JSON is YAML: the values file holds the planted values as they are.
      await writeFile(path.join(repo, 'envs/prod/values.yaml'), JSON.stringify(values, null, 2));
      await run('git', ['-C', repo, 'add', '-A']);
      const env = { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
      await run(
        'git',
        ['-C', repo, '-c', 'user.name=ci', '-c', 'user.email=ci@example.com', 'commit', '-q', '-m', message],
        {
          env,
        },
      );
    };
    await commit('2026-03-02T09:00:00Z', 'initial values', { redis: { replica: { replicaCount: 2 } } });
    await commit('2026-03-02T09:30:00Z', planted.changeMessage, {
      ...planted.helmValues,
      redis: { replica: { replicaCount: 6 }, ...(planted.helmValues['redis'] as object) },
    });
    const out = path.join(tmp, 'collected');
    const r = await hindsight([
      'collect',
      '--git',
      repo,
      '--from',
      '2026-03-02T08:00:00Z',
      '--to',
      '2026-03-02T10:00:00Z',
      '--out-dir',
      out,
      '--redact-pattern',
      planted.redactPattern,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const text = await filesText(out);
    expect(text).toMatch(/redis\.replica\.replicaCount/);
    expect(text).toMatch(/"path":"shop\.env","to":\[\{"name":"PGPASSWORD","value":"\[REDACTED\]"/);
    expect(leaks(text)).toEqual([]);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as {
      redactions: Record<string, number>;
    };
    expect(manifest.redactions['secret-key']).toBeGreaterThan(5);
    expect(manifest.redactions['jwt']).toBe(1);
  });

  it("collect: a failed source's error names no match of --redact-pattern, on the terminal or in the manifest", async () => {
    const out = path.join(tmp, 'failed-source');
    const missing = path.join(tmp, 'ACME-990020', 'deploy');
    const r = await hindsight([
      'collect',
      '--git',
      missing,
      '--since',
      '10m',
      '--out-dir',
      out,
      '--redact-pattern',
      planted.redactPattern,
    ]);
    expect(r.stderr).toMatch(/git/);
    expect(r.stdout + r.stderr).not.toContain('ACME-990020');
    expect(await readFile(path.join(out, 'manifest.json'), 'utf8')).not.toContain('ACME-990020');
  });

  it('refuses an invalid --redact-pattern with its code, before doing anything', async () => {
    for (const args of [
      ['investigate', story],
      ['serve', story],
      ['import', 'support-bundle', story, '--out-dir', path.join(tmp, 'never')],
      ['collect', '--redis', 'redis://127.0.0.1:1', '--out-dir', path.join(tmp, 'never')],
    ]) {
      const r = await hindsight([...args, '--redact-pattern', 'token-(']);
      expect([r.code, r.stderr], args[0]).toEqual([
        2,
        expect.stringMatching(/"token-\(" is not a valid regular expression.*\[HINDSIGHT_REDACT_PATTERN\]/),
      ]);
    }
  });
});
