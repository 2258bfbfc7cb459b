import './style.css';
import {
  ApiError,
  get,
  type AtCollection,
  type ChangeView,
  type Evidence,
  type Finding,
  type Hypothesis,
  type Overview,
  type Report,
  type SeriesData,
  type SeriesInfo,
  type TemplateInfo,
  type TemplateLine,
  type TemplateRates,
  type TimelineItem,
} from './api.js';
import { timeChart, pruneCharts, type Marker } from './chart.js';
import { actionList, clock, focusedEntry, h, near, refocus, seriesKey, show, stamp } from './dom.js';

// The view lives in the URL's hash (`#open=series:...&component=shop&from=...&to=...`), so copying
// the address shares exactly what is on screen, and Back returns to the previous view.
interface View {
  open?: string;
  component?: string;
  pod?: string;
  from?: number;
  to?: number;
}

function readView(): View {
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

function hashOf(v: View): string {
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
function go(patch: Partial<View>, keepZoom = false): void {
  const v = { ...readView(), ...patch };
  if (!keepZoom && 'open' in patch) {
    delete v.from;
    delete v.to;
  }
  for (const k of Object.keys(v) as Array<keyof View>) if (v[k] === undefined || v[k] === '') delete v[k];
  location.hash = hashOf(v);
}

/** Zooming only replaces the address: it is part of the view, not a step to go back through. */
function setZoom(range: { from: number; to: number } | undefined): void {
  const v = readView();
  delete v.from;
  delete v.to;
  if (range) Object.assign(v, range);
  history.replaceState(null, '', hashOf(v));
}

const app = document.getElementById('app') as HTMLElement;
const compSel = document.getElementById('f-component') as HTMLSelectElement;
const podSel = document.getElementById('f-pod') as HTMLSelectElement;
let overview: Extract<Overview, { state: 'ready' }>;
/** A time in the bundle as a time of day, with its date when it falls on another day than the window's end. */
const at = (ms: number): string => near(ms, Date.parse(overview.manifest.window.to));
let changes: ChangeView[] = [];
let seriesList: SeriesInfo[] = [];
let seriesFilterText = '';

async function boot(): Promise<void> {
  let o: Overview;
  try {
    for (;;) {
      o = await get<Overview>('overview');
      if (o.state !== 'loading') break;
      app.replaceChildren(h('p', { class: 'muted', role: 'status' }, `Reading ${o.bundle} and investigating it…`));
      await new Promise((r) => setTimeout(r, 400));
    }
  } catch (err) {
    errorPage(err instanceof ApiError ? err.info : { code: 'HINDSIGHT_INTERNAL', message: String(err) }, '');
    return;
  }
  if (o.state === 'error') {
    errorPage(o.error, o.bundle);
    return;
  }
  overview = o;
  (document.getElementById('bundle') as HTMLElement).textContent =
    `${o.bundle} · ${stamp(Date.parse(o.manifest.window.from))} → ${near(Date.parse(o.manifest.window.to), Date.parse(o.manifest.window.from)).replace(/ UTC$/, '')} UTC`;
  changes = (await get<{ changes: ChangeView[] }>('changes')).changes;
  // A component known only from the report (a pod seen in events alone) can still be what fails.
  const failing = (o.report?.atCollection ?? []).map((e) => e.component);
  for (const c of [...new Set([...o.components, ...failing])].sort()) compSel.append(h('option', { value: c }, c));
  compSel.addEventListener('change', () => go({ component: compSel.value || undefined, pod: undefined }, true));
  podSel.addEventListener('change', () => go({ pod: podSel.value || undefined }, true));
  let opened = readView().open;
  window.addEventListener('hashchange', () => {
    // Opening something shows it from the top: the detail column starts there, and a page left
    // scrolled down to where the link was would show that column empty.
    const now = readView().open;
    if (now !== opened) window.scrollTo({ top: 0 });
    opened = now;
    void render();
  });
  await render();
}

const HINTS: Record<string, string> = {
  HINDSIGHT_BUNDLE_MISSING: 'Check the path: a bundle is a folder or a .tar.gz made by hindsight collect.',
  HINDSIGHT_BUNDLE_MANIFEST: 'The folder is not a hindsight bundle, or its manifest.json is damaged. Run hindsight validate on it.',
  HINDSIGHT_BUNDLE_VERSION: 'This bundle was written by another version of hindsight; open it with that version.',
  HINDSIGHT_BUNDLE_ARCHIVE: 'The archive is truncated or corrupt; copy it again from where it was collected.',
};

function errorPage(error: { code: string; message: string; where?: string }, bundle: string): void {
  document.title = 'hindsight: the bundle could not be read';
  (document.getElementById('filters') as HTMLElement).hidden = true;
  app.replaceChildren(
    h(
      'section',
      { class: 'error-page', role: 'alert', 'data-testid': 'error-page' },
      h('h2', {}, 'This bundle could not be read'),
      bundle ? h('p', {}, h('code', {}, bundle)) : null,
      h('p', { class: 'error-message', 'data-testid': 'error-message' }, error.message),
      h('p', {}, 'Error code ', h('code', { 'data-testid': 'error-code' }, error.code), error.where ? ' at ' : null, error.where ? h('code', {}, error.where) : null),
      h('p', { class: 'muted' }, HINTS[error.code] ?? 'See docs/errors.md for what this code means.'),
    ),
  );
}

// Each render fetches before it draws; when the address changes again meanwhile, the older render
// must not draw over the newer one.
let renders = 0;

async function render(): Promise<void> {
  const mine = ++renders;
  const v = readView();
  const focused = focusedEntry();
  compSel.value = v.component ?? '';
  podSel.replaceChildren(h('option', { value: '' }, 'all'));
  for (const p of overview.pods.filter((p) => !v.component || p.component === v.component))
    podSel.append(h('option', { value: p.name }, p.name));
  podSel.value = v.pod ?? '';
  const filter = { component: v.component, pod: v.pod };
  const [timeline, templates, series] = await Promise.all([
    get<{ items: TimelineItem[] }>('timeline', filter),
    get<{ templates: TemplateInfo[] }>('templates', filter),
    get<{ series: SeriesInfo[] }>('series', filter),
  ]);
  if (mine !== renders) return;
  seriesList = series.series;
  const items = [...timeline.items, ...anomalyItems(overview.report, v)].sort((a, b) => a.timeMs - b.timeMs);
  const side = h(
    'div',
    { class: 'side' },
    hypothesesSection(overview.report, v),
    warningsSection(),
    timelineSection(items, v),
    templatesSection(templates.templates, v),
    seriesSection(v),
  );
  const detail = h('div', { class: 'detail', id: 'detail', tabindex: -1, 'aria-busy': 'true' });
  app.replaceChildren(side, detail);
  refocus(focused);
  pruneCharts();
  await renderDetail(detail, v);
  detail.removeAttribute('aria-busy');
}

function anomalyItems(report: Report | null, v: View): TimelineItem[] {
  if (!report) return [];
  return report.findings
    .filter((f) => f.kind !== 'change')
    .filter((f) => !v.component || !f.component || f.component === v.component)
    .filter((f) => !v.pod || !f.pod || f.pod === v.pod)
    .map((f) => {
      const item: TimelineItem = {
        id: `finding:${f.id}`,
        kind: 'anomaly',
        timeMs: f.time,
        title: f.title,
        severity: f.userFacing ? 'critical' : 'warning',
        ref: { finding: f.id },
      };
      if (f.component) item.component = f.component;
      if (f.pod) item.pod = f.pod;
      return item;
    });
}

function section(title: string, id: string, ...body: Array<Node | null>): HTMLElement {
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...body);
}

function hypothesesSection(report: Report | null, v: View): HTMLElement {
  if (!report) return section('Hypotheses', 'h-hyp', h('p', { class: 'muted' }, 'No investigation for this bundle (see the warnings below); its data is shown.'));
  if (report.hypotheses.length === 0) return section('Hypotheses', 'h-hyp', h('p', {}, report.summary), stillFailing(report, v));
  return section(
    'Hypotheses',
    'h-hyp',
    h('p', { class: 'summary' }, report.summary),
    stillFailing(report, v),
    actionList(
      report.hypotheses,
      (hy) => [
        h('span', { class: 'rank' }, `#${hy.rank}`),
        h('span', { class: 'grow' }, hy.title, h('br'), h('span', { class: 'muted' }, `${at(hy.time)} · score ${hy.score.toFixed(2)}`)),
        h('meter', { min: 0, max: 1, value: hy.score, 'aria-label': 'score' }),
      ],
      (hy) => go({ open: `h:${hy.rank}` }),
      { label: 'Ranked hypotheses', testId: 'hypotheses', key: (hy) => `h:${hy.rank}`, selected: (hy) => v.open === `h:${hy.rank}` || (!v.open && hy.rank === 1) },
    ),
  );
}

// What was still broken when the bundle was collected, between the summary and the ranking: at
// night the first question is what is down now, whatever caused it. The filters narrow it.
function stillFailing(report: Report, v: View): HTMLElement | null {
  const all = report.atCollection ?? [];
  if (all.length === 0) return null;
  const shown = all.filter(
    (e) => (!v.component || e.component === v.component) && (!v.pod || !e.object.startsWith('Pod/') || e.object === `Pod/${v.pod}`),
  );
  const end = Date.parse(report.window.to);
  const openOf = (e: AtCollection): string | undefined => (e.evidence[0] ? `finding:${e.evidence[0]}` : undefined);
  const row = (e: AtCollection): Node[] => [
    h('span', { class: 'badge critical' }, e.what),
    h(
      'span',
      { class: 'grow' },
      h('code', {}, e.object),
      e.container ? h('span', { class: 'muted' }, ', container ', h('code', {}, e.container)) : null,
      // The component only where the object's name does not already say it.
      e.object.includes(e.component) ? null : h('span', { class: 'muted' }, ` · ${e.component}`),
      e.since !== undefined ? h('span', { class: 'muted' }, ` · since ${near(e.since, end)}`) : null,
      h('br'),
      h('span', { class: 'small' }, e.detail),
    ),
  ];
  const list = actionList(shown, row, (e) => go({ open: openOf(e) }), {
    label: 'Still failing at collection',
    className: 'compact',
    testId: 'at-collection-list',
    key: (e) => `${e.what}|${e.object}|${e.container ?? ''}`,
    opens: (e) => openOf(e) !== undefined,
    selected: (e) => openOf(e) !== undefined && openOf(e) === v.open,
  });
  const elsewhere = all.length - shown.length;
  return h(
    'section',
    { class: 'still', 'aria-labelledby': 'h-still', 'data-testid': 'at-collection' },
    h('h3', { id: 'h-still' }, `Still failing at collection (${clock(end).slice(0, 5)} UTC)`),
    shown.length > 0 ? list : null,
    elsewhere > 0 ? h('p', { class: 'muted small' }, shown.length === 0 ? `None in this view; ${elsewhere} outside the filter.` : `${elsewhere} more outside the filter.`) : null,
  );
}

// The timeline across components: one lane per component, with a mark per change, event and
// anomaly, above the same entries as a list that the keyboard can walk.
function timelineSection(items: TimelineItem[], v: View): HTMLElement {
  const win = { from: Date.parse(overview.manifest.window.from), to: Date.parse(overview.manifest.window.to) };
  const laneOf = (i: TimelineItem): string => i.component ?? (i.kind === 'change' ? 'changes' : 'cluster');
  const lanes = [...new Set(items.map(laneOf))].sort();
  // A narrow drawing scaled to the panel's width keeps its labels legible.
  const W = 460;
  const rowH = 20;
  // Lane labels get the room the longest needs (about 7 px a character at 12 px), up to a third
  // of the width; a longer one is cut with an ellipsis, never crossed by its lane's line.
  const chars = Math.min(20, Math.max(6, ...lanes.map((l) => l.length)));
  const left = chars * 7 + 8;
  const fitLabel = (l: string): string => (l.length > chars ? `${l.slice(0, chars - 1)}…` : l);
  const axisY = Math.max(1, lanes.length) * rowH + 8;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${axisY + 14}`);
  svg.setAttribute('class', 'lanes');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Timeline of ${items.length} changes, events and anomalies across ${lanes.length} components`);
  const x = (t: number): number => left + ((t - win.from) / Math.max(1, win.to - win.from)) * (W - left - 10);
  lanes.forEach((lane, i) => {
    const y = i * rowH + 12;
    const label = document.createElementNS(svg.namespaceURI, 'text');
    label.setAttribute('x', '0');
    label.setAttribute('y', String(y + 4));
    label.textContent = fitLabel(lane);
    const full = document.createElementNS(svg.namespaceURI, 'title');
    full.textContent = lane;
    label.append(full);
    const line = document.createElementNS(svg.namespaceURI, 'line');
    Object.entries({ x1: left, x2: W - 10, y1: y, y2: y, class: 'lane' }).forEach(([k, val]) => line.setAttribute(k, String(val)));
    svg.append(label, line);
  });
  // A time axis (UTC) under the lanes: a round step that gives at most five ticks.
  const span = Math.max(1, win.to - win.from);
  const day = 86_400_000;
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440, 2880, 10080, 20160, 43200, 129600];
  const step = steps.map((m) => m * 60_000).find((s) => span / s <= 5) ?? span;
  for (let t = Math.ceil(win.from / step) * step; t <= win.to; t += step) {
    const tick = document.createElementNS(svg.namespaceURI, 'text');
    Object.entries({ x: x(t), y: axisY + 10, 'text-anchor': 'middle', class: 'tick' }).forEach(([k, val]) =>
      tick.setAttribute(k, String(val)),
    );
    // Ticks a day or more apart are dates (month-day), closer ones times of day.
    tick.textContent = new Date(t).toISOString().slice(step >= day ? 5 : 11, step >= day ? 10 : 16);
    svg.append(tick);
  }
  const zone = document.createElementNS(svg.namespaceURI, 'text');
  Object.entries({ x: 0, y: axisY + 10, class: 'tick' }).forEach(([k, val]) => zone.setAttribute(k, String(val)));
  zone.textContent = 'UTC';
  svg.append(zone);
  for (const it of items) {
    const lane = lanes.indexOf(laneOf(it));
    const mark = document.createElementNS(svg.namespaceURI, it.kind === 'change' ? 'rect' : 'circle');
    const cx = x(it.timeMs);
    const cy = lane * rowH + 12;
    if (it.kind === 'change') Object.entries({ x: cx - 2, y: cy - 7, width: 4, height: 14 }).forEach(([k, val]) => mark.setAttribute(k, String(val)));
    else Object.entries({ cx, cy, r: 4 }).forEach(([k, val]) => mark.setAttribute(k, String(val)));
    mark.setAttribute('class', `mark ${it.kind} ${it.severity}`);
    const title = document.createElementNS(svg.namespaceURI, 'title');
    title.textContent = `${at(it.timeMs)} ${it.title}`;
    mark.append(title);
    svg.append(mark);
  }
  const openOf = (it: TimelineItem): string | undefined => {
    const r = it.ref;
    if (!r) return undefined;
    if ('change' in r) return `change:${r.change}`;
    if ('series' in r) return `series:${r.series}`;
    if ('template' in r) return `template:${r.template}`;
    return `finding:${r.finding}`;
  };
  const list = actionList(
    items.slice(0, 300),
    (it) => [
      h('time', { class: 'muted' }, at(it.timeMs)),
      h('span', { class: `badge ${it.kind} ${it.severity}` }, it.kind),
      h('span', { class: 'grow' }, it.title, it.component ? h('span', { class: 'muted' }, ` · ${it.component}`) : null),
    ],
    (it) => {
      const o = openOf(it);
      if (o) go({ open: o });
    },
    { label: 'Timeline entries', className: 'compact', testId: 'timeline', key: (it) => it.id, selected: (it) => openOf(it) !== undefined && openOf(it) === v.open },
  );
  return section('Timeline', 'h-timeline', svg, items.length === 0 ? h('p', { class: 'muted' }, 'Nothing happened in this view.') : list);
}

