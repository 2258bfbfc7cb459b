import type { Cause, Finding } from '../types.js';

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** What to do about a cause: undo the change (the command), or where to look. */
export function nextStepFor(cause: Cause, finding: Finding, changes: Finding[]): string {
  if (cause.type === 'anomaly')
    return `look at ${cause.component ?? 'the component'} first: ${finding.title}`;
  if (cause.type === 'component') return `look at ${cause.component} first`;
  const restore = cause.diff
    .filter((d) => d.from !== undefined)
    .slice(0, 3)
    .map((d) => `${d.path}=${show(d.from)}`);
  const restoreText = restore.length > 0 ? `restore ${restore.join(', ')}` : 'undo it';
  switch (cause.kind) {
    case 'helm': {
      const release = cause.release ?? cause.target;
      const prev = cause.fromRevision ?? (cause.revision === undefined ? undefined : cause.revision - 1);
      // A rollback also undoes later revisions: name them, and give the targeted alternative.
      const later = changes
        .map((c) => c.change)
        .filter((c) => c?.release === release && (c.toRevision ?? 0) > (cause.revision ?? 0))
        .map((c) => c?.toRevision)
        .filter((r, i, all) => all.indexOf(r) === i);
      const setFlags = restore.map((r) => `--set ${r}`).join(' ');
      const upgrade = setFlags ? `helm upgrade ${release} --reuse-values ${setFlags}` : undefined;
      if (prev === undefined) return upgrade ?? restoreText;
      const undoes =
        later.length > 0
          ? `; it also undoes revision${later.length === 1 ? '' : 's'} ${later.join(', ')}`
          : '';
      return `helm rollback ${release} ${prev} (${restoreText}${undoes})${upgrade ? `, or only that value: ${upgrade}` : ''}`;
    }
    case 'deployment':
    case 'image':
      return `kubectl rollout undo deployment/${cause.target} (or ${restoreText})`;
    case 'scale': {
      const from = cause.diff.find((d) => /replicas/i.test(d.path))?.from;
      return from === undefined ? restoreText : `kubectl scale ${cause.target} --replicas=${show(from)}`;
    }
    case 'configmap':
      return `${restoreText} in configmap ${cause.target} and restart what reads it`;
    case 'git':
      return `git revert the commit (${cause.target}), or ${restoreText}`;
  }
}
