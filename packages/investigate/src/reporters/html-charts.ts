import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SeriesEvidence } from '../types.js';

/** One chart of the HTML report, as its script draws it with uPlot. */
export interface ChartSpec {
  /** The series' name and labels, as the legend shows them. */
  label: string;
  unit: string;
  /** Unix seconds and values. */
  xs: number[];
  ys: number[];
  /** The cause's time (seconds), drawn solid; other changes dashed. */
  mark?: number;
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

/** The chart of a series' evidence over the window, the cause marked and the other changes faint. */
export function chartSpec(
  ev: SeriesEvidence,
  from: number,
  to: number,
  mark: number | undefined,
  others: number[],
): ChartSpec {
  // The `source` label names the reader that wrote the series, not the series (core's seriesKey).
  const labels = Object.entries(ev.labels ?? {})
    .filter(([k]) => k !== 'source')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return {
    label: labels ? `${ev.name} {${labels}}` : ev.name,
    unit: ev.unit ?? '',
    xs: ev.points.map(([t]) => t / 1000),
    ys: ev.points.map(([, v]) => v),
    ...(mark !== undefined ? { mark: mark / 1000 } : {}),
    others: others.map((t) => t / 1000),
    from: from / 1000,
    to: to / 1000,
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
    if (s.mark !== undefined) add('cause', ' the cause ');
    if (s.others.length > 0) add('other', ' other changes');
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
      series: [
        { label: 'time (UTC)' },
        { label: s.label + (s.unit ? ' (' + s.unit + ')' : ''), stroke: color('--line'), width: 1.5 }
      ],
      plugins: [lines]
    }, [s.xs, s.ys], el);
    key(el, s);
  });
})();
`;
