import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundle, validateBundle } from '@hindsight/core';
import { collect } from '../collect.js';
import { gitSource } from './git.js';
import { filesContaining, tempDir } from '../test-support.js';

const run = promisify(execFile);
let tmp: Awaited<ReturnType<typeof tempDir>>;
let repo: string;

async function commit(date: string, message: string, files: Record<string, string>): Promise<void> {
  for (const [f, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(repo, f)), { recursive: true });
    await writeFile(path.join(repo, f), text);
  }
  await run('git', ['-C', repo, 'add', '-A']);
  const env = { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
  await run(
    'git',
    [
      '-C',
      repo,
      '-c',
      'user.name=Dana Ops',
      '-c',
      'user.email=dana@example.com',
      'commit',
      '-q',
      '-m',
      message,
    ],
    { env },
  );
}

beforeAll(async () => {
  tmp = await tempDir('hs-collect-git-');
  repo = path.join(tmp.dir, 'deploy');
  await mkdir(repo);
  await run('git', ['-C', repo, 'init', '-q']);
  await commit('2026-11-25T09:00:00Z', 'prod: initial values', {
    'envs/prod/shop/values.yaml':
      'redis:\n  auth:\n    password: gitplanted-1\n  replica:\n    replicaCount: 2\n',
    'envs/staging/shop/values.yaml': 'redis:\n  replica:\n    replicaCount: 1\n',
  });
  await commit('2026-11-25T10:15:00Z', 'prod: more read replicas for the sale\n\nTicket OPS-42', {
    'envs/prod/shop/values.yaml':
      'redis:\n  auth:\n    password: gitplanted-2\n  replica:\n    replicaCount: 6\n',
    'envs/staging/shop/values.yaml': 'redis:\n  replica:\n    replicaCount: 3\n',
    'README.md': 'notes\n',
  });
  await commit('2026-11-25T10:30:00Z', 'docs only', { 'README.md': 'more notes\n' });
});
afterAll(async () => {
  await tmp?.cleanup();
});

describe('git source on a real repository', () => {
  it('turns each commit in the window that touched a values file into a change with its diff', async () => {
    const out = path.join(tmp.dir, 'bundle');
    const r = await collect({
      output: out,
      window: { from: new Date('2026-11-25T10:00:00Z'), to: new Date('2026-11-25T11:00:00Z') },
      git: repo,
      valuesGlob: 'envs/prod/**/values*.yaml',
      sources: [gitSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ name: 'git', status: 'ok', items: 1 });
    expect(await validateBundle(out)).toEqual([]);
    const [c, ...rest] = await (await openBundle(out)).changes();
    expect(rest).toEqual([]);
    expect(c).toMatchObject({
      kind: 'git',
      target: 'envs/prod/shop/values.yaml',
      time: '2026-11-25T10:15:00.000Z',
      author: 'Dana Ops <dana@example.com>',
      message: 'prod: more read replicas for the sale\n\nTicket OPS-42',
      components: ['redis'],
      diff: [
        { path: 'redis.auth.password', from: '[REDACTED]', to: '[REDACTED]' },
        { path: 'redis.replica.replicaCount', from: 2, to: 6 },
      ],
    });
    expect(await filesContaining(out, 'gitplanted')).toEqual([]);
  });

  it('reads every values file by default, and a missing repository fails the source alone', async () => {
    const r = await collect({
      output: path.join(tmp.dir, 'all'),
      window: { from: new Date('2026-11-25T08:00:00Z'), to: new Date('2026-11-25T11:00:00Z') },
      git: repo,
      sources: [gitSource],
    });
    expect(r.manifest.sources[0]).toMatchObject({ status: 'ok', items: 4 });
    const bad = await collect({
      output: path.join(tmp.dir, 'missing'),
      window: { from: new Date('2026-11-25T08:00:00Z'), to: new Date('2026-11-25T11:00:00Z') },
      git: path.join(tmp.dir, 'nope'),
      sources: [gitSource],
    });
    expect(bad.manifest.sources[0]).toMatchObject({ status: 'failed' });
    expect(bad.manifest.sources[0]?.error).toMatch(/git log failed/);
  });
});