function templatesSection(templates: TemplateInfo[], v: View): HTMLElement {
  return section(
    'Log templates',
    'h-templates',
    templates.length === 0
      ? h('p', { class: 'muted' }, 'No log lines in this view.')
      : actionList(
          templates.slice(0, 200),
          (t) => [
            h('span', { class: 'count' }, t.count.toLocaleString('en')),
            h('code', { class: 'grow template' }, t.template),
            h('span', { class: 'muted' }, t.component),
          ],
          (t) => go({ open: `template:${t.id}` }),
          { label: 'Log templates', className: 'compact', testId: 'templates', key: (t) => t.id, selected: (t) => v.open === `template:${t.id}` },
        ),
  );
}

function seriesSection(v: View): HTMLElement {
  const input = h('input', { type: 'search', placeholder: 'filter series by name or label', 'aria-label': 'Filter series', value: seriesFilterText });
  const holder = h('div', {});
  const fill = (): void => {
    const words = seriesFilterText.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = seriesList.filter((s) => words.every((w) => s.key.toLowerCase().includes(w)));
    holder.replaceChildren(
      actionList(
        shown.slice(0, 150),
        (s) => [h('span', { class: 'grow' }, h('code', {}, s.name), h('br'), h('span', { class: 'muted small' }, labelText(s.labels)))],
        (s) => go({ open: `series:${s.key}` }),
        { label: 'Series', className: 'compact', testId: 'series', key: (s) => s.key, selected: (s) => v.open === `series:${s.key}` },
      ),
      shown.length > 150 ? h('p', { class: 'muted' }, `${shown.length - 150} more: narrow the filter`) : '',
    );
  };
  input.addEventListener('input', () => {
    seriesFilterText = input.value;
    fill();
  });
  fill();
  return section(`Series (${seriesList.length})`, 'h-series', input, holder);
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .filter(([k]) => k !== 'source')
    .map(([k, val]) => `${k}=${val}`)
    .join(' ');
}

