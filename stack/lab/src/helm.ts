import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { HindsightError } from '@hindsight/core';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from './paths.js';
import type { Values } from './values.js';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** helm from PATH when present, else the one scripts/install-helm.sh puts in .tools/bin. */
export function findHelm(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'helm'))) return join(dir, 'helm');
  }
  return join(repoRoot, '.tools/bin/helm');
}

/** kubectl from PATH when present, else .tools/bin/kubectl. */
export function findKubectl(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'kubectl'))) return join(dir, 'kubectl');
  }
  return join(repoRoot, '.tools/bin/kubectl');
}

/** The chart as Helm keeps it in a release: metadata, default values, templates and files. */
export interface LoadedChart {
  dir: string;
  metadata: Record<string, unknown> & { name: string; version: string };
  values: Values;
  schema?: string;
  templates: { name: string; data: string }[];
  files: { name: string; data: string }[];
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out.sort();
}

/** Reads a chart folder into the shape Helm stores in a release (templates base64, as Go's []byte). */
export async function loadChart(dir: string): Promise<LoadedChart> {
  const metadata = parseYaml(await readFile(join(dir, 'Chart.yaml'), 'utf8')) as LoadedChart['metadata'];
  const values = (parseYaml(await readFile(join(dir, 'values.yaml'), 'utf8')) ?? {}) as Values;
  let schema: string | undefined;
  try {
    schema = (await readFile(join(dir, 'values.schema.json'))).toString('base64');
  } catch {
    schema = undefined;
  }
  const templates: LoadedChart['templates'] = [];
  for (const f of await walk(join(dir, 'templates'))) {
    templates.push({ name: relative(dir, f), data: (await readFile(f)).toString('base64') });
  }
  return { dir, metadata, values, ...(schema ? { schema } : {}), templates, files: [] };
}

/** What `helm template` produced. */
export interface Rendered {
  manifest: string;
  notes: string;
}

/**
 * Renders the chart with the real helm (`helm template NAME CHART -f values.json`). The values go
 * through a file rather than `--set` so that strings stay strings exactly as the user typed them,
 * and the file is JSON: every string quoted, so none is re-typed on the way in (Helm reads values
 * as YAML 1.1, where a bare `y`, `on` or `no` is a boolean).
 */
export async function renderChart(options: {
  chartDir: string;
  release: string;
  namespace: string;
  values: Values;
  helm?: string;
}): Promise<Rendered> {
  const tmp = await mkdtemp(join(tmpdir(), 'hindsight-lab-render-'));
  try {
    // JSON is YAML too; a YAML writer leaves `y` bare, as YAML 1.2 allows and YAML 1.1 misreads.
    const file = join(tmp, 'values.json');
    await writeFile(file, JSON.stringify(options.values));
    const helm = options.helm ?? findHelm();
    const args = [
      'template',
      options.release,
      options.chartDir,
      '--namespace',
      options.namespace,
      '-f',
      file,
    ];
    const manifest = await new Promise<string>((resolve, reject) => {
      execFile(helm, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          reject(
            new HindsightError(
              'HINDSIGHT_LAB',
              `helm template failed: ${stderr.trim() || err.message}`,
              `${helm} ${args.slice(0, 3).join(' ')}`,
            ),
          );
        } else resolve(stdout);
      });
    });
    // `helm template` prints NOTES only with --show-notes... keep the manifest exactly as rendered.
    return { manifest, notes: '' };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
