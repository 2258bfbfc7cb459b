// The server's JSON shapes (packages/web/src/model.ts) and the report's (packages/investigate/src/types.ts),
// restated for the browser build, which cannot import Node packages. Keep them in step.

export interface ErrorInfo {
  code: string;
  message: string;
  where?: string;
}

export interface Warning {
  stage: string;
  name: string;
  code: string;
  message: string;
  where?: string;
}

export interface PodInfo {
  name: string;
  namespace: string;
  component?: string;
  phase?: string;
}

export type Overview =
  | { state: 'loading'; bundle: string }
  | { state: 'error'; bundle: string; error: ErrorInfo }
  | {
      state: 'ready';
      bundle: string;
      manifest: { window: { from: string; to: string }; cluster?: string; namespace?: string };
      components: string[];
      pods: PodInfo[];
      warnings: Warning[];
      counts: { series: number; changes: number; events: number; templates: number; logLines: number };
      report: Report | null;
    };

export interface SeriesInfo {
  key: string;
  name: string;
  labels: Record<string, string>;
  kind: 'gauge' | 'counter';
  unit?: string;
  component?: string;
  pod?: string;
  points: number;
}

export interface SeriesData extends SeriesInfo {
  rate: boolean;
  data: Array<[number, number]>;
}

export interface DiffEntry {
  path: string;
  from?: unknown;
  to?: unknown;
}

export interface ChangeView {
  id: string;
  time: string;
  timeMs: number;
  kind: string;
  target: string;
  namespace?: string;
  release?: string;
  fromRevision?: number;
  toRevision?: number;
  author?: string;
  message?: string;
  components?: string[];
  diff: DiffEntry[];
}

export interface TimelineItem {
  id: string;
  kind: 'change' | 'event' | 'anomaly';
  timeMs: number;
  component?: string;
  pod?: string;
  title: string;
  detail?: string;
  severity: 'info' | 'warning' | 'critical';
  ref?: { change: string } | { series: string } | { template: string } | { finding: string };
}

export interface TemplateInfo {
  id: string;
  template: string;
  group: string;
  component: string;
  container: string;
  count: number;
  pods: Record<string, number>;
}

export interface TemplateRates {
  template: TemplateInfo;
  bucketMs: number;
  pods: Array<{ pod: string; data: Array<[number, number | null]> }>;
}

export interface TemplateLine {
  pod: string;
  container: string;
  timeMs: number;
  lineNo: number;
  text: string;
}

// The investigation report (docs/report.md).
export type Evidence =
  | {
      type: 'series';
      name: string;
      labels: Record<string, string>;
      unit: string;
      points: Array<[number, number]>;
      before?: number;
      after?: number;
    }
  | { type: 'lines'; template?: string; lines: Array<{ time: number; pod: string; container: string; text: string }> }
  | { type: 'diff'; entries: DiffEntry[] }
  | { type: 'event'; time: number; object: string; reason: string; message: string; count: number };

export interface Finding {
  id: string;
  analyzer: string;
  kind: 'change' | 'anomaly' | 'health';
  component?: string;
  pod?: string;
  signal: string;
  title: string;
  time: number;
  end?: number;
  strength: number;
  direction?: string;
  userFacing?: boolean;
  evidence: Evidence[];
  change?: { id?: string };
}

export interface ChainStep {
  role: 'cause' | 'signal' | 'effect';
  time: number;
  title: string;
  findingId: string;
  component?: string;
}

export type Cause =
  | { type: 'change'; changeId: string; kind: string; target: string; paths: string[]; diff: DiffEntry[]; components: string[] }
  | { type: 'component'; component: string; firstSignal: string }
  | { type: 'anomaly'; findingId: string; component?: string; signal: string };

export interface Hypothesis {
  rank: number;
  score: number;
  title: string;
  time: number;
  cause: Cause;
  chain: ChainStep[];
  explains: string[];
  nextStep: string;
  reasons: string[];
}

export interface Report {
  verdict: 'change' | 'component' | 'none';
  summary: string;
  hypotheses: Hypothesis[];
  findings: Finding[];
  warnings: Warning[];
}

/** A failed request: the server's error, or what went wrong on the way. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly info: ErrorInfo,
  ) {
    super(info.message);
  }
}

/** GETs a JSON endpoint of the server; a non-2xx answer becomes an {@link ApiError}. */
export async function get<T>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  let res: Response;
  try {
    res = await fetch(`api/${path}${s ? `?${s}` : ''}`);
  } catch (err) {
    throw new ApiError(0, { code: 'HINDSIGHT_INTERNAL', message: `the hindsight server did not answer (${String(err)}); is hindsight serve still running?` });
  }
  const body = (await res.json().catch(() => ({}))) as T & { error?: ErrorInfo };
  if (!res.ok) throw new ApiError(res.status, body.error ?? { code: 'HINDSIGHT_INTERNAL', message: `HTTP ${res.status}` });
  return body;
}
