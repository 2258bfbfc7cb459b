import { parseAllDocuments } from 'yaml';
import {
  decodeRelease,
  diffValues,
  errorMessage,
  type BundleWriter,
  type Change,
  type DiffEntry,
  type HelmRelease,
} from '@hindsight/core';
import { z } from 'zod';
import { apiError, loadKube } from '../kube.js';
import { RetryTally } from '../retry.js';
import type { Source, SourceContext, SourceResult } from '../source.js';
import { COMPONENT_LABEL } from '../labels.js';
import { renderedDiff, renderedObjects } from './helm-rendered.js';
import { helmBinary, helmFiles, helmRunner, readHelmHistory } from './helm-history.js';
import { withKubeRetries } from './kubernetes-retry.js';

/** A workload as a release's rendered manifest declares it. */
interface Workload {
  key: string;
  component?: string;
  replicas?: number;
  images: Record<string, string>;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);

/** The workloads of a rendered manifest (multi-document YAML), by `Kind/name`. */
export function manifestWorkloads(manifest: string): Map<string, Workload> {
  const out = new Map<string, Workload>();
  for (const doc of parseAllDocuments(manifest)) {
    const o = doc.toJS() as {
      kind?: string;
      metadata?: { name?: string; labels?: Record<string, string> };
      spec?: {
        replicas?: number;
        template?: {
          spec?: {
            containers?: Array<{ name: string; image?: string }>;
            initContainers?: Array<{ name: string; image?: string }>;
          };
        };
      };
    } | null;
    if (!o || !o.kind || !WORKLOAD_KINDS.has(o.kind) || !o.metadata?.name) continue;
    const images: Record<string, string> = {};
    for (const c of [
      ...(o.spec?.template?.spec?.initContainers ?? []),
      ...(o.spec?.template?.spec?.containers ?? []),
    ]) {
      if (c.image) images[c.name] = c.image;
    }
    const component = o.metadata.labels?.[COMPONENT_LABEL];
    out.set(`${o.kind}/${o.metadata.name}`, {
      key: `${o.kind}/${o.metadata.name}`,
      ...(component ? { component } : {}),
      // A Deployment or StatefulSet without `replicas` runs one (the API's default).
      ...(o.kind === 'DaemonSet' ? {} : { replicas: o.spec?.replicas ?? 1 }),
      images,
    });
  }
  return out;
}

/** The top-level keys of a values diff: in a chart like ours they name the components. */
function componentsOf(diff: DiffEntry[]): string[] {
  return [...new Set(diff.map((d) => d.path.split('.')[0] as string))].sort();
}

