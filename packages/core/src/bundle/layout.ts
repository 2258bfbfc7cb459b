import path from 'node:path';

/** Where each kind of record lives inside a bundle folder (docs/bundle.md). */
export const bundleLayout = {
  manifest: 'manifest.json',
  logsDir: 'logs',
  seriesDir: 'series',
  changes: 'changes.jsonl',
  events: 'events.jsonl',
  pods: 'pods.jsonl',
  topology: 'topology.json',
  spans: 'spans.jsonl',
} as const;

/** One container log file of a bundle. */
export interface LogFileRef {
  namespace: string;
  pod: string;
  container: string;
  /** The previous instance of a restarted container (`kubectl logs --previous`). */
  previous: boolean;
  /** Path relative to the bundle root, with forward slashes. */
  file: string;
}

// Names become path segments: anything outside Kubernetes' own name alphabet is replaced so that a
// hostile pod name can never escape the bundle folder.
function safeSegment(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned.length > 0 ? cleaned : '_';
}

/** The relative path of a container's log in a bundle. */
export function logFilePath(ref: Omit<LogFileRef, 'file'>): string {
  const name = `${safeSegment(ref.container)}${ref.previous ? '.previous' : ''}.log`;
  return [bundleLayout.logsDir, safeSegment(ref.namespace), safeSegment(ref.pod), name].join('/');
}

/** Parses `logs/<ns>/<pod>/<container>[.previous].log` back into a reference, or undefined. */
export function parseLogFilePath(rel: string): LogFileRef | undefined {
  const parts = rel.split(path.sep).join('/').split('/');
  if (parts.length !== 4 || parts[0] !== bundleLayout.logsDir) return undefined;
  const [, namespace, pod, fileName] = parts as [string, string, string, string];
  const m = /^(.+?)(\.previous)?\.log$/.exec(fileName);
  if (!m) return undefined;
  return { namespace, pod, container: m[1] as string, previous: m[2] !== undefined, file: parts.join('/') };
}
