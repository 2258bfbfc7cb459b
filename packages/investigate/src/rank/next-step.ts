import type { Change, Pod } from '@hindsight/core';
import { changeId } from '../analyzers/config-changes.js';
import type { Cause, Finding, Hypothesis } from '../types.js';

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The release a helm cause names: collect writes `release/NAME` as the target, older bundles `NAME`. */
function releaseOf(cause: Extract<Cause, { type: 'change' }>): string {
  return cause.release ?? cause.target.replace(/^release\//, '');
}

function previousRevision(cause: Extract<Cause, { type: 'change' }>): number | undefined {
  return cause.fromRevision ?? (cause.revision === undefined ? undefined : cause.revision - 1);
}

/** What to do about a cause, in words: undo the change, or where to look. The commands are {@link nextCommands}. */
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
      const release = releaseOf(cause);
      const prev = previousRevision(cause);
      // A rollback also undoes later revisions: name them, and give the targeted alternative.
      const later = changes
        .map((c) => c.change)
        .filter((c) => c?.release === release && (c.toRevision ?? 0) > (cause.revision ?? 0))
        .map((c) => c?.toRevision)
        .filter((r, i, all) => all.indexOf(r) === i);
      if (prev === undefined) return `${restoreText} in release ${release} (helm upgrade with your chart)`;
      const undoes =
        later.length > 0
          ? `; it also undoes revision${later.length === 1 ? '' : 's'} ${later.join(', ')}`
          : '';
      // The bundle records the chart's name, never where it is deployed from, so the targeted
      // path is said in words, not printed as a command helm would reject.
      const only =
        restore.length > 0
          ? `, or only that value: helm upgrade with your chart, --reuse-values and --set ${restore.join(' --set ')}`
          : '';
      return `helm rollback ${release} ${prev} (${restoreText}${undoes})${only}`;
    }
    case 'deployment':
    case 'image':
      return `kubectl rollout undo ${workloadRef(cause.target)} (or ${restoreText})`;
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

/** Where the commands run: what the bundle says about namespaces and pods. */
export interface CommandContext {
  /** The bundle's namespace (its manifest's), used where a change records none. */
  namespace?: string;
  pods: Pod[];
  changes: Change[];
}

// Characters a POSIX shell reads literally: anything else is single-quoted.
const SHELL_SAFE = /^[A-Za-z0-9_\-./=:,@%+]+$/;

/** `s` as one shell word. */
export function shellQuote(s: string): string {
  return SHELL_SAFE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function cmd(...words: Array<string | number>): string {
  return words.map((w) => shellQuote(String(w))).join(' ');
}

/** `Deployment/x` or `x` as kubectl's `deployment/x`. */
function workloadRef(target: string): string {
  const slash = target.indexOf('/');
  return slash < 0
    ? `deployment/${target}`
    : `${target.slice(0, slash).toLowerCase()}/${target.slice(slash + 1)}`;
}

function nsOf(cause: Extract<Cause, { type: 'change' }>, ctx: CommandContext): string | undefined {
  const change = ctx.changes.find((c) => changeId(c) === cause.changeId);
  return change?.namespace ?? ctx.namespace;
}

function withNs(words: Array<string | number>, ns: string | undefined): string {
  return cmd(...words, ...(ns ? ['-n', ns] : []));
}

function changeCommands(cause: Extract<Cause, { type: 'change' }>, ctx: CommandContext): string[] {
  const ns = nsOf(cause, ctx);
  switch (cause.kind) {
    case 'helm': {
      const release = releaseOf(cause);
      const prev = previousRevision(cause);
      if (prev === undefined) return [withNs(['helm', 'history', release], ns)];
      // The targeted path starts from the values of the revision before: `helm upgrade` needs the
      // chart, which the release record names but does not locate.
      return [
        withNs(['helm', 'rollback', release, prev], ns),
        `${withNs(['helm', 'get', 'values', release, '--revision', prev], ns)} -o yaml > ${shellQuote(`values-rev${prev}.yaml`)}`,
      ];
    }
    case 'deployment':
    case 'image':
      return [withNs(['kubectl', 'rollout', 'undo', workloadRef(cause.target)], ns)];
    case 'scale': {
      const from = cause.diff.find((d) => /replicas/i.test(d.path))?.from;
      return from === undefined
        ? []
        : [withNs(['kubectl', 'scale', workloadRef(cause.target), `--replicas=${show(from)}`], ns)];
    }
    case 'configmap':
      return [withNs(['kubectl', 'edit', 'configmap', cause.target.replace(/^configmap\//i, '')], ns)];
    case 'git':
      return [];
  }
}

/** Commands that show a component's state: its node, or its first pod's description and logs. */
function componentCommands(component: string | undefined, since: number, ctx: CommandContext): string[] {
  if (!component) return [];
  if (component.startsWith('node/')) return [cmd('kubectl', 'describe', 'node', component.slice(5))];
  const pod = ctx.pods
    .filter((p) => p.component === component || p.name === component)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
  if (!pod) return [];
  const sinceTime = `--since-time=${new Date(since).toISOString()}`;
  return [
    cmd('kubectl', 'describe', 'pod', pod.name, '-n', pod.namespace),
    cmd('kubectl', 'logs', pod.name, '-n', pod.namespace, '--all-containers', '--timestamps', sinceTime),
  ];
}

/**
 * The next step as commands, each runnable as printed (namespace from the change or the bundle,
 * values shell-quoted): undo a change, or look at a component's pod. Empty when nothing fits.
 */
export function nextCommands(h: Hypothesis, ctx: CommandContext): string[] {
  if (h.score === 0 && h.explains.length === 0) return [];
  const cause = h.cause;
  if (cause.type === 'change') return changeCommands(cause, ctx);
  return componentCommands(cause.component, h.time, ctx);
}