// Warnings sit under the hypotheses, folded: a reader sees at once that parts of the bundle were
// skipped, and opens the list when it matters.
function warningsSection(): HTMLElement | null {
  const w = overview.warnings;
  if (w.length === 0) return null;
  return h(
    'details',
    { class: 'panel warnings-panel' },
    h('summary', {}, `${w.length} warning${w.length === 1 ? '' : 's'}: parts of the bundle were skipped or could not be analysed`),
    h('ul', { class: 'warnings', 'data-testid': 'warnings' }, ...w.slice(0, 50).map((x) => h('li', {}, h('code', {}, x.code), ` ${x.where ?? x.name}: ${x.message}`))),
  );
}

/** Every change, as chart markers; the top hypothesis' cause (or the one given) drawn strong. */
function markers(causeId?: string): Marker[] {
  const top = overview.report?.hypotheses[0]?.cause;
  const strong = causeId ?? (top?.type === 'change' ? top.changeId : undefined);
  return changes.map((c) => ({
    timeMs: c.timeMs,
    label: c.toRevision !== undefined ? `${c.target} r${c.toRevision}` : c.target,
    strong: c.id === strong,
  }));
}

function zoomRange(v: View): { from: number; to: number } | undefined {
  return v.from !== undefined && v.to !== undefined ? { from: v.from, to: v.to } : undefined;
}

