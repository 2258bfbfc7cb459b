import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { HindsightError, type HelmRelease } from '@hindsight/core';
import { z } from 'zod';

/**
 * Helm's release history read through the helm binary (`helm list`, `helm history`, `helm get values`
 * and `helm get manifest`) instead of listing Helm's release Secrets: helm reads them with the user's
 * own rights, so hindsight itself needs no rule on `secrets` (`--no-helm-secrets`).
 */

/** Runs helm with these arguments and gives its standard output. */
export type HelmRunner = (args: readonly string[]) => Promise<string>;

/** One line of `helm history RELEASE -o json` (helm 3 and 4 print the same fields). */
export interface HistoryEntry {
  revision: number;
  updated?: string;
  status: string;
  chart: string;
  app_version?: string;
  description?: string;
}

const historySchema = z.array(
  z.object({
    revision: z.number().int().positive(),
    updated: z.string().optional(),
    status: z.string(),
    chart: z.string(),
    app_version: z.string().optional(),
    description: z.string().optional(),
  }),
);

const listSchema = z.array(z.object({ name: z.string(), namespace: z.string().optional() })).nullable();

/** The entries of `helm history -o json`, oldest revision first; a wrong shape names the command. */
export function parseHelmHistory(json: string, what: string): HistoryEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${what} did not print JSON: ${json.slice(0, 120)}`);
  }
  const r = historySchema.safeParse(parsed);
  if (!r.success) throw new Error(`${what} printed an unexpected shape: ${r.error.issues[0]?.message ?? ''}`);
  return [...r.data].sort((a, b) => a.revision - b.revision);
}

/** The release names of `helm list -o json`, sorted. */
export function parseHelmList(json: string): string[] {
  const r = listSchema.safeParse(JSON.parse(json === '' ? 'null' : json));
  if (!r.success)
    throw new Error(`helm list printed an unexpected shape: ${r.error.issues[0]?.message ?? ''}`);
  return [...new Set((r.data ?? []).map((x) => x.name))].sort();
}

/**
 * A history's `chart` column (`NAME-VERSION`) as name and version: the version is what follows the
 * last hyphen before a digit, as chart names may hold hyphens (`ingress-nginx-4.11.3`).
 */
export function chartOf(chart: string): { name: string; version: string } {
  const m = /^(.*?)-(v?\d[^-]*(?:-[^-]+)*)$/.exec(chart);
  return m ? { name: m[1] as string, version: m[2] as string } : { name: chart, version: '' };
}

/** A date as helm prints it (RFC 3339, or Go's `2006-01-02 15:04:05.999 -0700 MST`) in ISO form. */
function isoTime(t: string | undefined): string | undefined {
  if (!t) return undefined;
  let ms = Date.parse(t);
  if (Number.isNaN(ms)) {
    const go = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) ([+-]\d\d)(\d\d)/.exec(t);
    if (go) ms = Date.parse(`${go[1]}T${go[2]}${go[3]}:${go[4]}`);
  }
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** The helm binary: the one given, else `helm` on PATH. */
export function helmBinary(given: string | undefined): string {
  if (given) return given;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'helm'))) return path.join(dir, 'helm');
  }
  throw new HindsightError(
    'HINDSIGHT_USAGE',
    '--no-helm-secrets reads the history through helm, which is not on PATH: give --helm-bin',
  );
}

/** Runs `bin` with the cluster's kubeconfig, context and namespace; a failure carries helm's stderr. */
export function helmRunner(
  bin: string,
  cluster: { kubeconfig?: string; context?: string; namespace: string },
): HelmRunner {
  const env = { ...process.env, ...(cluster.kubeconfig ? { KUBECONFIG: cluster.kubeconfig } : {}) };
  const common = [
    '--namespace',
    cluster.namespace,
    ...(cluster.context ? ['--kube-context', cluster.context] : []),
  ];
  return (args) =>
    new Promise((resolve, reject) => {
      execFile(bin, [...args, ...common], { env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${bin} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
        else resolve(String(stdout));
      });
    });
}

/**
 * Helm's output saved in a folder (--helm-history), answered as helm would: `RELEASE.history.json`
 * per release, and for each revision read `RELEASE.values.N.json` and `RELEASE.manifest.N.yaml`.
 * A revision's missing file names the file and the helm command that writes it.
 */
export function helmFiles(dir: string): HelmRunner {
  const read = (file: string, command: string): Promise<string> =>
    readFile(path.join(dir, file), 'utf8').catch(() => {
      throw new HindsightError(
        'HINDSIGHT_INPUT_MISSING',
        `no ${file} in --helm-history: save it with \`${command} > ${file}\``,
        dir,
      );
    });
  return async (args) => {
    const [verb, what, name] = args;
    const rev = args[args.indexOf('--revision') + 1];
    if (verb === 'list') {
      const files = (await readdir(dir)).filter((f) => f.endsWith('.history.json'));
      return JSON.stringify(files.map((f) => ({ name: f.slice(0, -'.history.json'.length) })));
    }
    if (verb === 'history') return read(`${what}.history.json`, `helm history ${what} -o json`);
    if (verb === 'get' && what === 'values')
      return read(`${name}.values.${rev}.json`, `helm get values ${name} --revision ${rev} -o json`);
    if (verb === 'get' && what === 'manifest')
      return read(`${name}.manifest.${rev}.yaml`, `helm get manifest ${name} --revision ${rev}`);
    throw new Error(`--helm-history does not answer helm ${args.join(' ')}`);
  };
}

/**
 * Every release of the namespace with the revisions `wanted` keeps from its history (and the one
 * before the first kept, the baseline of its diff), each read by `helm get values` and `helm get
 * manifest`. `wanted` sees a revision's time.
 */
export async function readHelmHistory(
  run: HelmRunner,
  namespace: string,
  wanted: (time: string | undefined) => boolean,
  onRevision?: (release: string, revision: number) => void,
): Promise<HelmRelease[]> {
  const names = parseHelmList(
    await run([
      'list',
      ...['--deployed', '--failed', '--pending', '--superseded', '--uninstalled', '--uninstalling'],
      '--output',
      'json',
    ]),
  );
  const out: HelmRelease[] = [];
  for (const name of names) {
    const history = parseHelmHistory(
      await run(['history', name, '--max', '1000', '--output', 'json']),
      `helm history ${name}`,
    );
    const keep = new Set<number>();
    history.forEach((h, i) => {
      if (!wanted(isoTime(h.updated))) return;
      keep.add(h.revision);
      const before = history[i - 1];
      if (before) keep.add(before.revision);
    });
    for (const h of history) {
      if (!keep.has(h.revision)) continue;
      const rev = ['--revision', String(h.revision)];
      const values = JSON.parse(
        (await run(['get', 'values', name, ...rev, '--output', 'json'])) || 'null',
      ) as Record<string, unknown> | null;
      const manifest = await run(['get', 'manifest', name, ...rev]);
      const updated = isoTime(h.updated);
      out.push({
        name,
        namespace,
        version: h.revision,
        info: {
          status: h.status,
          ...(updated ? { last_deployed: updated } : {}),
          ...(h.description ? { description: h.description } : {}),
        },
        chart: { metadata: { ...chartOf(h.chart), ...(h.app_version ? { appVersion: h.app_version } : {}) } },
        config: values ?? {},
        manifest,
      });
      onRevision?.(name, h.revision);
    }
  }
  return out;
}
