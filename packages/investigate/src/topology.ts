import type { Change, Topology } from '@hindsight/core';
import type { BundleData } from './data.js';

/** Which component calls which, with distances for ranking. */
export class TopologyGraph {
  private readonly edges = new Map<string, Set<string>>();

  constructor(topology: Topology) {
    for (const c of topology.components) {
      for (const d of c.dependsOn) {
        this.link(c.name, d);
        this.link(d, c.name);
      }
    }
  }

  private link(a: string, b: string): void {
    let s = this.edges.get(a);
    if (!s) {
      s = new Set();
      this.edges.set(a, s);
    }
    s.add(b);
  }

  /** Whether the graph knows any edge at all. */
  get known(): boolean {
    return this.edges.size > 0;
  }

  /**
   * Hops between two components along calls in either direction (a change in X moves what calls X,
   * through its answers, and what X calls, through its load); Infinity when unconnected.
   */
  distance(a: string, b: string): number {
    if (a === b) return 0;
    const seen = new Set([a]);
    let frontier = [a];
    for (let d = 1; d <= 4; d++) {
      const next: string[] = [];
      for (const x of frontier) {
        for (const y of this.edges.get(x) ?? []) {
          if (y === b) return d;
          if (!seen.has(y)) {
            seen.add(y);
            next.push(y);
          }
        }
      }
      frontier = next;
    }
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * The components a change touches: those it names, the first segment of each diff path that is a
 * known component (`redis.replica.replicaCount` -> redis), and for an object change the component
 * named in its target (`shop-redis-replica` -> redis). A Helm release's name is not a component.
 */
export function changeComponents(change: Change, data: BundleData, known: Set<string>): string[] {
  const out = new Set<string>(change.components ?? []);
  for (const d of change.diff) {
    const first = d.path.split('.')[0] ?? '';
    const seg = first.toLowerCase();
    // `shop` in a values path names the component `shop`, or `myrel-shop` where components were
    // named after their workloads.
    const hit =
      [...known].find((k) => k.toLowerCase() === seg) ??
      [...known]
        .sort()
        .find((k) => k.toLowerCase().endsWith(`-${seg}`) || k.toLowerCase().startsWith(`${seg}-`));
    if (hit) out.add(hit);
    else {
      const inName = data.componentInName(first);
      if (inName) out.add(inName);
    }
  }
  if (change.kind !== 'helm' && change.kind !== 'git') {
    const c = data.componentInName(change.target);
    if (c) out.add(c);
  }
  return [...out].sort();
}