async function renderDetail(el: HTMLElement, v: View): Promise<void> {
  const open = v.open ?? (overview.report?.hypotheses.length ? 'h:1' : '');
  const i = open.indexOf(':');
  const kind = open.slice(0, i);
  const arg = open.slice(i + 1);
  try {
    if (kind === 'h') el.append(...hypothesisDetail(Number(arg), v));
    else if (kind === 'finding') el.append(...findingDetail(arg, v));
    else if (kind === 'series') el.append(...(await seriesDetail({ key: arg }, arg, v)));
    else if (kind === 'name') el.append(...(await seriesDetail({ name: arg }, `every ${arg}`, v)));
    else if (kind === 'template') el.append(...(await templateDetail(arg, v)));
    else if (kind === 'change') el.append(...(await changeDetail(arg)));
    else el.append(h('h2', {}, 'Overview'), h('p', {}, overview.report?.summary ?? 'Open an entry on the left.'), counts());
  } catch (err) {
    const info = err instanceof ApiError ? err.info : { code: 'HINDSIGHT_INTERNAL', message: String(err) };
    el.append(h('div', { class: 'error-page', role: 'alert' }, h('h2', {}, 'This view could not be shown'), h('p', {}, info.message), h('p', {}, h('code', {}, info.code))));
  }
}

