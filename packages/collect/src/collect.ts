import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  BundleWriter,
  bundleLayout,
  manifestSchema,
  HindsightError,
  errorMessage,
  Redactor,
  type Manifest,
  type Warning,
} from '@hindsight/core';
import { loadKube } from './kube.js';
import { mapLimit } from './limit.js';
import {
  optionKey,
  type ProgressEvent,
  type Source,
  type SourceContext,
  type SourceResult,
} from './source.js';
import { sources as registry, type CollectOptions } from './sources/index.js';

/** What a collection produced. */
export interface CollectResult {
  bundlePath: string;
  manifest: Manifest;
  /** Problems that did not stop the collection, redacted. */
  warnings: Warning[];
  /** True when the run was aborted before every source finished. */
  interrupted: boolean;
}

function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  return !Array.isArray(value) || value.length > 0;
}

/** The sources of `list` whose needs `options` meet. */
export function selectSources(options: CollectOptions, list: readonly Source[]): Source[] {
  const given = options as unknown as Readonly<Record<string, unknown>>;
  return list.filter((s) =>
    s.needs.every((n) => (typeof n === 'string' ? isSet(given[n]) : n.some((m) => isSet(given[m])))),
  );
}

/**
 * Each source's settings, parsed by its schema from the options. Every source of `list` is checked,
 * chosen or not, so a flag given without the one it needs is refused before anything is read.
 */
function settingsOf(options: CollectOptions, list: readonly Source[]): Map<Source, object> {
  const settings = new Map<Source, object>();
  for (const source of list) {
    const parsed = source.schema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const key = issue?.path.map(String).join('.');
      const flag = source.flags.find((f) => optionKey(f.flags) === key);
      const message = issue?.message ?? 'invalid settings';
      throw new HindsightError(
        'HINDSIGHT_USAGE',
        issue?.code === 'custom' || !key ? message : `${flag ? flagName(flag.flags) : key}: ${message}`,
      );
    }
    settings.set(source, parsed.data);
  }
  return settings;
}

function flagName(flags: string): string {
  return /--[a-z0-9-]+/i.exec(flags)?.[0] ?? flags;
}

/** `--kubeconfig, --git, ... or --loki`: the flags that make a source of `list` run. */
function startingFlags(list: readonly Source[]): string {
  const flags = list.flatMap((s) => s.flags);
  const names: string[] = [];
  for (const s of list) {
    const first = s.needs[0];
    for (const key of first === undefined ? [] : typeof first === 'string' ? [first] : first) {
      const flag = flags.find((f) => optionKey(f.flags) === key);
      const name = flag ? flagName(flag.flags) : `--${key}`;
      if (!names.includes(name)) names.push(name);
    }
  }
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '');
}

/**
 * Collects every source whose options are given into one bundle. Sources run with bounded
 * concurrency; one that fails is recorded in the manifest as failed, with why, and the others go
 * on. An aborted run finishes the bundle with what it had, so it still validates.
 */
export async function collect(options: CollectOptions): Promise<CollectResult> {
  const signal = options.signal ?? new AbortController().signal;
  const list = options.sources ?? registry;
  const settings = settingsOf(options, list);
  const chosen = selectSources(options, list);
  if (chosen.length === 0)
    throw new HindsightError('HINDSIGHT_USAGE', `nothing to collect: give ${startingFlags(list)}`);
  // The namespace the kubeconfig's context names, when none is given, so the manifest says it.
  let namespace = options.namespace;
  if (!namespace && options.kubeconfig) {
    try {
      namespace = (await loadKube(options)).namespace;
    } catch {
      // A bad kubeconfig fails the sources that need it, with why; the manifest just lacks the namespace.
    }
  }
  if (namespace) options = { ...options, namespace };
  const writer = await BundleWriter.create(options.output, {
    window: options.window,
    ...(namespace ? { namespace } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    ...(options.context ? { context: options.context } : {}),
    ...(options.toolVersion ? { toolVersion: options.toolVersion } : {}),
    ...(options.overwrite ? { overwrite: true } : {}),
    ...(options.redactPatterns ? { redactPatterns: options.redactPatterns } : {}),
  });
  const warnings: Warning[] = [];
  // What reaches the terminal (progress, warnings) passes the user's patterns too, as the bundle does.
  const redactor = new Redactor({ patterns: options.redactPatterns ?? [] });
  const redactText = (text: string): string => redactor.text(text);
  const emit = (e: ProgressEvent): void => {
    options.onProgress?.({ ...e, ...(e.detail ? { detail: redactText(e.detail) } : {}) });
  };
  const window = { from: options.window.from.getTime(), to: options.window.to.getTime() };

  // Listed up front, in registry order: the manifest's order is stable, and a run killed outright
  // (SIGKILL, no chance to finish) still leaves a manifest saying which sources never finished.
  for (const s of chosen)
    writer.recordSource({ name: s.name, status: 'partial', error: 'collection did not finish' });
  await writer.checkpoint();
  const ran = new Set<string>();
  const runOne = async (source: Source): Promise<void> => {
    ran.add(source.name);
    let items = 0;
    const ctx: SourceContext = {
      options: { ...options, ...settings.get(source) },
      window,
      signal,
      progress(n, detail) {
        items = n;
        emit({ source: source.name, state: 'progress', items: n, ...(detail ? { detail } : {}) });
      },
      warn(w) {
        warnings.push({
          stage: 'collect',
          name: w.name ?? source.name,
          code: w.code,
          message: redactText(w.message),
          ...(w.where ? { where: redactText(w.where) } : {}),
        });
      },
    };
    emit({ source: source.name, state: 'start', items: 0 });
    let result: SourceResult;
    try {
      result = await source.collect(writer, ctx);
    } catch (err) {
      const why = redactText(errorMessage(err));
      writer.recordSource({ name: source.name, status: 'failed', error: why, items });
      warnings.push({ stage: 'collect', name: source.name, code: 'HINDSIGHT_SOURCE_FAILED', message: why });
      emit({ source: source.name, state: 'failed', items, detail: why });
      await writer.checkpoint();
      return;
    }
    const status = signal.aborted ? 'partial' : result.status;
    const detail = result.detail ?? (signal.aborted ? 'interrupted' : undefined);
    writer.recordSource({
      name: source.name,
      status,
      items: result.items,
      ...(status === 'partial' && detail ? { error: detail } : {}),
    });
    emit({ source: source.name, state: status, items: result.items, ...(detail ? { detail } : {}) });
    await writer.checkpoint();
  };

  // Sources that cannot start before the abort are still listed, so the manifest says what is missing.
  await mapLimit(chosen, options.concurrency ?? 4, runOne, signal);
  for (const s of chosen) {
    if (!ran.has(s.name)) {
      writer.recordSource({ name: s.name, status: 'failed', error: 'interrupted before it started' });
      emit({ source: s.name, state: 'skipped', items: 0, detail: 'interrupted' });
    }
  }
  if (signal.aborted)
    writer.addNote('collection interrupted: the bundle holds what was collected until then');
  await writer.finish();
  // Read back what was written: BundleWriter.finish() returns the manifest without its notes.
  const manifest = manifestSchema.parse(
    JSON.parse(await readFile(path.join(writer.root, bundleLayout.manifest), 'utf8')),
  );
  return { bundlePath: writer.root, manifest, warnings, interrupted: signal.aborted };
}
