import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { clock, h } from './dom.js';
import { drawMarkerLines, placeMarkerLabels, timeTicks, valueTicks, type Marker } from './chart-parts.js';

export type { Marker } from './chart-parts.js';

export interface Line {
  label: string;
  /** null leaves a gap (no data), unlike zero. */
  points: Array<[number, number | null]>;
  /** A reference drawn dashed and across gaps (a baseline's level), not measured data. */
  reference?: boolean;
}

export interface ChartOptions {
  title: string;
  unit?: string;
  markers: Marker[];
  /** The x range (unix ms) to show first, from the URL. */
  range?: { from: number; to: number };
  /** Called when the user zooms (undefined when the zoom is reset). */
  onZoom?: (range: { from: number; to: number } | undefined) => void;
  height?: number;
  testId?: string;
}

// Colours chosen to stay apart in light and dark themes and for the common colour-vision types
// (the Okabe-Ito palette).
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8a8a00', '#999999'];

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

const live = new Set<{ u: uPlot; box: HTMLElement }>();
let resizeBound = false;

/** Forgets charts removed from the page (the app re-renders its detail panel). */
export function pruneCharts(): void {
  for (const c of live) {
    if (!c.box.isConnected) {
      c.u.destroy();
      live.delete(c);
    }
  }
}

/** The value axis' range: the data, a margin, and room at the top for marker labels. */
function yRange(min: number, max: number, labels: boolean): uPlot.Range.MinMax {
  const span = max - min || Math.abs(max) || 1;
  const low = min >= 0 && min - span * 0.05 < 0 ? 0 : min - span * 0.05;
  return [low, max + span * (labels ? 0.35 : 0.05)];
}

/**
 * A uPlot time chart of one or more lines sharing an x axis. Drag across it to zoom (or use the
 * buttons, which the keyboard reaches); changes are drawn as vertical lines.
 */
export function timeChart(lines: Line[], opts: ChartOptions): HTMLElement {
  const box = h('div', { class: 'chart-box' });
  const plotEl = h('div', { class: 'chart', 'data-testid': opts.testId });
  const fig = h(
    'figure',
    { class: 'figure' },
    h('figcaption', {}, opts.title, opts.unit ? h('span', { class: 'muted' }, ` (${opts.unit})`) : null),
    box,
  );
  if (lines.every((l) => l.points.length === 0)) {
    box.append(h('p', { class: 'muted' }, 'No points in this series.'));
    return fig;
  }
  const tables: uPlot.AlignedData[] = lines.map((l) => [
    l.points.map((p) => p[0] / 1000),
    l.points.map((p) => p[1]),
  ]);
  const data = tables.length === 1 ? (tables[0] as uPlot.AlignedData) : uPlot.join(tables);
  const xs = data[0] as number[];
  const full = { min: xs[0] ?? 0, max: xs[xs.length - 1] ?? 1 };
  const fg = cssVar('--fg');
  const grid = cssVar('--grid');
  const markers = opts.markers.filter(
    (m) => m.timeMs / 1000 >= full.min - 1 && m.timeMs / 1000 <= full.max + 1,
  );
  const layer = h('div', { class: 'marker-labels' });
  const markerPlugin: uPlot.Plugin = {
    hooks: {
      init: [(u) => u.over.append(layer)],
      draw: [
        (u) => {
          drawMarkerLines(u, markers, (strong) => cssVar(strong ? '--cause' : '--change'));
          placeMarkerLabels(layer, markers, u);
        },
      ],
    },
  };
  let programmatic = false;
  const ticked = (key: 'xTicks' | 'yTicks', labels: string[]): string[] => {
    plotEl.dataset[key] = JSON.stringify(labels);
    return labels;
  };
  const options: uPlot.Options = {
    width: 600,
    height: opts.height ?? 220,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { drag: { x: true, y: false, setScale: true } },
    // The legend names each line and gives its value under the cursor; past a dozen lines it
    // would push the chart off the screen, and the caption says what they are.
    legend: { show: lines.length <= 12 },
    scales: {
      x: { time: true },
      // Headroom above the data for the changes' labels, so they sit over empty plot.
      y: { range: (_u, min, max) => yRange(min, max, markers.length > 0) },
    },
    axes: [
      {
        stroke: fg,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid },
        // The labels drawn are kept on the element too, where a reader of the page (or a test) finds them.
        values: (_u, splits, _i, _space, incr) => ticked('xTicks', timeTicks(splits, incr)),
      },
      {
        stroke: fg,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid },
        size: 60,
        values: (_u, splits, _i, _space, incr) => ticked('yTicks', valueTicks(splits, incr)),
      },
    ],
    series: [
      { label: 'time (UTC)', value: (_u, v) => (v == null ? '—' : clock(v * 1000)) },
      ...lines.map((l, i) => ({
        label: l.label,
        stroke: PALETTE[i % PALETTE.length] as string,
        width: 1.5,
        spanGaps: l.reference ?? false,
        ...(l.reference ? { dash: [6, 4] } : {}),
        points: { show: false },
      })),
    ],
    plugins: [markerPlugin],
    hooks: {
      setScale: [
        (u, key) => {
          if (key !== 'x' || programmatic) return;
          const min = u.scales.x?.min;
          const max = u.scales.x?.max;
          if (min == null || max == null) return;
          const zoomed = min > full.min + 0.5 || max < full.max - 0.5;
          opts.onZoom?.(zoomed ? { from: Math.round(min * 1000), to: Math.round(max * 1000) } : undefined);
        },
      ],
    },
  };
  const u = new uPlot(options, data, plotEl);
  const setX = (min: number, max: number, fromUser: boolean): void => {
    programmatic = !fromUser;
    u.setScale('x', { min, max });
    programmatic = false;
  };
  if (opts.range) setX(opts.range.from / 1000, opts.range.to / 1000, false);
  const zoomBy = (factor: number): void => {
    const min = u.scales.x?.min ?? full.min;
    const max = u.scales.x?.max ?? full.max;
    const mid = (min + max) / 2;
    const half = Math.max(1, ((max - min) / 2) * factor);
    setX(Math.max(full.min, mid - half), Math.min(full.max, mid + half), true);
  };
  const controls = h(
    'div',
    { class: 'chart-controls' },
    h('button', { type: 'button', onclick: () => zoomBy(0.5), 'aria-label': 'Zoom in' }, 'Zoom in'),
    h('button', { type: 'button', onclick: () => zoomBy(2), 'aria-label': 'Zoom out' }, 'Zoom out'),
    h(
      'button',
      { type: 'button', onclick: () => setX(full.min, full.max, true), 'aria-label': 'Reset zoom' },
      'Reset',
    ),
    h('span', { class: 'muted hint' }, 'drag across the chart to zoom; dashed lines are changes'),
  );
  box.append(plotEl, controls);
  live.add({ u, box });
  requestAnimationFrame(() =>
    u.setSize({ width: Math.max(300, box.clientWidth), height: opts.height ?? 220 }),
  );
  if (!resizeBound) {
    resizeBound = true;
    window.addEventListener('resize', () => {
      for (const c of live)
        if (c.box.isConnected) c.u.setSize({ width: Math.max(300, c.box.clientWidth), height: c.u.height });
    });
  }
  return fig;
}
