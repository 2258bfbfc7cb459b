import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SeriesEvidence } from '../types.js';

/** One line of a chart: its legend label and its values (null where it has none). */
export interface ChartLine {
  label: string;
  ys: Array<number | null>;
  /** A level the line is compared with (its median before), drawn dashed across in its colour. */
  ref?: number;
}

/** One chart of the HTML report, as its script draws it with uPlot. */
export interface ChartSpec {
  /** The series' names and labels, as the legend shows them. */
  lines: ChartLine[];
  unit: string;
  /** Unix seconds, shared by the lines. */
  xs: number[];
  /** The cause's time (seconds), drawn solid; other changes dashed. */
  mark?: number;
  /** What the solid line is, in the key: `the cause` unless said. */
  markLabel?: string;
  others: number[];
  from: number;
  to: number;
}

let assets: { js: string; css: string } | undefined;

/**
 * uPlot's script and stylesheet, read once from the installed package: the report inlines them
 * so that it stays one file that opens offline.
 */
export function uplotAssets(): { js: string; css: string } {
  if (!assets) {
    const require = createRequire(import.meta.url);
    const dir = require.resolve('uplot/dist/uPlot.iife.min.js').replace(/uPlot\.iife\.min\.js$/, '');
    assets = {
      js: readFileSync(`${dir}uPlot.iife.min.js`, 'utf8'),
      css: readFileSync(`${dir}uPlot.min.css`, 'utf8'),
    };
  }
  return assets;
}

/** A series' name and labels, for a legend. */
function seriesLabel(ev: SeriesEvidence): string {
  // The `source` label names the reader that wrote the series, not the series (core's seriesKey).
  const labels = Object.entries(ev.labels ?? {})
    .filter(([k]) => k !== 'source')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return labels ? `${ev.name} {${labels}}` : ev.name;
}

/** The chart of a series' evidence over the window, the cause marked and the other changes faint. */
export function chartSpec(
  ev: SeriesEvidence,
  from: number,
  to: number,
  mark: number | undefined,
  others: number[],
): ChartSpec {
  return {
    lines: [{ label: seriesLabel(ev), ys: ev.points.map(([, v]) => v) }],
    unit: ev.unit ?? '',
    xs: ev.points.map(([t]) => t / 1000),
    ...(mark !== undefined ? { mark: mark / 1000 } : {}),
    others: others.map((t) => t / 1000),
    from: from / 1000,
    to: to / 1000,
  };
}

/**
 * One chart of several series of one unit (the calls of a slow edge), each with its level before
 * drawn across: their times merged, a gap where a series has no point. `mark` is the onset, named
 * `markLabel` in the key.
 */
export function linesSpec(
  lines: Array<{ label: string; ev: SeriesEvidence }>,
  window: { from: number; to: number },
  mark: { time: number; label: string },
  others: number[],
): ChartSpec {
  const times = [...new Set(lines.flatMap(({ ev }) => ev.points.map(([t]) => t)))].sort((a, b) => a - b);
  return {
    lines: lines.map(({ label, ev }) => {
      const at = new Map(ev.points);
      return {
        label,
        ys: times.map((t) => at.get(t) ?? null),
        ...(ev.before !== undefined ? { ref: ev.before } : {}),
      };
    }),
    unit: lines[0]?.ev.unit ?? '',
    xs: times.map((t) => t / 1000),
    mark: mark.time / 1000,
    markLabel: mark.label,
    others: others.map((t) => t / 1000),
    from: window.from / 1000,
    to: window.to / 1000,
  };
}

/** JSON that may sit inside a <script> element: no `<` can close it or open a comment. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Draws every `<div class="chart" data-chart="N">` from the JSON in `#hs-charts`: UTC time axis,
 * a legend naming the series, the cause as a solid line and other changes dashed.
 */
