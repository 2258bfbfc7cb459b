import { changeId } from '@hindsight/core';
import type { Analyzer, Finding } from '../types.js';

function show(v: unknown): string {
  if (v === undefined) return '(none)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Every change in the bundle (Helm revisions, objects, images, scales, commits) with its diff. */
export const configChanges: Analyzer = {
  name: 'config-changes',
  family: 'config',
  needs: ['changes'],
  async analyze(_bundle, ctx) {
    const changes = await ctx.data.changes();
    return changes.map((c): Finding => {
      const id = changeId(c);
      const head = c.diff
        .slice(0, 3)
        .map((d) => `${d.path}: ${show(d.from)} -> ${show(d.to)}`)
        .join(', ');
      const more = c.diff.length > 3 ? ` and ${c.diff.length - 3} more` : '';
      const what =
        c.kind === 'helm'
          ? `helm ${c.release ?? c.target} revision ${c.fromRevision ?? '?'} -> ${c.toRevision ?? '?'}`
          : `${c.kind} ${c.target}`;
      return {
        id: `change:${id}`,
        analyzer: 'config-changes',
        kind: 'change',
        signal: `change:${id}`,
        title: `${what}: ${head || 'no diff recorded'}${more}`,
        time: Date.parse(c.time),
        strength: 1,
        evidence: [{ type: 'diff', entries: c.diff.map((d) => ({ path: d.path, from: d.from, to: d.to })) }],
        change: c,
      };
    });
  },
};
