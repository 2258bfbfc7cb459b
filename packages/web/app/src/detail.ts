// The detail column: whatever the address opens (a hypothesis, a finding, a series, a template,
// a change), with its evidence drawn as charts and tables.
import { ApiError, get, type ChangeView, type Evidence, type Finding, type Hypothesis } from './api.js';
import type { SeriesData, TemplateLine, TemplateRates } from './api.js';
import { callGraphFigure, durationChart, movedEdges } from './calls.js';
import { timeChart } from './chart.js';
import { h, show, stamp } from './dom.js';
import { seriesKey } from '@hindsight/core/identity';
import { at, hashOf, labelText, markers, setZoom, state, zoomRange, type View } from './state.js';

export async function renderDetail(el: HTMLElement, v: View): Promise<void> {
  const open = v.open ?? (state.overview.report?.hypotheses.length ? 'h:1' : '');
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
    else
      el.append(
        h('h2', {}, 'Overview'),
        h('p', {}, state.overview.report?.summary ?? 'Open an entry on the left.'),
        counts(),
      );
  } catch (err) {
    const info = err instanceof ApiError ? err.info : { code: 'HINDSIGHT_INTERNAL', message: String(err) };
    el.append(
      h(
        'div',
        { class: 'error-page', role: 'alert' },
        h('h2', {}, 'This view could not be shown'),
        h('p', {}, info.message),
        h('p', {}, h('code', {}, info.code)),
      ),
    );
  }
}

function counts(): HTMLElement {
  const c = state.overview.counts;
  return h(
    'p',
    { class: 'muted' },
    `${c.series} series, ${c.changes} changes, ${c.events} events, ${c.templates} log templates` +
      ` from ${c.logLines.toLocaleString('en')} lines.`,
  );
}

function findingById(id: string): Finding | undefined {
  return state.overview.report?.findings.find((f) => f.id === id);
}

