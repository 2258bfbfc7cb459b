import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { diffValues, errorMessage, type BundleWriter } from '@hindsight/core';
import { z } from 'zod';
import type { Source, SourceContext, SourceResult } from '../source.js';

const run = promisify(execFile);

/** The values files looked at when --values-glob is not given. */
export const DEFAULT_VALUES_GLOB = '**/values*.yaml';

async function git(dir: string, args: string[], signal: AbortSignal): Promise<string> {
  const { stdout } = await run('git', ['-C', dir, ...args], { signal, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** The file at a commit, or undefined when it does not exist there. */
async function fileAt(
  dir: string,
  rev: string,
  file: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  try {
    return await git(dir, ['show', `${rev}:${file}`], signal);
  } catch {
    return undefined;
  }
}

const gitSettingsSchema = z.object({
  git: z.string().optional(),
  valuesGlob: z.string().optional(),
});
/** The git source's settings: `--git` and `--values-glob`. */
export type GitSettings = z.infer<typeof gitSettingsSchema>;

/**
 * GitOps: every commit in the window that touched a values file (--values-glob) becomes a change
 * with its author, message and the structured diff of the file's values, so a change made in
 * Git is found even before (or without) a Helm revision. Runs the git binary with argument
 * arrays, never a shell.
 */
export const gitSource: Source<GitSettings> = {
  name: 'git',
  flags: [
    { flags: '--git <dir>', description: 'a Git working copy of the deployed values (GitOps)' },
    { flags: '--values-glob <glob>', description: 'values files inside --git', default: DEFAULT_VALUES_GLOB },
  ],
  schema: gitSettingsSchema,
  needs: ['git'],
  async collect(writer: BundleWriter, ctx: SourceContext<GitSettings>): Promise<SourceResult> {
    const dir = ctx.options.git as string;
    const pathspec = `:(glob)${ctx.options.valuesGlob ?? DEFAULT_VALUES_GLOB}`;
    const log = await git(
      dir,
      [
        'log',
        '--no-merges',
        '--reverse',
        `--since=${new Date(ctx.window.from).toISOString()}`,
        `--until=${new Date(ctx.window.to).toISOString()}`,
        '--format=%H%x00%aI%x00%an <%ae>%x00%B%x1e',
        '--',
        pathspec,
      ],
      ctx.signal,
    ).catch((err: unknown) => {
      throw new Error(`git log failed in ${dir}: ${errorMessage(err).split('\n')[0]}`);
    });
    let items = 0;
    const bad: string[] = [];
    for (const record of log.split('\x1e')) {
      const [hash, date, author, body] = record.replace(/^\n/, '').split('\x00');
      if (!hash || !date) continue;
      const files = (
        await git(
          dir,
          ['diff-tree', '--no-commit-id', '--name-only', '-r', '--root', hash, '--', pathspec],
          ctx.signal,
        )
      )
        .split('\n')
        .filter((f) => f.length > 0)
        .sort();
      for (const file of files) {
        const [before, after] = await Promise.all([
          fileAt(dir, `${hash}^`, file, ctx.signal),
          fileAt(dir, hash, file, ctx.signal),
        ]);
        let diff;
        try {
          diff = diffValues(before ? parseYaml(before) : {}, after ? parseYaml(after) : {});
        } catch (err) {
          bad.push(`${hash.slice(0, 8)}:${file}`);
          ctx.warn({
            code: 'HINDSIGHT_SOURCE_FAILED',
            message: `values file is not YAML: ${errorMessage(err)}`,
            where: `${dir} ${hash}:${file}`,
          });
          continue;
        }
        if (diff.length === 0) continue;
        await writer.addChange({
          id: `git:${hash}:${file}`,
          time: new Date(date).toISOString(),
          kind: 'git',
          target: file,
          author: author ?? '',
          message: (body ?? '').trim(),
          components: [...new Set(diff.map((d) => d.path.split('.')[0] as string))].sort(),
          diff,
        });
        items += 1;
        ctx.progress(items, hash.slice(0, 8));
      }
    }
    return bad.length > 0
      ? { status: 'partial', items, detail: `unreadable values files: ${bad.join(', ')}` }
      : { status: 'ok', items };
  },
};