export const CHART_SCRIPT = `
(function () {
  var specs = JSON.parse(document.getElementById('hs-charts').textContent);
  var css = getComputedStyle(document.documentElement);
  var color = function (name) { return css.getPropertyValue(name).trim(); };
  var DAY = 86400;
  // A colour per line, from the page's palette (light or dark).
  var stroke = function (i) { return color(['--line', '--line2', '--line3', '--line4'][i % 4]); };
  // 24-hour UTC times to the precision the step needs, dates a day apart or at a new day: no two
  // ticks share a label (uPlot's defaults write 9:00am, in 12-hour form).
  var timeTicks = function (splits, incr) {
    var days = {};
    splits.forEach(function (s) { days[Math.floor(s / DAY)] = true; });
    var many = Object.keys(days).length > 1;
    return splits.map(function (s, i) {
      var iso = new Date(s * 1000).toISOString();
      if (incr >= DAY) return iso.slice(5, 10);
      var time = iso.slice(11, incr < 1 ? 23 : incr < 60 ? 19 : 16);
      var fresh = many && (i === 0 || Math.floor(splits[i - 1] / DAY) !== Math.floor(s / DAY));
      return fresh ? iso.slice(5, 10) + ' ' + time : time;
    });
  };
  var valueTicks = function (splits, incr) {
    var d = Math.min(12, Math.max(0, -Math.floor(Math.log10(incr > 0 ? incr : 1) + 1e-9)));
    var f = new Intl.NumberFormat('en', { maximumFractionDigits: d });
    return splits.map(function (s) { return f.format(s); });
  };
  // The labels drawn, kept on the element where a reader of the page (or a test) finds them.
  var kept = function (el, key, labels) { el.dataset[key] = JSON.stringify(labels); return labels; };
  // What the vertical lines are, under the legend.
  var key = function (el, s) {
    var p = document.createElement('p');
    p.className = 'key';
    var add = function (cls, text) {
      var sw = document.createElement('span');
      sw.className = 'swatch ' + cls;
      p.append(sw, document.createTextNode(text));
    };
    if (s.mark !== undefined) add('cause', ' ' + (s.markLabel || 'the cause') + ' ');
    if (s.others.length > 0) add('other', ' other changes ');
    if (s.lines.some(function (l) { return l.ref !== undefined; })) add('ref', ' before (the median it is compared with)');
    if (p.childNodes.length > 0) el.append(p);
  };
  document.querySelectorAll('div.chart').forEach(function (el) {
    var s = specs[Number(el.getAttribute('data-chart'))];
    var lines = {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          var draw = function (t, strong) {
            var x = u.valToPos(t, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.strokeStyle = color(strong ? '--mark' : '--other');
            ctx.lineWidth = (strong ? 2 : 1) * devicePixelRatio;
            ctx.setLineDash(strong ? [] : [4 * devicePixelRatio, 3 * devicePixelRatio]);
            ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
          };
          s.others.forEach(function (t) { draw(t, false); });
          if (s.mark !== undefined) draw(s.mark, true);
          s.lines.forEach(function (l, i) {
            if (l.ref === undefined) return;
            var y = u.valToPos(l.ref, 'y', true);
            if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
            ctx.strokeStyle = stroke(i);
            ctx.lineWidth = devicePixelRatio;
            ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
            ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
          });
          ctx.restore();
        }]
      }
    };
    new uPlot({
      width: Math.max(300, el.clientWidth),
      height: 170,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      scales: { x: { time: true, min: s.from, max: s.to } },
      axes: [
        {
          stroke: color('--muted'),
          grid: { stroke: color('--grid') },
          values: function (u, splits, i, space, incr) { return kept(el, 'xTicks', timeTicks(splits, incr)); }
        },
        {
          stroke: color('--muted'),
          grid: { stroke: color('--grid') },
          size: 56,
          values: function (u, splits, i, space, incr) { return kept(el, 'yTicks', valueTicks(splits, incr)); }
        }
      ],
      series: [{ label: 'time (UTC)' }].concat(s.lines.map(function (l, i) {
        return { label: l.label + (s.unit ? ' (' + s.unit + ')' : ''), stroke: stroke(i), width: 1.5 };
      })),
      plugins: [lines]
    }, [s.xs].concat(s.lines.map(function (l) { return l.ys; })), el);
    key(el, s);
  });
})();
`;