function counts(): HTMLElement {
  const c = overview.counts;
  return h('p', { class: 'muted' }, `${c.series} series, ${c.changes} changes, ${c.events} events, ${c.templates} log templates from ${c.logLines.toLocaleString('en')} lines.`);
}

function findingById(id: string): Finding | undefined {
  return overview.report?.findings.find((f) => f.id === id);
}

function hypothesisDetail(rank: number, v: View): Node[] {
  const hy: Hypothesis | undefined = overview.report?.hypotheses.find((x) => x.rank === rank);
  if (!hy) return [h('p', {}, `There is no hypothesis ${rank}.`)];
  const causeId = hy.cause.type === 'change' ? hy.cause.changeId : undefined;
  const out: Node[] = [
    h('h2', { 'data-testid': 'hypothesis-title' }, `#${hy.rank} ${hy.title}`),
    h('p', { class: 'muted' }, `${stamp(hy.time)} · score ${hy.score.toFixed(2)}`),
  ];
  if (hy.cause.type === 'change') {
    const id = hy.cause.changeId;
    out.push(diffTable(hy.cause.diff), h('p', {}, h('a', { href: hashOf({ ...v, open: `change:${id}` }) }, 'Open this change')));
  }
  out.push(
    h('h3', {}, 'Causal chain'),
    h(
      'ol',
      { class: 'chain', 'data-testid': 'chain' },
      ...hy.chain.map((s) =>
        h(
          'li',
          { class: `step ${s.role}` },
          h('time', {}, at(s.time)),
          h('span', { class: `badge ${s.role}` }, s.role),
          h('a', { href: hashOf({ ...v, open: `finding:${s.findingId}` }) }, s.title),
          s.component ? h('span', { class: 'muted' }, ` · ${s.component}`) : null,
        ),
      ),
    ),
    h('h3', {}, 'Next step'),
    h('pre', { class: 'next', 'data-testid': 'next-step' }, hy.nextStep),
    ...(hy.nextCommands && hy.nextCommands.length > 0
      ? [h('pre', { class: 'next commands', 'data-testid': 'next-commands' }, hy.nextCommands.join('\n'))]
      : []),
  );
  if (hy.reasons.length > 0) out.push(h('h3', {}, 'Why this rank'), h('ul', {}, ...hy.reasons.map((r) => h('li', {}, r))));
  out.push(h('h3', {}, 'Evidence'));
  for (const fid of hy.explains.slice(0, 6)) {
    const f = findingById(fid);
    if (f && f.kind !== 'change') out.push(...evidence(f, v, causeId));
  }
  return out;
}

