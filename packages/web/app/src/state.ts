// What the page shows and what it was given: the view in the address, and the bundle's overview
// and changes read once at boot.
import type { CallGraphView, ChangeView, Overview, SeriesInfo } from './api.js';
import type { Marker } from './chart.js';
import { near } from './dom.js';

/**
 * The view lives in the URL's hash (`#open=series:...&component=shop&from=...&to=...`), so copying
 * the address shares exactly what is on screen, and Back returns to the previous view.
 */
export interface View {
  open?: string;
  component?: string;
  pod?: string;
  from?: number;
  to?: number;
}

export function readView(): View {
  const q = new URLSearchParams(location.hash.slice(1));
  const v: View = {};
  const open = q.get('open');
  if (open) v.open = open;
  const c = q.get('component');
  if (c) v.component = c;
  const p = q.get('pod');
  if (p) v.pod = p;
  const from = Number(q.get('from'));
  const to = Number(q.get('to'));
  if (q.has('from') && q.has('to') && Number.isFinite(from) && Number.isFinite(to) && from < to) {
    v.from = from;
    v.to = to;
  }
  return v;
}

export function hashOf(v: View): string {
  const q = new URLSearchParams();
  if (v.open) q.set('open', v.open);
  if (v.component) q.set('component', v.component);
  if (v.pod) q.set('pod', v.pod);
  if (v.from !== undefined && v.to !== undefined) {
    q.set('from', String(v.from));
    q.set('to', String(v.to));
  }
  return `#${q.toString()}`;
}

/** Opens something: a new history entry, the zoom dropped (it belonged to the previous chart). */
export function go(patch: Partial<View>, keepZoom = false): void {
  const v = { ...readView(), ...patch };
  if (!keepZoom && 'open' in patch) {
    delete v.from;
    delete v.to;
  }
  for (const k of Object.keys(v) as Array<keyof View>) if (v[k] === undefined || v[k] === '') delete v[k];
  location.hash = hashOf(v);
}

/** Zooming only replaces the address: it is part of the view, not a step to go back through. */
export function setZoom(range: { from: number; to: number } | undefined): void {
  const v = readView();
  delete v.from;
  delete v.to;
  if (range) Object.assign(v, range);
  history.replaceState(null, '', hashOf(v));
}

export function zoomRange(v: View): { from: number; to: number } | undefined {
  return v.from !== undefined && v.to !== undefined ? { from: v.from, to: v.to } : undefined;
}

/** The bundle as the server gave it at boot, and what the side panel last listed. */
export const state = {
  overview: undefined as unknown as Extract<Overview, { state: 'ready' }>,
  changes: [] as ChangeView[],
  /** The series of the current view (the side panel's list). */
  seriesList: [] as SeriesInfo[],
  /** What the series filter holds, kept across re-renders. */
  seriesFilterText: '',
  /** The spans' call graph, read when the report has a latency finding to draw it for. */
  calls: null as CallGraphView | null,
};

/** A time in the bundle as a time of day; with its date when on another day than the window's end. */
export const at = (ms: number): string => near(ms, Date.parse(state.overview.manifest.window.to));

/** Every change, as chart markers; the top hypothesis' cause (or the one given) drawn strong. */
export function markers(causeId?: string): Marker[] {
  const top = state.overview.report?.hypotheses[0]?.cause;
  const strong = causeId ?? (top?.type === 'change' ? top.changeId : undefined);
  return state.changes.map((c) => ({
    timeMs: c.timeMs,
    label: c.toRevision !== undefined ? `${c.target} r${c.toRevision}` : c.target,
    strong: c.id === strong,
  }));
}

/** A series' labels as `k=v k=v`, the `source` label left out. */
export function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .filter(([k]) => k !== 'source')
    .map(([k, val]) => `${k}=${val}`)
    .join(' ');
}
