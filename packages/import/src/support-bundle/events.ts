import path from 'node:path';
import { eventSchema, type BundleEvent } from '@hindsight/core';
import { listFiles, readJsonFile, type Warn } from './files.js';
import { items, str, time, type K8sEvent } from './k8s.js';
import { checked, guarded } from './records.js';

/** The event files of a support bundle: the per-namespace lists and those of run collectors. */
export async function eventFiles(root: string): Promise<string[]> {
  const cr = path.join(root, 'cluster-resources');
  return [
    ...(await listFiles(path.join(cr, 'events'))),
    ...(await listFiles(root)).filter((f) => /-events\.json$/.test(f) && !f.startsWith(cr)),
  ];
}

function timeOf(e: K8sEvent): number | undefined {
  for (const t of [
    e.lastTimestamp,
    e.series?.lastObservedTime,
    e.eventTime,
    e.firstTimestamp,
    e.metadata?.creationTimestamp,
  ]) {
    const ms = time(t);
    if (!Number.isNaN(ms)) return ms;
  }
  return undefined;
}

/**
 * Reads every event once (by uid, else by object, reason and time). An event with no time is
 * skipped with a warning; one with a field of the wrong type (a numeric message or reason, a count
 * of 2.5) is skipped with a warning naming the file and the field.
 */
export async function readEvents(
  root: string,
  podComponent: ReadonlyMap<string, string>,
  warn: Warn,
): Promise<BundleEvent[]> {
  const events: BundleEvent[] = [];
  const seen = new Set<string>();
  for (const f of await eventFiles(root)) {
    const rel = path.relative(root, f);
    for (const { item: e, index } of items<K8sEvent>(await readJsonFile(f, rel, warn))) {
      const obj = e.involvedObject ?? {};
      const where = {
        file: rel,
        what: `event ${index} (${String(e.reason ?? '?')} on ${String(obj.name ?? '?')})`,
      };
      const t = timeOf(e);
      const key =
        str(e.metadata?.uid) ??
        `${String(obj.kind)}/${String(obj.namespace)}/${String(obj.name)}/${String(e.reason)}/${t}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (t === undefined) {
        warn(rel, `${where.what} has no time; skipped`);
        continue;
      }
      const made = guarded(where, warn, () => {
        const namespace = obj.namespace ?? e.metadata?.namespace;
        const component =
          obj.kind === 'Pod' ? podComponent.get(`${String(namespace)}/${String(obj.name)}`) : undefined;
        return {
          time: new Date(t).toISOString(),
          object: { kind: obj.kind ?? 'Unknown', name: obj.name ?? '', ...(namespace ? { namespace } : {}) },
          reason: e.reason ?? '',
          message: e.message ?? '',
          type: e.type === 'Warning' ? 'Warning' : 'Normal',
          // events.k8s.io writes no count (or 0): one occurrence.
          count: typeof e.count === 'number' ? Math.max(1, e.count) : (e.count ?? 1),
          ...(component ? { component } : {}),
        };
      });
      const event = made && checked(eventSchema, made, where, warn);
      if (event) events.push(event);
    }
  }
  return events;
}