function findingDetail(id: string, v: View): Node[] {
  const f = findingById(id);
  if (!f) return [h('p', {}, `No finding ${id} in the report.`)];
  return [h('h2', {}, f.title), h('p', { class: 'muted' }, `${stamp(f.time)} · ${f.analyzer} · strength ${f.strength.toFixed(2)}${f.component ? ` · ${f.component}` : ''}${f.pod ? ` · ${f.pod}` : ''}`), ...evidence(f, v)];
}

function evidence(f: Finding, v: View, causeId?: string): Node[] {
  const out: Array<Node | null> = [h('h4', {}, f.title)];
  for (const e of f.evidence as Evidence[]) {
    if (e.type === 'series') {
      const key = seriesKey(e.name, e.labels);
      const known = seriesList.some((s) => s.key === key);
      out.push(
        timeChart([{ label: labelText(e.labels) || e.name, points: e.points }], { title: key, unit: e.unit, markers: markers(causeId), testId: 'evidence-chart' }),
        h(
          'p',
          {},
          // Template rates and shares are drawn from the report only; a bundle series opens in full.
          known
            ? h('a', { href: hashOf({ ...v, open: `series:${key}` }), 'data-testid': 'open-chart' }, 'Open this chart')
            : seriesList.some((s) => s.name === e.name)
              ? h('a', { href: hashOf({ ...v, open: `name:${e.name}` }), 'data-testid': 'open-chart' }, `Open every ${e.name}`)
              : null,
          e.before !== undefined && e.after !== undefined ? h('span', { class: 'muted' }, ` ${fmt(e.before)} → ${fmt(e.after)}`) : null,
        ),
      );
    } else if (e.type === 'lines') {
      out.push(
        e.template ? h('p', {}, h('code', {}, e.template)) : null,
        linesTable(e.lines.map((l, i) => ({ pod: l.pod, container: l.container, timeMs: l.time, lineNo: i + 1, text: l.text }))),
      );
      // Log findings name their template `log:<group>:<id>`, which the server resolves.
      if (f.signal.startsWith('log:'))
        out.push(h('p', {}, h('a', { href: hashOf({ ...v, open: `template:${f.signal}` }), 'data-testid': 'open-template' }, 'Open this template and its lines')));
    } else if (e.type === 'diff') out.push(diffTable(e.entries));
    else out.push(h('p', {}, h('time', {}, at(e.time)), ` ${e.reason} ${e.object}: ${e.message}${e.count > 1 ? ` (x${e.count})` : ''}`));
  }
  return out.filter((n): n is Node => n !== null);
}

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3);
}

