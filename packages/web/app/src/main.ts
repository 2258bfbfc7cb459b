// hindsight serve's page: boots from the server's overview, then draws the side column and the
// detail column for the view in the address, again whenever the address changes.
import './style.css';
import {
  ApiError,
  get,
  type CallGraphView,
  type ChangeView,
  type Overview,
  type TimelineItem,
} from './api.js';
import { pruneCharts } from './chart.js';
import { renderDetail } from './detail.js';
import { focusedEntry, h, near, refocus, stamp } from './dom.js';
import { go, readView, state } from './state.js';
import { anomalyItems, timelineSection } from './timeline.js';
import { hypothesesSection, seriesSection, templatesSection, warningsSection } from './views.js';
import type { SeriesInfo, TemplateInfo } from './api.js';

const app = document.getElementById('app') as HTMLElement;
const compSel = document.getElementById('f-component') as HTMLSelectElement;
const podSel = document.getElementById('f-pod') as HTMLSelectElement;
async function boot(): Promise<void> {
  let o: Overview;
  try {
    for (;;) {
      o = await get<Overview>('overview');
      if (o.state !== 'loading') break;
      app.replaceChildren(
        h('p', { class: 'muted', role: 'status' }, `Reading ${o.bundle} and investigating it…`),
      );
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
  state.overview = o;
  const from = Date.parse(o.manifest.window.from);
  (document.getElementById('bundle') as HTMLElement).textContent =
    `${o.bundle} · ${stamp(from)} → ${near(Date.parse(o.manifest.window.to), from).replace(/ UTC$/, '')} UTC`;
  state.changes = (await get<{ changes: ChangeView[] }>('changes')).changes;
  if (o.report?.findings.some((f) => f.signal.startsWith('latency:')))
    state.calls = await get<CallGraphView>('calls');
  // A component known only from the report (a pod seen in events alone) can still be what fails.
  const failing = (o.report?.atCollection ?? []).map((e) => e.component);
  for (const c of [...new Set([...o.components, ...failing])].sort())
    compSel.append(h('option', { value: c }, c));
  compSel.addEventListener('change', () =>
    go({ component: compSel.value || undefined, pod: undefined }, true),
  );
  podSel.addEventListener('change', () => go({ pod: podSel.value || undefined }, true));
  let opened = readView().open;
  window.addEventListener('hashchange', () => {
    const now = readView().open;
    const reveal = now !== opened;
    opened = now;
    void render(reveal);
  });
  // A shared address that opens something shows it, as a click on its link would.
  await render(opened !== undefined);
}

const HINTS: Record<string, string> = {
  HINDSIGHT_BUNDLE_MISSING: 'Check the path: a bundle is a folder or a .tar.gz made by hindsight collect.',
  HINDSIGHT_BUNDLE_MANIFEST:
    'The folder is not a hindsight bundle, or its manifest.json is damaged. Run hindsight validate on it.',
  HINDSIGHT_BUNDLE_VERSION:
    'This bundle was written by another version of hindsight; open it with that version.',
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
      h(
        'p',
        {},
        'Error code ',
        h('code', { 'data-testid': 'error-code' }, error.code),
        error.where ? ' at ' : null,
        error.where ? h('code', {}, error.where) : null,
      ),
      h('p', { class: 'muted' }, HINTS[error.code] ?? 'See docs/errors.md for what this code means.'),
    ),
  );
}

// Each render fetches before it draws; when the address changes again meanwhile, the older render
// must not draw over the newer one.
let renders = 0;

async function render(reveal = false): Promise<void> {
  const mine = ++renders;
  const v = readView();
  const focused = focusedEntry();
  compSel.value = v.component ?? '';
  podSel.replaceChildren(h('option', { value: '' }, 'all'));
  for (const p of state.overview.pods.filter((p) => !v.component || p.component === v.component))
    podSel.append(h('option', { value: p.name }, p.name));
  podSel.value = v.pod ?? '';
  const filter = { component: v.component, pod: v.pod };
  const [timeline, templates, series] = await Promise.all([
    get<{ items: TimelineItem[] }>('timeline', filter),
    get<{ templates: TemplateInfo[] }>('templates', filter),
    get<{ series: SeriesInfo[] }>('series', filter),
  ]);
  if (mine !== renders) return;
  state.seriesList = series.series;
  const items = [...timeline.items, ...anomalyItems(state.overview.report, v)].sort(
    (a, b) => a.timeMs - b.timeMs,
  );
  const side = h(
    'div',
    { class: 'side' },
    hypothesesSection(state.overview.report, v),
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
  // Once drawn: before, an empty column may leave the page too short to scroll to it.
  if (reveal && mine === renders) showTop(detail);
}

/**
 * Scrolls to where the detail column starts, under the sticky header: the top of the page when the
 * columns stand side by side, below the side column on a narrow screen. A page left scrolled to
 * where the link was would show the opened chart off screen, or an empty column.
 */
function showTop(detail: HTMLElement): void {
  const bar = document.querySelector('header.top');
  const header = bar && getComputedStyle(bar).position === 'sticky' ? bar.getBoundingClientRect().height : 0;
  const top = detail.getBoundingClientRect().top + window.scrollY - header - 8;
  window.scrollTo({ top: top < 64 ? 0 : top });
}

void boot();
