// The server's JSON shapes (packages/web/src/model.ts) and the report's (docs/report.md), imported as
// types only: the browser build erases them, so nothing of the Node packages reaches the bundle.
import type { TemplateInfoView } from '@hindsight/web';

export type {
  CallEdgeView,
  CallGraphView,
  ChangeView,
  Overview,
  SeriesData,
  SeriesInfo,
  TemplateLine,
  TemplateRates,
  TimelineItem,
} from '@hindsight/web';
export type { AtCollection, Evidence, Finding, Hypothesis, Report } from '@hindsight/investigate';
export type TemplateInfo = TemplateInfoView;

/** An error as the server reports it. */
export interface ErrorInfo {
  code: string;
  message: string;
  where?: string;
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
    throw new ApiError(0, {
      code: 'HINDSIGHT_INTERNAL',
      message: `the hindsight server did not answer (${String(err)}); is hindsight serve still running?`,
    });
  }
  const body = (await res.json().catch(() => ({}))) as T & { error?: ErrorInfo };
  if (!res.ok)
    throw new ApiError(
      res.status,
      body.error ?? { code: 'HINDSIGHT_INTERNAL', message: `HTTP ${res.status}` },
    );
  return body;
}
