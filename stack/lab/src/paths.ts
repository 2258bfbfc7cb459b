import { homedir } from 'node:os';
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
    kubeconfig: join(root, 'kubeconfig'),
    releases: join(root, 'releases'),
    events: join(root, 'events.jsonl'),
    logs: join(root, 'logs'),
    pods: join(root, 'pods'),
    volumes: join(root, 'volumes'),
    traffic: join(root, 'traffic'),
  };
}

/** The paths of one lab. */
export type LabPaths = ReturnType<typeof labPaths>;
