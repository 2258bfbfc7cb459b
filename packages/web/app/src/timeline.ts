// The timeline across components: one lane per component, with a mark per change, event and
// anomaly, over a UTC time axis, above the same entries as a list that the keyboard can walk.
import type { Report, TimelineItem } from './api.js';
import { actionList, h, section } from './dom.js';
import { at, go, state, type View } from './state.js';

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element with its attributes. */
function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag) as SVGElement;
  for (const [k, val] of Object.entries(attrs)) el.setAttribute(k, String(val));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** The report's anomalies in the view, as timeline entries. */
export function anomalyItems(report: Report | null, v: View): TimelineItem[] {
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
export function timelineSection(items: TimelineItem[], v: View): HTMLElement {
  const win = {
    from: Date.parse(state.overview.manifest.window.from),
    to: Date.parse(state.overview.manifest.window.to),
  };
  const laneOf = (i: TimelineItem): string => i.component ?? (i.kind === 'change' ? 'changes' : 'cluster');
  const lanes = [...new Set(items.map(laneOf))].sort();
  // Drawn at the width of the panel it goes in (the side column as last drawn, or as the layout
  // will make it), so that its text is drawn at its own size, not scaled down on a narrow screen.
  const side =
    document.querySelector('.side')?.clientWidth ??
    (innerWidth <= 900 ? innerWidth - 32 : Math.max(320, (innerWidth - 48) * 0.36));
  const W = Math.round(Math.min(700, Math.max(300, side - 26)));
  const rowH = 20;
  // Lane labels get the room the longest needs (about 7 px a character at 12 px), up to a third
  // of the width; a longer one is cut with an ellipsis, never crossed by its lane's line.
  const chars = Math.min(20, Math.max(6, ...lanes.map((l) => l.length)));
  const left = chars * 7 + 8;
  const fitLabel = (l: string): string => (l.length > chars ? `${l.slice(0, chars - 1)}…` : l);
  const axisY = Math.max(1, lanes.length) * rowH + 8;
  const svg = svgEl('svg', {
    viewBox: `0 0 ${W} ${axisY + 14}`,
    class: 'lanes',
    role: 'img',
    'aria-label':
      `Timeline of ${items.length} changes, events and anomalies` + ` across ${lanes.length} components`,
  });
  const x = (t: number): number => left + ((t - win.from) / Math.max(1, win.to - win.from)) * (W - left - 10);
  lanes.forEach((lane, i) => {
    const y = i * rowH + 12;
    const label = svgEl('text', { x: 0, y: y + 4, class: 'lane-label' }, fitLabel(lane));
    label.append(svgEl('title', {}, lane));
    svg.append(label, svgEl('line', { x1: left, x2: W - 10, y1: y, y2: y, class: 'lane' }));
  });
  // A time axis (UTC) under the lanes: a round step that gives at most five ticks.
  const span = Math.max(1, win.to - win.from);
  const day = 86_400_000;
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440, 2880, 10080, 20160, 43200, 129600];
  const step = steps.map((m) => m * 60_000).find((s) => span / s <= 5) ?? span;
  // A tick at the right end is written left of its mark, inside the drawing.
  const anchor = (at: number): string => (at > W - 30 ? 'end' : 'middle');
  svg.append(svgEl('line', { x1: left, x2: W - 10, y1: axisY - 4, y2: axisY - 4, class: 'axis' }));
  for (let t = Math.ceil(win.from / step) * step; t <= win.to; t += step) {
    // Ticks a day or more apart are dates (month-day), closer ones times of day.
    const text = new Date(t).toISOString().slice(step >= day ? 5 : 11, step >= day ? 10 : 16);
    svg.append(
      svgEl('line', { x1: x(t), x2: x(t), y1: axisY - 4, y2: axisY, class: 'axis' }),
      svgEl('text', { x: x(t), y: axisY + 10, 'text-anchor': anchor(x(t)), class: 'tick' }, text),
    );
  }
  svg.append(svgEl('text', { x: 0, y: axisY + 10, class: 'tick zone' }, 'UTC'));
  for (const it of items) {
    const cx = x(it.timeMs);
    const cy = lanes.indexOf(laneOf(it)) * rowH + 12;
    const cls = `mark ${it.kind} ${it.severity}`;
    const mark =
      it.kind === 'change'
        ? svgEl('rect', { x: cx - 2, y: cy - 7, width: 4, height: 14, class: cls })
        : svgEl('circle', { cx, cy, r: 4, class: cls });
    mark.append(svgEl('title', {}, `${at(it.timeMs)} ${it.title}`));
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
      h(
        'span',
        { class: 'grow' },
        it.title,
        it.component ? h('span', { class: 'muted' }, ` · ${it.component}`) : null,
      ),
    ],
    (it) => {
      const o = openOf(it);
      if (o) go({ open: o });
    },
    {
      label: 'Timeline entries',
      className: 'compact',
      testId: 'timeline',
      key: (it) => it.id,
      selected: (it) => openOf(it) !== undefined && openOf(it) === v.open,
    },
  );
  return section(
    'Timeline',
    'h-timeline',
    svg,
    items.length === 0 ? h('p', { class: 'muted' }, 'Nothing happened in this view.') : list,
  );
}
