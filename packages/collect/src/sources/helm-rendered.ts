import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import type { DiffEntry } from '@hindsight/core';

/**
 * What a rendered object sets, flattened to one value per setting: a workload's containers
 * (resources, probes, env, args, ports) and pod settings; a ConfigMap's keys, a configuration file
 * among them read as one setting per directive (`proxy_read_timeout 1s;`, `maxmemory 10mb`,
 * `max_connections = 10`); a Secret's keys, each as a digest that is compared and never written. Why: a values file names settings as its chart pleases; what the cluster runs
 * names them as the software does, the same in any chart.
 */
export interface RenderedObject {
  key: string;
  kind: string;
  component?: string;
  settings: Map<string, unknown>;
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const EMPTY = '(empty)';
const digest = (v: string): string => `sha256:${createHash('sha256').update(v).digest('hex')}`;

interface Container {
  name: string;
  args?: unknown[];
  command?: unknown[];
  env?: Array<{ name: string; value?: unknown; valueFrom?: Record<string, { name?: string; key?: string }> }>;
  resources?: unknown;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
  lifecycle?: unknown;
}

interface K8sObject {
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  data?: Record<string, unknown>;
  stringData?: Record<string, unknown>;
  spec?: {
    template?: {
      metadata?: { annotations?: Record<string, unknown> };
      spec?: Record<string, unknown> & { containers?: Container[]; initContainers?: Container[] };
    };
  };
}

/** Scalars of a tree under `prefix`, by dotted path. */
function flatten(prefix: string, v: unknown, out: Map<string, unknown>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(`${prefix}.${k}`, x, out);
  } else if (Array.isArray(v)) {
    out.set(prefix, JSON.stringify(v));
  } else if (v !== undefined) {
    out.set(prefix, v);
  }
}

/**
 * A command line as settings: `--flag value`, `--flag=value`, and `-c name=value` (PostgreSQL's
 * and others' way to set a configuration parameter) each become `flag` or `name`; a lone flag is true.
 */
function argSettings(prefix: string, args: unknown[], out: Map<string, unknown>): void {
  const list = args.map(String);
  for (let i = 0; i < list.length; i += 1) {
    const a = list[i] as string;
    const next = list[i + 1];
    const eq = /^-{0,2}([A-Za-z][\w.-]*)=(.*)$/.exec(a);
    if (eq) out.set(`${prefix}.${eq[1]}`, eq[2]);
    else if (/^-/.test(a) && next !== undefined && !next.startsWith('-')) {
      const kv = /^([A-Za-z][\w.-]*)=(.*)$/.exec(next);
      if (a.length === 2 && kv) out.set(`${prefix}.${kv[1]}`, kv[2]);
      else out.set(`${prefix}.${a.replace(/^-+/, '')}`, next);
      i += 1;
    } else if (/^-/.test(a)) out.set(`${prefix}.${a.replace(/^-+/, '')}`, true);
  }
}

function containerSettings(c: Container, out: Map<string, unknown>): void {
  const p = `containers.${c.name}`;
  for (const e of c.env ?? []) {
    const ref = e.valueFrom ? Object.entries(e.valueFrom)[0] : undefined;
    out.set(`${p}.env.${e.name}`, ref ? `${ref[0]} ${ref[1].name ?? ''}/${ref[1].key ?? ''}` : e.value);
  }
  if (c.args) argSettings(`${p}.args`, c.args, out);
  for (const k of ['resources', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'] as const)
    flatten(`${p}.${k}`, c[k], out);
}

/** One configuration file as directives: the first word of each line, the rest its value. */
function fileSettings(prefix: string, text: string, out: Map<string, unknown>): void {
  const seen = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    const m = /^([A-Za-z_][\w.-]*)\s*(?:=\s*|\s+)(.*?);?\s*\{?$/.exec(line);
    if (!m) continue;
    const list = seen.get(m[1] as string) ?? [];
    list.push((m[2] as string).replace(/^(["'])(.*)\1$/, '$2'));
    seen.set(m[1] as string, list);
  }
  for (const [k, vs] of seen) out.set(`${prefix}.${k}`, vs.length === 1 ? vs[0] : vs.join(' | '));
}

/** The objects of a rendered manifest whose settings are compared: workloads, ConfigMaps, Secrets. */
export function renderedObjects(manifest: string, componentLabel: string): Map<string, RenderedObject> {
  const out = new Map<string, RenderedObject>();
  for (const doc of parseAllDocuments(manifest)) {
    const o = doc.toJS() as K8sObject | null;
    if (!o?.kind || !o.metadata?.name) continue;
    const settings = new Map<string, unknown>();
    if (WORKLOADS.has(o.kind)) {
      const pod = o.spec?.template?.spec ?? {};
      for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])])
        containerSettings(c, settings);
      for (const [k, v] of Object.entries(pod))
        if (v === null || typeof v !== 'object') settings.set(`pod.${k}`, v);
      flatten('pod.annotations', o.spec?.template?.metadata?.annotations, settings);
    } else if (o.kind === 'ConfigMap') {
      for (const [k, v] of Object.entries(o.data ?? {})) {
        if (typeof v === 'string' && v.includes('\n')) fileSettings(`data.${k}`, v, settings);
        else settings.set(`data.${k}`, v);
      }
    } else if (o.kind === 'Secret') {
      for (const [k, v] of Object.entries({ ...o.data, ...o.stringData }))
        settings.set(`data.${k}`, v === '' || v == null ? EMPTY : digest(String(v)));
    } else continue;
    const key = `${o.kind}/${o.metadata.name}`;
    const component = o.metadata.labels?.[componentLabel];
    out.set(key, { key, kind: o.kind, ...(component ? { component } : {}), settings });
  }
  return out;
}

/**
 * The settings that differ between two renderings of one object. A Secret's values are compared by
 * digest and written as `(empty)`, `(old value)` and `(new value)`: a change of credential is seen,
 * its value never leaves the cluster.
 */
export function renderedDiff(before: RenderedObject, after: RenderedObject): DiffEntry[] {
  const out: DiffEntry[] = [];
  const paths = [...new Set([...before.settings.keys(), ...after.settings.keys()])].sort();
  const shown = (v: unknown, as: string): unknown =>
    after.kind === 'Secret' && v !== EMPTY && v !== undefined ? as : v;
  for (const p of paths) {
    const a = before.settings.get(p);
    const b = after.settings.get(p);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    out.push({
      path: p,
      ...(a !== undefined ? { from: shown(a, '(old value)') } : {}),
      ...(b !== undefined ? { to: shown(b, '(new value)') } : {}),
    });
  }
  return out;
}
