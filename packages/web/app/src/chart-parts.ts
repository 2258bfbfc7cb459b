// The parts of a chart that uPlot leaves to its user: tick labels that never repeat, and the
// labels of the change markers, laid out so that none covers another.
import type uPlot from 'uplot';
import { h } from './dom.js';

export interface Marker {
  timeMs: number;
  label: string;
  /** The cause of the hypothesis shown: drawn stronger than the other changes. */
  strong?: boolean;
}

const DAY = 86_400;

/**
 * Time tick labels (UTC) for splits in unix seconds `incr` apart: dates when ticks are a day or
 * more apart, else times of day to the precision the step needs (minutes, seconds or
 * milliseconds), each first tick of a new day with its date. Two distinct splits never share a label.
 */
export function timeTicks(splits: number[], incr: number): string[] {
  const spansDays = new Set(splits.map((s) => Math.floor(s / DAY))).size > 1;
  return splits.map((s, i) => {
    const iso = new Date(s * 1000).toISOString();
    if (incr >= DAY) return iso.slice(5, 10);
    const time = iso.slice(11, incr < 1 ? 23 : incr < 60 ? 19 : 16);
    const prev = splits[i - 1];
    const newDay = spansDays && (prev === undefined || Math.floor(prev / DAY) !== Math.floor(s / DAY));
    return newDay ? `${iso.slice(5, 10)} ${time}` : time;
  });
}

/** Value tick labels with as many decimals as the step needs, so that neighbours differ. */
export function valueTicks(splits: number[], incr: number): string[] {
  const decimals = Math.min(12, Math.max(0, -Math.floor(Math.log10(incr > 0 ? incr : 1) + 1e-9)));
  const f = new Intl.NumberFormat('en', { maximumFractionDigits: decimals, minimumFractionDigits: 0 });
  return splits.map((s) => f.format(s));
}

// Rows of labels above the plot before the rest are left to their lines' tooltips: more would
// cover the data they mark.
const MAX_ROWS = 3;
const ROW_PX = 15;
const GAP_PX = 6;

/**
 * Places the markers' labels (HTML, in the plot's overlay, so they are text the reader can select
 * and a test can measure) beside their lines: right of the line, or left of it at the plot's
 * right edge; a label that would touch one already placed takes the next row. The cause is
 * placed first, so it always has the top row.
 */
export function placeMarkerLabels(layer: HTMLElement, markers: Marker[], u: uPlot): void {
  layer.replaceChildren();
  const width = u.over.clientWidth;
  const shown = markers
    .map((m) => ({ m, x: u.valToPos(m.timeMs / 1000, 'x') }))
    .filter(({ x }) => x >= 0 && x <= width)
    .sort((a, b) => Number(b.m.strong ?? false) - Number(a.m.strong ?? false) || a.x - b.x);
  const rows: Array<Array<[number, number]>> = [];
  let left = 0;
  for (const { m, x } of shown) {
    const el = h(
      'span',
      { class: `marker-label${m.strong ? ' strong' : ''}`, title: m.label, 'data-testid': 'marker-label' },
      m.label,
    );
    layer.append(el);
    const w = el.offsetWidth;
    let x0 = x + 4 + w > width ? x - 4 - w : x + 4;
    x0 = Math.max(0, x0);
    const free = (row: Array<[number, number]>): boolean =>
      row.every(([a, b]) => x0 > b + GAP_PX || x0 + w < a - GAP_PX);
    let row = rows.findIndex(free);
    if (row < 0 && rows.length < MAX_ROWS) row = rows.push([]) - 1;
    if (row < 0) {
      el.remove();
      left += 1;
      continue;
    }
    rows[row]?.push([x0, x0 + w]);
    el.style.left = `${x0}px`;
    el.style.top = `${2 + row * ROW_PX}px`;
  }
  layer.dataset['hidden'] = String(left);
}

/** Draws each marker as a vertical line over the plot: the cause solid, other changes dashed. */
export function drawMarkerLines(u: uPlot, markers: Marker[], colour: (strong: boolean) => string): void {
  const ctx = u.ctx;
  const dpr = devicePixelRatio;
  ctx.save();
  for (const m of markers) {
    const x = u.valToPos(m.timeMs / 1000, 'x', true);
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
    ctx.strokeStyle = colour(m.strong ?? false);
    ctx.lineWidth = (m.strong ? 2.5 : 1.5) * dpr;
    ctx.setLineDash(m.strong ? [] : [6 * dpr, 4 * dpr]);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
  }
  ctx.restore();
}