function revisionTime(r: HelmRelease, fallback: string | undefined): string | undefined {
  const t = r.info.last_deployed ?? r.info.first_deployed ?? fallback;
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** The changes one revision made over the one before it: values, then images and replicas. */
export function revisionChanges(prev: HelmRelease | undefined, cur: HelmRelease, time: string): Change[] {
  const base = {
    time,
    namespace: cur.namespace,
    release: cur.name,
    toRevision: cur.version,
    ...(prev ? { fromRevision: prev.version } : {}),
  };
  const diff = diffValues(prev?.config ?? {}, cur.config ?? {});
  const chartFrom = prev ? `${prev.chart.metadata.name}-${prev.chart.metadata.version}` : undefined;
  const chartTo = `${cur.chart.metadata.name}-${cur.chart.metadata.version}`;
  if (chartFrom !== chartTo)
    diff.push({ path: 'chart', ...(chartFrom ? { from: chartFrom } : {}), to: chartTo });
  const out: Change[] = [
    {
      ...base,
      id: `helm:${cur.namespace}/${cur.name}:${cur.version}`,
      kind: 'helm',
      target: `release/${cur.name}`,
      ...(cur.info.description ? { message: cur.info.description } : {}),
      components: componentsOf(diff.filter((d) => d.path !== 'chart')),
      chart: { name: cur.chart.metadata.name, version: cur.chart.metadata.version },
      diff,
    },
  ];
  if (!prev) return out;
  const before = manifestWorkloads(prev.manifest);
  const after = manifestWorkloads(cur.manifest);
  for (const [key, w] of [...after.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const old = before.get(key);
    if (!old) continue;
    const components = w.component ? { components: [w.component] } : {};
    if (old.replicas !== w.replicas) {
      out.push({
        ...base,
        id: `scale:${cur.namespace}/${cur.name}:${cur.version}:${key}`,
        kind: 'scale',
        target: key,
        ...components,
        diff: [
          {
            path: 'spec.replicas',
            ...(old.replicas !== undefined ? { from: old.replicas } : {}),
            ...(w.replicas !== undefined ? { to: w.replicas } : {}),
          },
        ],
      });
    }
    const imageDiff: DiffEntry[] = [];
    for (const c of [...new Set([...Object.keys(old.images), ...Object.keys(w.images)])].sort()) {
      if (old.images[c] === w.images[c]) continue;
      imageDiff.push({
        path: `containers.${c}.image`,
        ...(old.images[c] !== undefined ? { from: old.images[c] } : {}),
        ...(w.images[c] !== undefined ? { to: w.images[c] } : {}),
      });
    }
    if (imageDiff.length > 0) {
      out.push({
        ...base,
        id: `image:${cur.namespace}/${cur.name}:${cur.version}:${key}`,
        kind: 'image',
        target: key,
        ...components,
        diff: imageDiff,
      });
    }
  }
  // What the revision changed in the objects it rendered (a container's limits, probes, env and
  // args; a ConfigMap's directives; which Secret keys changed): the same revision, one change per object.
  const was = renderedObjects(prev.manifest, COMPONENT_LABEL);
  for (const [key, o] of [...renderedObjects(cur.manifest, COMPONENT_LABEL).entries()].sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    const old = was.get(key);
    const diff = old ? renderedDiff(old, o) : [];
    if (diff.length === 0) continue;
    out.push({
      ...base,
      id: `rendered:${cur.namespace}/${cur.name}:${cur.version}:${key}`,
      kind: o.kind === 'ConfigMap' || o.kind === 'Secret' ? 'configmap' : 'deployment',
      target: key,
      ...(o.component ? { components: [o.component] } : {}),
      diff,
    });
  }
  return out;
}

/**
 * --no-helm-secrets (`helmSecrets` false) reads the history through the helm binary, with the user's
 * rights, instead of listing Secrets; --helm-bin names the binary (else helm on PATH).
 */
const helmSettingsSchema = z.object({
  helmSecrets: z.boolean().optional(),
  helmBin: z.string().min(1).optional(),
  helmHistory: z.string().min(1).optional(),
});
export type HelmSettings = z.infer<typeof helmSettingsSchema>;

type Revisions = Map<string, Array<{ release: HelmRelease; created?: string }>>;

/**
 * The releases' revisions from Helm's release Secrets (owner=helm); a broken record is skipped,
 * named. The list is tried again after a connection error, 429 or 5xx ({@link withKubeRetries}).
 */
async function fromSecrets(
  kube: Awaited<ReturnType<typeof loadKube>>,
  ctx: SourceContext<HelmSettings>,
  broken: string[],
): Promise<Revisions> {
  const ns = kube.namespace;
  let secrets;
  try {
    secrets = (await kube.core.listNamespacedSecret({ namespace: ns, labelSelector: 'owner=helm' })).items;
  } catch (err) {
    throw new Error(
      `cannot list Helm release Secrets in ${ns} at ${kube.server}: ${apiError(err)} (--no-helm-secrets reads them through helm instead)`,
    );
  }
  const byRelease: Revisions = new Map();
  for (const s of secrets) {
    const name = s.metadata?.name ?? '?';
    const where = `secret/${ns}/${name}`;
    try {
      const data = s.data?.['release'];
      if (!data) throw new Error('the Secret has no `release` field');
      const release = decodeRelease(data, where);
      const list = byRelease.get(release.name) ?? [];
      const created = s.metadata?.creationTimestamp;
      list.push({ release, ...(created ? { created: new Date(created).toISOString() } : {}) });
      byRelease.set(release.name, list);
    } catch (err) {
      broken.push(name);
      ctx.warn({
        code: 'HINDSIGHT_RELEASE_RECORD',
        message: `skipped a broken Helm release record: ${errorMessage(err)}`,
        where,
      });
    }
  }
  return byRelease;
}

/** The releases' revisions as `helm history` and `helm get` print them: those of the window and the one before. */
async function fromHelm(namespace: string, ctx: SourceContext<HelmSettings>): Promise<Revisions> {
  const o = ctx.options;
  const run = o.helmHistory
    ? helmFiles(o.helmHistory)
    : helmRunner(helmBinary(o.helmBin), {
        ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
        ...(o.context ? { context: o.context } : {}),
        namespace,
      });
  const inWindow = (t: string | undefined): boolean =>
    t !== undefined && Date.parse(t) >= ctx.window.from && Date.parse(t) <= ctx.window.to;
  const byRelease: Revisions = new Map();
  for (const release of await readHelmHistory(run, namespace, inWindow, (name, rev) =>
    ctx.progress(0, `helm get ${name} --revision ${rev}`),
  )) {
    byRelease.set(release.name, [...(byRelease.get(release.name) ?? []), { release }]);
  }
  return byRelease;
}

/**
 * Reads every revision of every Helm release in the namespace from Helm's release Secrets
 * (owner=helm), or with --no-helm-secrets through `helm history` and `helm get` (no Secret listed by
 * hindsight), and writes, for each revision in the window, its values diff against the revision
 * before it and the image and replica changes of its manifest. A broken record is a warning
 * naming the Secret; the others are still read.
 */
export const helmSource: Source<HelmSettings> = {
  name: 'helm',
  flags: [
    {
      flags: '--no-helm-secrets',
      description:
        'read Helm release history through the helm binary (helm history, helm get values/manifest) instead of listing Secrets (see docs/rbac.md)',
    },
    {
      flags: '--helm-bin <path>',
      description:
        'the helm binary to read the history with (implies --no-helm-secrets; default: helm on PATH)',
    },
    {
      flags: '--helm-history <dir>',
      description:
        "helm's output saved where helm runs, instead of running it: RELEASE.history.json (helm history -o json), RELEASE.values.N.json (helm get values --revision N -o json), RELEASE.manifest.N.yaml (helm get manifest --revision N)",
    },
  ],
  schema: helmSettingsSchema,
  needs: [['kubeconfig', 'helmHistory']],
  async collect(writer: BundleWriter, sourceCtx: SourceContext<HelmSettings>): Promise<SourceResult> {
    const [retries, ctx] = RetryTally.of(sourceCtx);
    const o = ctx.options;
    const broken: string[] = [];
    let byRelease: Revisions;
    if (o.helmHistory) {
      // Helm's output saved where helm ran: the namespace is -n's, else the kubeconfig context's.
      const kube = o.kubeconfig ? await loadKube(o).catch(() => undefined) : undefined;
      const ns = o.namespace ?? kube?.namespace ?? 'default';
      ctx.progress(0, `helm releases of ${ns} in ${o.helmHistory}`);
      byRelease = await fromHelm(ns, ctx);
    } else {
      const kube = withKubeRetries(await loadKube(o), retries.options());
      ctx.progress(0, `helm releases in ${kube.namespace}`);
      // --helm-bin alone means helm too: a binary given is one to run.
      byRelease =
        o.helmSecrets === false || o.helmBin
          ? await fromHelm(kube.namespace, ctx)
          : await fromSecrets(kube, ctx, broken);
      retries.note(writer, 'helm', kube.server);
    }
    let items = 0;
    for (const name of [...byRelease.keys()].sort()) {
      const revs = (byRelease.get(name) ?? []).sort((a, b) => a.release.version - b.release.version);
      let prev: HelmRelease | undefined;
      for (const { release, created } of revs) {
        const time = revisionTime(release, created);
        // Every revision is decoded (the one before the window is the baseline of the first diff),
        // but only those inside the window are changes of this incident.
        if (time && Date.parse(time) >= ctx.window.from && Date.parse(time) <= ctx.window.to) {
          for (const c of revisionChanges(prev, release, time)) {
            await writer.addChange(c);
            items += 1;
          }
        }
        prev = release;
        ctx.progress(items, `${name} revision ${release.version}`);
      }
    }
    return broken.length > 0
      ? { status: 'partial', items, detail: `broken release records: ${broken.join(', ')}` }
      : { status: 'ok', items };
  },
};
