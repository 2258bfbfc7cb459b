// The side column's panels: the ranked hypotheses (with what was still failing at collection),
// the warnings, the log templates and the series, each a list that opens its entry on the right.
import type { AtCollection, Report, TemplateInfo } from './api.js';
import { actionList, clock, h, near, section } from './dom.js';
import { at, go, labelText, state, type View } from './state.js';

export function hypothesesSection(report: Report | null, v: View): HTMLElement {
  if (!report)
    return section(
      'Hypotheses',
      'h-hyp',
      h(
        'p',
        { class: 'muted' },
        'No investigation for this bundle (see the warnings below); its data is shown.',
      ),
    );
  if (report.hypotheses.length === 0)
    return section('Hypotheses', 'h-hyp', h('p', {}, report.summary), stillFailing(report, v));
  return section(
    'Hypotheses',
    'h-hyp',
    h('p', { class: 'summary' }, report.summary),
    stillFailing(report, v),
    actionList(
      report.hypotheses,
      (hy) => [
        h('span', { class: 'rank' }, `#${hy.rank}`),
        h(
          'span',
          { class: 'grow' },
          hy.title,
          h('br'),
          h('span', { class: 'muted' }, `${at(hy.time)} · score ${hy.score.toFixed(2)}`),
        ),
        h('meter', { min: 0, max: 1, value: hy.score, 'aria-label': 'score' }),
      ],
      (hy) => go({ open: `h:${hy.rank}` }),
      {
        label: 'Ranked hypotheses',
        testId: 'hypotheses',
        key: (hy) => `h:${hy.rank}`,
        selected: (hy) => v.open === `h:${hy.rank}` || (!v.open && hy.rank === 1),
      },
    ),
  );
}

// What was still broken when the bundle was collected, between the summary and the ranking: at
// night the first question is what is down now, whatever caused it. The filters narrow it.
function stillFailing(report: Report, v: View): HTMLElement | null {
  const all = report.atCollection ?? [];
  if (all.length === 0) return null;
  const shown = all.filter(
    (e) =>
      (!v.component || e.component === v.component) &&
      (!v.pod || !e.object.startsWith('Pod/') || e.object === `Pod/${v.pod}`),
  );
  const end = Date.parse(report.window.to);
  const openOf = (e: AtCollection): string | undefined =>
    e.evidence[0] ? `finding:${e.evidence[0]}` : undefined;
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
    elsewhere > 0
      ? h(
          'p',
          { class: 'muted small' },
          shown.length === 0
            ? `None in this view; ${elsewhere} outside the filter.`
            : `${elsewhere} more outside the filter.`,
        )
      : null,
  );
}

export function templatesSection(templates: TemplateInfo[], v: View): HTMLElement {
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
          {
            label: 'Log templates',
            className: 'compact',
            testId: 'templates',
            key: (t) => t.id,
            selected: (t) => v.open === `template:${t.id}`,
          },
        ),
  );
}

export function seriesSection(v: View): HTMLElement {
  const input = h('input', {
    type: 'search',
    placeholder: 'filter series by name or label',
    'aria-label': 'Filter series',
    value: state.seriesFilterText,
  });
  const holder = h('div', {});
  const fill = (): void => {
    const words = state.seriesFilterText.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = state.seriesList.filter((s) => words.every((w) => s.key.toLowerCase().includes(w)));
    holder.replaceChildren(
      actionList(
        shown.slice(0, 150),
        (s) => [
          h(
            'span',
            { class: 'grow' },
            h('code', {}, s.name),
            h('br'),
            h('span', { class: 'muted small' }, labelText(s.labels)),
          ),
        ],
        (s) => go({ open: `series:${s.key}` }),
        {
          label: 'Series',
          className: 'compact',
          testId: 'series',
          key: (s) => s.key,
          selected: (s) => v.open === `series:${s.key}`,
        },
      ),
      shown.length > 150 ? h('p', { class: 'muted' }, `${shown.length - 150} more: narrow the filter`) : '',
    );
  };
  input.addEventListener('input', () => {
    state.seriesFilterText = input.value;
    fill();
  });
  fill();
  return section(`Series (${state.seriesList.length})`, 'h-series', input, holder);
}

// Warnings sit under the hypotheses, folded: a reader sees at once that parts of the bundle were
// skipped, and opens the list when it matters.
export function warningsSection(): HTMLElement | null {
  const w = state.overview.warnings;
  if (w.length === 0) return null;
  return h(
    'details',
    { class: 'panel warnings-panel' },
    h(
      'summary',
      {},
      `${w.length} warning${w.length === 1 ? '' : 's'}: ` +
        'parts of the bundle were skipped or could not be analysed',
    ),
    h(
      'ul',
      { class: 'warnings', 'data-testid': 'warnings' },
      ...w.slice(0, 50).map((x) => h('li', {}, h('code', {}, x.code), ` ${x.where ?? x.name}: ${x.message}`)),
    ),
  );
}
