// CPU limits, as the kubelet has the cgroup enforce them: limits.cpu becomes a CFS quota (cgroup v1
// cpu.cfs_quota_us, v2 cpu.max) in a cgroup per container under one per lab. Where no cgroup can be
// made here (not root, no cpu controller), nothing is enforced and `how` says why; the lab never
// pretends. requests.cpu is not applied: as a weight (cpu.shares) it is relative to the node's other
// cgroups, and here those are every other process of the machine at the default weight of a full
// core, so a 100m request would starve the lab's pods (measured: 130 errors in 405 requests).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Cores of a Kubernetes CPU quantity (`500m`, `1`, `0.25`); undefined when unreadable. */
export function parseCpu(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return q > 0 ? q : undefined;
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(q.trim());
  if (!m) return undefined;
  const cores = Number(m[1]) / (m[2] ? 1000 : 1);
  return cores > 0 ? cores : undefined;
}

type Flavour = { kind: 'v1'; root: string } | { kind: 'v2'; root: string };

const V1 = '/sys/fs/cgroup/cpu';
const V2 = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

/** The name of a lab's own cgroup, from its state folder (so `down` finds it without the supervisor). */
export function labCgroupName(stateRoot: string): string {
  return `hindsight-lab-${createHash('sha256').update(stateRoot).digest('hex').slice(0, 12)}`;
}

function detect(name: string): Flavour | string {
  if (process.getuid?.() !== 0) return 'the lab does not run as root, and only root can make cgroups here';
  try {
    if (existsSync(join(V1, 'cpu.cfs_quota_us'))) {
      mkdirSync(join(V1, name), { recursive: true });
      return { kind: 'v1', root: join(V1, name) };
    }
    if (readFileSync(join(V2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) {
      mkdirSync(join(V2, name), { recursive: true });
      writeFileSync(join(V2, 'cgroup.subtree_control'), '+cpu');
      writeFileSync(join(V2, name, 'cgroup.subtree_control'), '+cpu');
      return { kind: 'v2', root: join(V2, name) };
    }
    return 'no cgroup cpu controller on this machine';
  } catch (err) {
    return `cannot make a cgroup: ${(err as Error).message}`;
  }
}

/** What the lab does with CPU limits, for `lab status`. */
export interface CpuEnforcement {
  enforced: boolean;
  /** How (`limits.cpu as cgroup v1 cpu.cfs_quota_us`), or why not. */
  how: string;
}

/** The lab's CPU cgroups. */
export class CpuLimits {
  private flavour: Flavour | string | undefined;

  constructor(
    private readonly stateRoot: string,
    private readonly log: (msg: string) => void,
  ) {}

  private get ready(): Flavour | string {
    this.flavour ??= detect(labCgroupName(this.stateRoot));
    return this.flavour;
  }

  enforcement(): CpuEnforcement {
    const f = this.ready;
    if (typeof f === 'string') return { enforced: false, how: f };
    return {
      enforced: true,
      how: f.kind === 'v1' ? 'limits.cpu as cgroup v1 cpu.cfs_quota_us' : 'limits.cpu as cgroup v2 cpu.max',
    };
  }

  /**
   * Puts a container's process group in its cgroup with its limit and request. Processes the
   * container forks after this inherit it; `settle` moves those forked in the first instants.
   */
  attach(id: string, pgid: number, limit: number | undefined): void {
    if (limit === undefined) return;
    const f = this.ready;
    if (typeof f === 'string') {
      this.log(`${id}: CPU limit ${limit} cores NOT enforced: ${f}`);
      return;
    }
    const dir = join(f.root, id);
    try {
      mkdirSync(dir, { recursive: true });
      if (f.kind === 'v1') {
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.ceil(limit * PERIOD_US)));
      } else {
        writeFileSync(join(dir, 'cpu.max'), `${Math.ceil(limit * PERIOD_US)} ${PERIOD_US}`);
      }
      moveGroup(dir, pgid);
      setTimeout(() => moveGroup(dir, pgid), 300).unref();
    } catch (err) {
      this.log(`${id}: cannot apply the CPU limit ${limit}: ${(err as Error).message}`);
    }
  }

  /** Throttling of a container so far (cgroup cpu.stat), when enforced. */
  stat(id: string): { periods: number; throttled: number } | undefined {
    const f = this.ready;
    if (typeof f === 'string') return undefined;
    try {
      const text = readFileSync(join(f.root, id, 'cpu.stat'), 'utf8');
      const get = (k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
      return { periods: get('nr_periods'), throttled: get('nr_throttled') };
    } catch {
      return undefined;
    }
  }

  /** Removes a container's cgroup once its processes are gone. */
  release(id: string): void {
    const f = this.ready;
    if (typeof f === 'string') return;
    try {
      rmdirSync(join(f.root, id));
    } catch {
      /* never made, or still holds a process (removed with the lab) */
    }
  }

  /** Removes the lab's cgroups. */
  close(): void {
    removeLabCgroups(this.stateRoot);
  }
}

/** Moves every process of group `pgid` into the cgroup at `dir`. */
function moveGroup(dir: string, pgid: number): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses; fields follow the last ')'.
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (pgrp !== pgid) continue;
    try {
      writeFileSync(join(dir, 'cgroup.procs'), entry);
    } catch {
      /* exited meanwhile */
    }
  }
}

/** Removes a lab's cgroups (best effort: a cgroup that still holds a process stays). */
export function removeLabCgroups(stateRoot: string): void {
  const name = labCgroupName(stateRoot);
  for (const base of [V1, V2]) {
    const root = join(base, name);
    if (!existsSync(root)) continue;
    try {
      for (const e of readdirSync(root, { withFileTypes: true }))
        if (e.isDirectory()) rmdirSync(join(root, e.name));
      rmdirSync(root);
    } catch {
      /* still in use */
    }
  }
}
