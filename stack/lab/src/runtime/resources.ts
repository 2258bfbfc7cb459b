// Container resources, as the cgroup enforces them: a memory limit kills the container
// (OOMKilled) once its resident memory goes past it.
import { readFileSync } from 'node:fs';
import { parseQuantity } from '../programs/index.js';
import type { Cluster } from './cluster.js';
import { killGroup, type Container } from './pod.js';

/** Watches the containers' resources against their limits. */
export class ResourceLimits {
  private readonly watch: NodeJS.Timeout;
  /** Set on a container killed for its memory limit, so its exit reads OOMKilled. */
  private readonly oomKilled = new WeakSet<Container>();

  constructor(private readonly cluster: Cluster) {
    // Read from /proc/PID/statm of the container's main process every 500 ms.
    this.watch = setInterval(() => this.enforceMemory(), 500);
    this.watch.unref();
  }

  /** True when the container's last exit was the memory limit's kill; clears the mark. */
  takeOomKilled(c: Container): boolean {
    const was = this.oomKilled.has(c);
    this.oomKilled.delete(c);
    return was;
  }

  stop(): void {
    clearInterval(this.watch);
  }

  private enforceMemory(): void {
    for (const pod of this.cluster.pods.values()) {
      for (const c of pod.containers) {
        const limit = parseQuantity(c.spec.resources?.limits?.memory);
        const pid = c.child?.pid;
        if (limit === undefined || pid === undefined || c.child?.exitCode !== null || c.stopping) continue;
        let rss: number;
        try {
          rss = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
        } catch {
          continue;
        }
        if (rss > limit) {
          this.cluster.o.log(
            `${pod.name}/${c.spec.name}: ${rss} bytes resident, over its limit of ${limit}: OOMKilled`,
          );
          this.oomKilled.add(c);
          killGroup(pid, 'SIGKILL');
        }
      }
    }
  }
}