async function seriesDetail(q: { key?: string; name?: string }, title: string, v: View): Promise<Node[]> {
  const { series } = await get<{ series: SeriesData[] }>('series', q);
  const first = series[0];
  const unit = first ? (first.rate ? `${first.unit ?? ''} per second`.trim() : first.unit) : undefined;
  return [
    h('h2', {}, title),
    h('p', { class: 'muted' }, first?.rate ? 'A counter, shown as its rate per second.' : 'A gauge.'),
    timeChart(
      series.map((s) => ({ label: labelText(s.labels) || s.name, points: s.data })),
      { title, unit, markers: markers(), range: zoomRange(v), onZoom: setZoom, height: 300, testId: 'series-chart' },
    ),
    first && series.length === 1 ? h('p', {}, h('a', { href: hashOf({ ...v, open: `name:${first.name}` }) }, `Compare every ${first.name}`)) : h('span'),
  ];
}

async function templateDetail(id: string, v: View): Promise<Node[]> {
  const [rates, lines] = await Promise.all([
    get<TemplateRates>(`templates/${encodeURIComponent(id)}/rates`),
    get<{ lines: TemplateLine[]; truncated: boolean }>(`templates/${encodeURIComponent(id)}/lines`, {
      pod: v.pod,
      limit: '300',
      from: v.from === undefined ? undefined : String(v.from),
      to: v.to === undefined ? undefined : String(v.to),
    }),
  ]);
  const t = rates.template;
  const pods = rates.pods.filter((p) => !v.pod || p.pod === v.pod);
  return [
    h('h2', {}, 'Log template'),
    h('p', {}, h('code', { class: 'template big', 'data-testid': 'template-text' }, t.template)),
    h('p', { class: 'muted' }, `${t.count.toLocaleString('en')} lines from ${t.component}/${t.container} on ${Object.keys(t.pods).length} pods`),
    timeChart(
      pods.map((p) => ({ label: p.pod, points: p.data })),
      { title: 'Lines per second, per pod', unit: `per ${rates.bucketMs / 1000} s bucket`, markers: markers(), range: zoomRange(v), onZoom: setZoom, testId: 'template-chart' },
    ),
    h('h3', {}, `Lines${v.pod ? ` on ${v.pod}` : ''}${v.from !== undefined ? ' in the zoomed range' : ''}`),
    h('p', { class: 'muted' }, lines.truncated ? `The first ${lines.lines.length} lines.` : `${lines.lines.length} lines.`),
    linesTable(lines.lines),
  ];
}

function linesTable(lines: TemplateLine[]): HTMLElement {
  return h('div', { class: 'scroll' }, h(
    'table',
    { class: 'lines', 'data-testid': 'lines' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'time (UTC)'), h('th', { scope: 'col' }, 'pod'), h('th', { scope: 'col' }, 'line'))),
    h('tbody', {}, ...lines.map((l) => h('tr', {}, h('td', { class: 'nowrap' }, at(l.timeMs)), h('td', { class: 'nowrap' }, l.pod), h('td', {}, h('code', {}, l.text))))),
  ));
}

async function changeDetail(id: string): Promise<Node[]> {
  const { change: c } = await get<{ change: ChangeView }>(`changes/${encodeURIComponent(id)}`);
  const rev = c.fromRevision !== undefined && c.toRevision !== undefined ? ` revision ${c.fromRevision} → ${c.toRevision}` : '';
  return [
    h('h2', { 'data-testid': 'change-title' }, `${c.kind} ${c.target}${rev}`),
    h('p', { class: 'muted' }, [stamp(c.timeMs), c.release ? `release ${c.release}` : '', c.author ? `by ${c.author}` : '', c.components?.length ? `touches ${c.components.join(', ')}` : ''].filter(Boolean).join(' · ')),
    c.message ? h('p', {}, c.message) : h('span'),
    diffTable(c.diff),
  ];
}

function diffTable(entries: Array<{ path: string; from?: unknown; to?: unknown }>): HTMLElement {
  return h(
    'table',
    { class: 'diff', 'data-testid': 'diff' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'path'), h('th', { scope: 'col' }, 'before'), h('th', { scope: 'col' }, 'after'))),
    h(
      'tbody',
      {},
      ...entries.map((d) =>
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, d.path)),
          h('td', { class: 'from' }, h('code', {}, show(d.from))),
          h('td', { class: 'to' }, h('code', {}, show(d.to))),
        ),
      ),
    ),
  );
}

void boot();