function hypothesisDetail(rank: number, v: View): Node[] {
  const hy: Hypothesis | undefined = state.overview.report?.hypotheses.find((x) => x.rank === rank);
  if (!hy) return [h('p', {}, `There is no hypothesis ${rank}.`)];
  const causeId = hy.cause.type === 'change' ? hy.cause.changeId : undefined;
  const out: Node[] = [
    h('h2', { 'data-testid': 'hypothesis-title' }, `#${hy.rank} ${hy.title}`),
    h('p', { class: 'muted' }, `${stamp(hy.time)} · score ${hy.score.toFixed(2)}`),
  ];
  if (hy.cause.type === 'change') {
    const id = hy.cause.changeId;
    out.push(
      diffTable(hy.cause.diff),
      h('p', {}, h('a', { href: hashOf({ ...v, open: `change:${id}` }) }, 'Open this change')),
    );
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
  if (hy.reasons.length > 0)
    out.push(h('h3', {}, 'Why this rank'), h('ul', {}, ...hy.reasons.map((r) => h('li', {}, r))));
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
  return [
    h('h2', {}, f.title),
    h(
      'p',
      { class: 'muted' },
      [stamp(f.time), f.analyzer, `strength ${f.strength.toFixed(2)}`, f.component, f.pod]
        .filter(Boolean)
        .join(' · '),
    ),
    ...evidence(f, v),
  ];
}

function evidence(f: Finding, v: View, causeId?: string): Node[] {
  const out: Array<Node | null> = [h('h4', {}, f.title)];
  const moved = f.signal.startsWith('latency:edges:') ? movedEdges(f) : [];
  if (moved.length > 0) {
    const all = state.calls?.edges ?? [];
    out.push(callGraphFigure(f, moved, all), durationChart(f, moved, all, causeId));
  }
  for (const e of f.evidence as Evidence[]) {
    if (e.type === 'series') {
      const key = seriesKey(e.name, e.labels);
      const known = state.seriesList.some((s) => s.key === key);
      out.push(
        timeChart([{ label: labelText(e.labels) || e.name, points: e.points }], {
          title: key,
          unit: e.unit,
          markers: markers(causeId),
          testId: 'evidence-chart',
        }),
        h(
          'p',
          {},
          // Template rates and shares are drawn from the report only; a bundle series opens in full.
          known
            ? h(
                'a',
                { href: hashOf({ ...v, open: `series:${key}` }), 'data-testid': 'open-chart' },
                'Open this chart',
              )
            : state.seriesList.some((s) => s.name === e.name)
              ? h(
                  'a',
                  { href: hashOf({ ...v, open: `name:${e.name}` }), 'data-testid': 'open-chart' },
                  `Open every ${e.name}`,
                )
              : null,
          e.before !== undefined && e.after !== undefined
            ? h('span', { class: 'muted' }, ` ${fmt(e.before)} → ${fmt(e.after)}`)
            : null,
        ),
      );
    } else if (e.type === 'lines') {
      out.push(
        e.template ? h('p', {}, h('code', {}, e.template)) : null,
        linesTable(
          e.lines.map((l, i) => ({
            pod: l.pod,
            container: l.container,
            timeMs: l.time,
            lineNo: i + 1,
            text: l.text,
          })),
        ),
      );
      // Log findings name their template `log:<group>:<id>`, which the server resolves.
      if (f.signal.startsWith('log:'))
        out.push(
          h(
            'p',
            {},
            h(
              'a',
              { href: hashOf({ ...v, open: `template:${f.signal}` }), 'data-testid': 'open-template' },
              'Open this template and its lines',
            ),
          ),
        );
    } else if (e.type === 'diff') out.push(diffTable(e.entries));
    else
      out.push(
        h(
          'p',
          {},
          h('time', {}, at(e.time)),
          ` ${e.reason} ${e.object}: ${e.message}${e.count > 1 ? ` (x${e.count})` : ''}`,
        ),
      );
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
      {
        title,
        unit,
        markers: markers(),
        range: zoomRange(v),
        onZoom: setZoom,
        height: 300,
        testId: 'series-chart',
      },
    ),
    first && series.length === 1
      ? h(
          'p',
          {},
          h('a', { href: hashOf({ ...v, open: `name:${first.name}` }) }, `Compare every ${first.name}`),
        )
      : h('span'),
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
    h(
      'p',
      { class: 'muted' },
      `${t.count.toLocaleString('en')} lines from ${t.component}/${t.container}` +
        ` on ${Object.keys(t.pods).length} pods`,
    ),
    timeChart(
      pods.map((p) => ({ label: p.pod, points: p.data })),
      {
        title: 'Lines per second, per pod',
        unit: `per ${rates.bucketMs / 1000} s bucket`,
        markers: markers(),
        range: zoomRange(v),
        onZoom: setZoom,
        testId: 'template-chart',
      },
    ),
    h('h3', {}, `Lines${v.pod ? ` on ${v.pod}` : ''}${v.from !== undefined ? ' in the zoomed range' : ''}`),
    h(
      'p',
      { class: 'muted' },
      lines.truncated ? `The first ${lines.lines.length} lines.` : `${lines.lines.length} lines.`,
    ),
    linesTable(lines.lines),
  ];
}

function linesTable(lines: TemplateLine[]): HTMLElement {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'lines', 'data-testid': 'lines' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'time (UTC)'),
          h('th', { scope: 'col' }, 'pod'),
          h('th', { scope: 'col' }, 'line'),
        ),
      ),
      h(
        'tbody',
        {},
        ...lines.map((l) =>
          h(
            'tr',
            {},
            h('td', { class: 'nowrap' }, at(l.timeMs)),
            h('td', { class: 'nowrap' }, l.pod),
            h('td', {}, h('code', {}, l.text)),
          ),
        ),
      ),
    ),
  );
}

async function changeDetail(id: string): Promise<Node[]> {
  const { change: c } = await get<{ change: ChangeView }>(`changes/${encodeURIComponent(id)}`);
  const rev =
    c.fromRevision !== undefined && c.toRevision !== undefined
      ? ` revision ${c.fromRevision} → ${c.toRevision}`
      : '';
  return [
    h('h2', { 'data-testid': 'change-title' }, `${c.kind} ${c.target}${rev}`),
    h(
      'p',
      { class: 'muted' },
      [
        stamp(c.timeMs),
        c.release ? `release ${c.release}` : '',
        c.author ? `by ${c.author}` : '',
        c.components?.length ? `touches ${c.components.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' · '),
    ),
    c.message ? h('p', {}, c.message) : h('span'),
    diffTable(c.diff),
  ];
}

function diffTable(entries: Array<{ path: string; from?: unknown; to?: unknown }>): HTMLElement {
  return h(
    'table',
    { class: 'diff', 'data-testid': 'diff' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'path'),
        h('th', { scope: 'col' }, 'before'),
        h('th', { scope: 'col' }, 'after'),
      ),
    ),
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
