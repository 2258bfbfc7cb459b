import type { Finding, Hypothesis, Report, SeriesEvidence } from '../types.js';
import { clock, showValue, sinceText, stamp, stillFailingHeading } from './format.js';
import type { Reporter } from './types.js';
import { htmlText } from './safe-text.js';
import {
  CHART_SCRIPT,
  chartSpec,
  linesSpec,
  scriptJson,
  uplotAssets,
  type ChartSpec,
} from './html-charts.js';
import { CALLS_CSS, callGraphHtml, callGraphOf, slowEdgeLines, type SlowEdge } from './html-calls.js';

const esc = htmlText;

const W = 640;
const H = 150;
const PAD = { l: 48, r: 10, t: 10, b: 22 };

function fmtAxis(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 10 || v === 0) return v.toFixed(0);
  return v.toPrecision(2);
}

/** An inline SVG line chart of a series, with the cause marked and the other changes faint. */
export function svgChart(
  ev: SeriesEvidence,
  from: number,
  to: number,
  mark: number | undefined,
  others: number[],
): string {
  const pts = ev.points;
  const span = Math.max(1, to - from);
  let lo = 0;
  let hi = 0;
  for (const [, v] of pts) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi === lo) hi = lo + 1;
  const x = (t: number): number => PAD.l + ((t - from) / span) * (W - PAD.l - PAD.r);
  const y = (v: number): number => PAD.t + (1 - (v - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
  const path = pts.map(([t, v], i) => `${i === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
  const vline = (t: number, cls: string): string =>
    t >= from && t <= to
      ? `<line class="${cls}" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${PAD.t}" y2="${H - PAD.b}"/>`
      : '';
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const t = from + f * span;
      return `<text class="tick" x="${x(t).toFixed(1)}" y="${H - 6}" text-anchor="${f === 0 ? 'start' : f === 1 ? 'end' : 'middle'}">${clock(t).slice(0, 5)}</text>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(ev.name)}">
<line class="axis" x1="${PAD.l}" x2="${W - PAD.r}" y1="${H - PAD.b}" y2="${H - PAD.b}"/>
<text class="tick" x="${PAD.l - 4}" y="${PAD.t + 8}" text-anchor="end">${fmtAxis(hi)}</text>
<text class="tick" x="${PAD.l - 4}" y="${H - PAD.b}" text-anchor="end">${fmtAxis(lo)}</text>
${ticks}${others.map((t) => vline(t, 'other')).join('')}${mark === undefined ? '' : vline(mark, 'mark')}
<path class="line" d="${path}"/>
</svg>`;
}

function stillFailingHtml(report: Report): string {
  const still = report.atCollection ?? [];
  if (still.length === 0) return '';
  const rows = still.map(
    (e) =>
      `<tr><td class="warn">${esc(e.what)}</td><td><code>${esc(e.object)}</code></td><td>${esc(e.component)}</td><td><time>${esc(sinceText(e.since, report))}</time></td><td>${esc(e.detail)}</td></tr>`,
  );
  return `<section class="still"><h2>${esc(stillFailingHeading(report))}</h2>
<table><tr><th>what</th><th>object</th><th>component</th><th>since</th><th>detail</th></tr>
${rows.join('\n')}
</table></section>`;
}

function seriesOf(f: Finding): SeriesEvidence | undefined {
  return f.evidence.find((e): e is SeriesEvidence => e.type === 'series');
}

/** The slowed calls' duration over the window, each with its level before, the onset marked. */
function slowEdgeChart(
  slow: SlowEdge,
  from: number,
  to: number,
  changeTimes: number[],
  charts: ChartSpec[],
): string {
  const { title, lines } = slowEdgeLines(slow);
  const first = lines[0];
  if (!first) return '';
  const onset = { time: slow.finding.time, label: 'slowed from here' };
  charts.push(linesSpec(lines, { from, to }, onset, changeTimes));
  return `<figure><figcaption title="${esc(slow.finding.signal)}">${esc(title)}</figcaption><div class="chart" data-chart="${charts.length - 1}"></div><noscript>${svgChart(
    first.ev,
    from,
    to,
    onset.time,
    changeTimes,
  )}</noscript></figure>`;
}

function hypothesisHtml(
  h: Hypothesis,
  report: Report,
  byId: Map<string, Finding>,
  changeTimes: number[],
  charts: ChartSpec[],
  slow: SlowEdge | undefined,
): string {
  const from = Date.parse(report.window.from);
  const to = Date.parse(report.window.to);
  const parts: string[] = [];
  parts.push(
    `<section class="hyp"><h2>${h.rank}. ${esc(h.title)} <span class="score">score ${h.score.toFixed(2)}</span></h2>`,
  );
  if (h.cause.type === 'change' && h.cause.diff.length > 0) {
    parts.push('<table class="diff"><tr><th>path</th><th>from</th><th>to</th></tr>');
    for (const d of h.cause.diff)
      parts.push(
        `<tr><td><code>${esc(d.path)}</code></td><td>${esc(showValue(d.from))}</td><td>${esc(showValue(d.to))}</td></tr>`,
      );
    parts.push('</table>');
  }
  parts.push(`<ul class="reasons">${h.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`);
  parts.push('<ol class="chain">');
  for (const s of h.chain)
    parts.push(`<li class="${s.role}"><time>${clock(s.time)}</time> <b>${s.role}</b> ${esc(s.title)}</li>`);
  parts.push('</ol>');
  parts.push(`<p class="next">Next step: <code>${esc(h.nextStep)}</code></p>`);
  if (h.nextCommands && h.nextCommands.length > 0)
    parts.push(`<pre class="commands"><code>${h.nextCommands.map(esc).join('\n')}</code></pre>`);
  const mark = h.cause.type === 'change' ? h.time : undefined;
  if (slow) parts.push(callGraphHtml(slow.graph), slowEdgeChart(slow, from, to, changeTimes, charts));
  const moved = h.explains
    .map((id) => byId.get(id))
    .filter((f): f is Finding => f !== undefined && f !== slow?.finding && seriesOf(f) !== undefined)
    .slice(0, 8);
  // Drawn by uPlot from the JSON at the end of the page; the SVG is for readers without scripts.
  for (const f of moved) {
    const ev = seriesOf(f) as SeriesEvidence;
    const others = changeTimes.filter((t) => t !== mark);
    charts.push(chartSpec(ev, from, to, mark, others));
    parts.push(
      `<figure><figcaption title="${esc(f.signal)}">${esc(f.title)} <span class="unit">(${esc(ev.unit)})</span></figcaption><div class="chart" data-chart="${charts.length - 1}"></div><noscript>${svgChart(
        ev,
        from,
        to,
        mark,
        others,
      )}</noscript></figure>`,
    );
  }
  parts.push('</section>');
  return parts.join('\n');
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#59636e;--line:#0969da;--line2:#bf8700;--line3:#8250df;--line4:#1a7f37;--mark:#cf222e;--other:#8c959f;--grid:#eaeef2;--card:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#4493f8;--line2:#d29922;--line3:#a371f7;--line4:#3fb950;--mark:#f85149;--other:#6e7681;--grid:#21262d;--card:#161b22}}
body{font:15px/1.45 system-ui,sans-serif;background:var(--bg);color:var(--fg);max-width:900px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.4rem}h2{font-size:1.1rem}.score,.unit,.meta{color:var(--muted);font-weight:normal}
.summary{font-size:1.1rem;font-weight:600}.hyp{background:var(--card);border-radius:8px;padding:.5rem 1rem;margin:1rem 0}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;border-bottom:1px solid var(--other)}
.chain{padding-left:1.2rem}.chain .effect b{color:var(--mark)}time{font-variant-numeric:tabular-nums;color:var(--muted)}
figure{margin:.5rem 0}figcaption{font-size:.85rem}svg{width:100%;height:auto}.chart{width:100%}
.u-legend{font-size:.8rem;color:var(--fg)}
.line{fill:none;stroke:var(--line);stroke-width:1.5}.mark{stroke:var(--mark);stroke-width:2;stroke-dasharray:4 3}
.other{stroke:var(--other);stroke-width:1;stroke-dasharray:2 3}.axis{stroke:var(--other)}.tick{fill:var(--muted);font-size:10px}
.warn{color:var(--mark)}
.key{font-size:12px;color:var(--muted);text-align:center;margin:2px 0}.swatch{display:inline-block;width:14px;height:0;vertical-align:middle;border-top:2px solid var(--mark)}.swatch.other{border-top:1px dashed var(--other)}
.u-legend{font-size:12px}.u-legend .u-label{max-width:min(60ch,70vw);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}`;

/** One self-contained HTML file, readable offline: hypotheses, chains and charts with the change marked. */
export const htmlReporter: Reporter = {
  name: 'html',
  description: 'one self-contained HTML file with charts of what moved (offline, light and dark)',
  extension: 'html',
  render(report: Report) {
    const byId = new Map(report.findings.map((f) => [f.id, f]));
    const charts: ChartSpec[] = [];
    const changeTimes = report.findings.filter((f) => f.kind === 'change').map((f) => f.time);
    const body: string[] = [];
    body.push(`<h1>hindsight investigation</h1>`);
    body.push(
      `<p class="meta">${esc(report.bundle)}: ${stamp(report.window.from)} to ${stamp(report.window.to)}; ${report.stats.logLines} log lines, ${report.stats.series} series, ${report.stats.changes} changes.</p>`,
    );
    body.push(`<p class="summary">${esc(report.summary)}</p>`);
    const still = stillFailingHtml(report);
    if (still) body.push(still);
    // The slow edge, drawn in the first hypothesis whose latency finding names it.
    const calls = report.verdict !== 'none' ? callGraphOf(report) : undefined;
    if (report.verdict !== 'none')
      for (const h of report.hypotheses) {
        body.push(
          hypothesisHtml(h, report, byId, changeTimes, charts, h === calls?.hypothesis ? calls : undefined),
        );
      }
    if (report.warnings.length > 0) {
      body.push(`<h2 class="warn">Warnings</h2><ul>`);
      for (const w of report.warnings)
        body.push(`<li><code>${esc(w.code)}</code> ${esc(w.where ?? w.name)}: ${esc(w.message)}</li>`);
      body.push('</ul>');
    }
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>hindsight: ${esc(report.summary.slice(0, 80))}</title><style>${CSS}${calls ? CALLS_CSS : ''}</style>${charts.length > 0 ? `<style>${uplotAssets().css}</style>` : ''}</head>
<body>
${body.join('\n')}
${
  charts.length > 0
    ? `<script type="application/json" id="hs-charts">${scriptJson(charts)}</script>
<script>${uplotAssets().js}</script>
<script>${CHART_SCRIPT}</script>`
    : ''
}
</body></html>
`;
  },
};
