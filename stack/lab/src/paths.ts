import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { HindsightError } from '@hindsight/core';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from this file's place (stack/lab/dist or stack/lab/src). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The chart the lab renders by default. */
export const defaultChartDir = join(repoRoot, 'stack/chart');

/** The shop's entry point, which the lab runs for the shop image. */
export const shopEntry = join(repoRoot, 'stack/shop/dist/main.js');

/** The default state folder: $XDG_STATE_HOME/hindsight/lab, else ~/.local/state/hindsight/lab. */
export function defaultLabDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_STATE_HOME && env.XDG_STATE_HOME !== '' ? env.XDG_STATE_HOME : join(homedir(), '.local/state');
  return join(base, 'hindsight/lab');
}

/** Where everything of one lab lives under its state folder. */
export function labPaths(dir: string) {
  const root = resolve(dir);
  return {
    root,
    /** The lab's settings and its ports: written by `up`, read by every command. */
    config: join(root, 'lab.json'),
    /** The supervisor's live view (pods, ports, revision), rewritten on every change. */
    status: join(root, 'status.json'),
    /** Pids of every process the lab started, with their process groups, for `down`. */
    pids: join(root, 'pids.json'),
    supervisorLog: join(root, 'supervisor.log'),
    /** The token every control request must carry, written by the supervisor (mode 0600). */
    controlToken: join(root, 'control-token'),
    kubeconfig: join(root, 'kubeconfig'),
    releases: join(root, 'releases'),
    events: join(root, 'events.jsonl'),
    logs: join(root, 'logs'),
    pods: join(root, 'pods'),
    volumes: join(root, 'volumes'),
    traffic: join(root, 'traffic'),
    /** The spans the shop exported to the lab's trace receiver (spans.jsonl, OTLP/JSON lines). */
    traces: join(root, 'traces'),
  };
}

/** The paths of one lab. */
export type LabPaths = ReturnType<typeof labPaths>;

/**
 * Makes `dir` a folder of `owner` alone (mode 0700), safely in a world-writable place such as
 * /var/tmp where another local user may have planted its name first. The folder is created if
 * absent; one that exists must be a real folder (a symlink is refused, never followed: root would
 * otherwise hand its target to `owner`) owned by root or by `owner` already. The check and the
 * chown are made on one open handle (O_NOFOLLOW), so the name cannot be swapped in between.
 * Anything else is a HINDSIGHT_LAB error naming the path.
 */
export async function ensurePrivateDir(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const refuse = (why: string): HindsightError =>
    new HindsightError('HINDSIGHT_LAB', `refusing the lab's data folder: ${why}; remove it and retry`, dir);
  const before = await lstat(dir);
  if (before.isSymbolicLink()) throw refuse('it is a symbolic link');
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch(
    (err: NodeJS.ErrnoException) => {
      throw refuse(err.code === 'ELOOP' ? 'it is a symbolic link' : `it cannot be opened (${err.code})`);
    },
  );
  try {
    const info = await fh.stat();
    if (!info.isDirectory()) throw refuse('it is not a folder');
    if (info.uid !== 0 && info.uid !== owner.uid)
      throw refuse(`it belongs to another user (uid ${info.uid})`);
    await fh.chown(owner.uid, owner.gid);
    await fh.chmod(0o700);
  } finally {
    await fh.close();
  }
}
