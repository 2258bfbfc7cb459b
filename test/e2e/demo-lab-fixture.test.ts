// `hindsight investigate` on a bundle recorded from the lab by `hindsight demo` (not synthetic):
// real redis-server, PostgreSQL, nginx and shop processes, collected through the lab's Kubernetes
// API, Redis and PostgreSQL sampled during the incident. Revision 2 adds a pod label, revision 3
// is the story's upgrade (redis.replica.replicaCount 2 -> 6, replicas ready before their first
// sync), revision 4 changes the Redis log level; 76 sessions were lost after revision 3.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hindsight, repoRoot } from './helpers.js';

const bundle = path.join(repoRoot, 'test/fixtures/lab-redis-replicas-2-to-6.tar.gz');

interface JsonReport {
  hypotheses: Array<{
    cause: { type: string; revision?: number; paths?: string[]; components?: string[] };
    chain: Array<{ role: string; component?: string; title: string }>;
    nextStep: string;
  }>;
}

describe('hindsight investigate on a lab recording of the story', () => {
  it('ranks the replicaCount change first when sessions go missing', async () => {
    const r = await hindsight(['investigate', bundle]);
    expect(r.code, r.stderr).toBe(0);
    const first = r.stdout.split('\n').find((l) => /^1\. /.test(l)) ?? '';
    expect(first).toMatch(/revision 2 -> 3: .*redis\.replica\.replicaCount: 2 -> 6/);
    expect(r.stdout).toMatch(/next: roll shop back to revision 2 \(restore .*redis\.replica\.replicaCount=2/);
  });

  it('names Redis and session signals in the evidence of its first cause', async () => {
    const r = await hindsight(['investigate', bundle, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const top = (JSON.parse(r.stdout) as JsonReport).hypotheses[0];
    expect(top?.cause).toMatchObject({ type: 'change', revision: 3, components: ['redis'] });
    expect(top?.cause.paths).toContain('redis.replica.replicaCount');
    const signals = top?.chain.filter((c) => c.role !== 'cause') ?? [];
    expect(signals.some((c) => c.component === 'redis' && /^redis_/.test(c.title))).toBe(true);
    expect(signals.some((c) => c.component === 'shop' && /session missing/.test(c.title))).toBe(true);
  });
});
