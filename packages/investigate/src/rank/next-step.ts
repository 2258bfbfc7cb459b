import type { Change, Pod } from '@hindsight/core';
import { changeId } from '@hindsight/core';
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

/** `name version` of the chart a helm change deployed, as its release record's metadata names it. */
function chartOf(change: Change | undefined): string | undefined {
  const chart = change?.chart;
  return chart ? `${chart.name}${chart.version ? ` ${chart.version}` : ''}` : undefined;
}

/**
 * What to do about a cause, in one short sentence of words: the commands are {@link nextCommands},
 * each alone on its line, so this never holds a command to copy out of a sentence.
 */
export function nextStepFor(cause: Cause, finding: Finding, changes: Finding[]): string {
  if (cause.type === 'anomaly')
    return `look at ${cause.component ?? 'the component'} first: ${finding.title}`;
  if (cause.type === 'component') return `look at ${cause.component} first: its pod's state and logs`;
  const restore = cause.diff
    .filter((d) => d.from !== undefined)
    .slice(0, 3)
    .map((d) => `${d.path}=${show(d.from)}`);
  const restoreText = restore.length > 0 ? `restore ${restore.join(', ')}` : 'undo it';
  switch (cause.kind) {
    case 'helm': {
      const release = releaseOf(cause);
      const prev = previousRevision(cause);
      const chart = chartOf(finding.change);
      // Helm keeps the chart's name and version in the release, never where it is deployed from
      // (a repo alias, a folder, an OCI URL), so `helm upgrade` is described, not printed.
      const upgrade = chart
        ? `helm upgrade of chart ${chart} from where you deploy it (the release does not say where) with --reuse-values`
        : 'helm upgrade with your chart (the bundle does not name it) and --reuse-values';
      if (prev === undefined) return `${restoreText} in release ${release}: ${upgrade}`;
      // A rollback also undoes later revisions: name them, and give the targeted alternative.
      const later = changes
        .map((c) => c.change)
        .filter((c) => c?.release === release && (c.toRevision ?? 0) > (cause.revision ?? 0))
        .map((c) => c?.toRevision)
        .filter((r, i, all) => all.indexOf(r) === i);
      const undoes =
        later.length > 0
          ? `; it also undoes revision${later.length === 1 ? '' : 's'} ${later.join(', ')}`
          : '';
      const only =
        restore.length > 0
          ? `; to change only ${restore.length === 1 ? 'that value' : 'those values'}: ${upgrade}`
          : '';
      return `roll ${release} back to revision ${prev} (${restoreText}${undoes})${only}`;
    }
    case 'deployment':
    case 'image':
      return `roll ${workloadRef(cause.target)} back (${restoreText})`;
    case 'scale':
      return `scale ${workloadRef(cause.target)} back (${restoreText})`;
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
  /** The kubeconfig context the bundle was collected with, when one was named. */
  kubeContext?: string;
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

/** A command with its namespace and, when the bundle was collected with one, its context. */
function withNs(
  words: Array<string | number>,
  ns: string | undefined,
  ctx: CommandContext,
  flags: string[] = [],
): string {
  // helm names kubectl's --context --kube-context.
  const context = ctx.kubeContext
    ? [words[0] === 'helm' ? '--kube-context' : '--context', ctx.kubeContext]
    : [];
  return cmd(...words, ...(ns ? ['-n', ns] : []), ...flags, ...context);
}

function changeCommands(cause: Extract<Cause, { type: 'change' }>, ctx: CommandContext): string[] {
  const ns = nsOf(cause, ctx);
  switch (cause.kind) {
    case 'helm': {
      const release = releaseOf(cause);
      const prev = previousRevision(cause);
      if (prev === undefined) return [withNs(['helm', 'history', release], ns, ctx)];
      // The targeted path starts from the values of the revision before: `helm upgrade` needs the
      // chart, which the release record names but does not locate.
      return [
        withNs(['helm', 'rollback', release, prev], ns, ctx),
        `${withNs(['helm', 'get', 'values', release, '--revision', prev], ns, ctx)} -o yaml > ${shellQuote(`values-rev${prev}.yaml`)}`,
      ];
    }
    case 'deployment':
    case 'image':
      return [withNs(['kubectl', 'rollout', 'undo', workloadRef(cause.target)], ns, ctx)];
    case 'scale': {
      const from = cause.diff.find((d) => /replicas/i.test(d.path))?.from;
      return from === undefined
        ? []
        : [withNs(['kubectl', 'scale', workloadRef(cause.target), `--replicas=${show(from)}`], ns, ctx)];
    }
    case 'configmap':
      return [withNs(['kubectl', 'edit', 'configmap', cause.target.replace(/^configmap\//i, '')], ns, ctx)];
    case 'git':
      return [];
  }
}

/**
 * Commands that show a component's state: its node, or its first pod's description and logs; where
 * the bundle holds no pod of it (a dataset, a pod gone), the namespace's pods and recent events.
 */
function componentCommands(component: string | undefined, since: number, ctx: CommandContext): string[] {
  if (!component) return [];
  if (component.startsWith('node/'))
    return [withNs(['kubectl', 'describe', 'node', component.slice(5)], undefined, ctx)];
  const pod = ctx.pods
    .filter((p) => p.component === component || p.workload === component || p.name === component)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];
  if (!pod) {
    return [
      withNs(['kubectl', 'get', 'pods', '-o', 'wide'], ctx.namespace, ctx),
      withNs(['kubectl', 'get', 'events', '--sort-by=.lastTimestamp'], ctx.namespace, ctx),
    ];
  }
  const sinceTime = `--since-time=${new Date(since).toISOString()}`;
  return [
    withNs(['kubectl', 'describe', 'pod', pod.name], pod.namespace, ctx),
    withNs(['kubectl', 'logs', pod.name], pod.namespace, ctx, [
      '--all-containers',
      '--timestamps',
      sinceTime,
    ]),
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
