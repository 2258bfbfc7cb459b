// The slow edge in the HTML report: the call graph around the component a latency finding blames,
// drawn as a static SVG (no script, so it prints and opens anywhere). The report carries no spans,
// only what the latency findings say: the call edges that moved (series evidence labelled `caller`
// and `callee`, with their medians before and after) and the components that only waited. Edges
// that did not move are not in a report; `hindsight serve` draws them from the bundle's spans.
import { fmt } from '../evidence.js';
import type { Finding, Hypothesis, Report, SeriesEvidence } from '../types.js';
import { htmlText as esc } from './safe-text.js';

/** How a call edge moved, as its evidence says. */
interface Move {
  /** What was measured: `p50` for spans, else the series' name. */
  measure: string;
  before: number;
  after: number;
  unit: string;
}

/** One call drawn: moved (red, labelled), known but unchanged (grey), or a wait (dashed). */
export interface DrawnEdge {
  caller: string;
  callee: string;
  move?: Move;
  /** A bystander's wait on the focus, directly or through calls the report does not name. */
  waited?: boolean;
}

/** The call graph around one blamed component, from a report's latency findings. */
export interface CallGraph {
  focus: string;
  /** The focus's own work, when a latency finding says it slowed. */
  self?: Move;
  callers: string[];
  callees: string[];
  edges: DrawnEdge[];
  bystanders: Set<string>;
  /** What was left out: `3 more callers`. */
  left: string[];
}

// Components drawn per side at most; a service called by forty others shows the moved ones first.
const MAX_SIDE = 8;
// Names past this many characters are cut with an ellipsis (whole in the node's tooltip).
const MAX_NAME = 28;
// Monospace at 12 units: every character 0.6 em wide, so boxes and gaps fit their text exactly.
const FONT = 12;
const CHAR = 7.2;
const NODE_H = 26;
const ROW_H = 40;
const PAD = 6;

function isEdgeEvidence(e: Finding['evidence'][number]): e is SeriesEvidence {
  return e.type === 'series' && Boolean(e.labels['caller']) && Boolean(e.labels['callee']);
}

/** A move in ms where the unit is a time (caller-to-callee series are often in seconds). */
function moveOf(ev: SeriesEvidence, measure: string): Move | undefined {
  if (ev.before === undefined || ev.after === undefined) return undefined;
  const scale = ev.unit === 's' ? 1000 : 1;
  const unit = ev.unit === 's' ? 'ms' : ev.unit;
  return { measure, before: ev.before * scale, after: ev.after * scale, unit };
}

/** The slow edge of a report: the hypothesis and latency finding that name it, and its graph. */
export interface SlowEdge {
  hypothesis: Hypothesis;
  finding: Finding;
  graph: CallGraph;
}

/** The first hypothesis (by rank) explaining a latency finding that names a call edge or a bystander. */
function latencyFocus(report: Report): { h: Hypothesis; f: Finding } | undefined {
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  for (const h of report.hypotheses)
    for (const id of h.explains) {
      const f = byId.get(id);
      if (!f || f.analyzer !== 'latency' || f.component === undefined) continue;
      if (f.evidence.some(isEdgeEvidence) || (f.bystanders?.length ?? 0) > 0) return { h, f };
    }
  return undefined;
}

function rankNames(names: string[], first: (n: string) => boolean, what: string, left: string[]): string[] {
  const all = [...new Set(names)].sort((a, b) => Number(first(b)) - Number(first(a)) || a.localeCompare(b));
  if (all.length > MAX_SIDE) left.push(`${all.length - MAX_SIDE} more ${what}`);
  return all.slice(0, MAX_SIDE);
}

/**
 * The call graph of the report's top latency hypothesis: the component its latency finding blames,
 * every call into or out of it that a latency finding shows moved, and the callers that only waited
 * on it. Undefined when no hypothesis explains a latency finding with an edge or a bystander.
 */
export function callGraphOf(report: Report): SlowEdge | undefined {
  const found = latencyFocus(report);
  if (!found) return undefined;
  const focus = found.f.component as string;
  const latency = report.findings.filter((f) => f.analyzer === 'latency');
  const edges = new Map<string, DrawnEdge>();
  for (const f of latency)
    for (const ev of f.evidence.filter(isEdgeEvidence)) {
      const caller = ev.labels['caller'] as string;
      const callee = ev.labels['callee'] as string;
      if (caller === callee || (caller !== focus && callee !== focus)) continue;
      const key = `${caller}\u0000${callee}`;
      // Spans' measures carry only caller and callee; a series keeps its own labels and name.
      const measure = ev.labels['source'] === undefined ? 'p50' : ev.name;
      const move = moveOf(ev, measure);
      const had = edges.get(key);
      if (!had || (!had.move && move)) edges.set(key, { caller, callee, ...(move ? { move } : {}) });
    }
  const bystanders = new Set(latency.filter((f) => f.component === focus).flatMap((f) => f.bystanders ?? []));
  bystanders.delete(focus);
  const linked = new Set([...edges.values()].flatMap((e) => [e.caller, e.callee]));
  for (const b of bystanders)
    if (!linked.has(b)) edges.set(`${b}\u0000${focus}`, { caller: b, callee: focus, waited: true });
  const list = [...edges.values()];
  const left: string[] = [];
  const moved = new Set(list.filter((e) => e.move).flatMap((e) => [e.caller, e.callee]));
  const callers = rankNames(
    list.filter((e) => e.callee === focus).map((e) => e.caller),
    (n) => moved.has(n),
    'callers',
    left,
  );
  const callees = rankNames(
    list.filter((e) => e.caller === focus && !callers.includes(e.callee)).map((e) => e.callee),
    (n) => moved.has(n),
    'callees',
    left,
  );
  const drawn = new Set([focus, ...callers, ...callees]);
  const selfEv = latency
    .filter((f) => f.component === focus && f.signal.startsWith('latency:self:'))
    .flatMap((f) => f.evidence)
    .find((e): e is SeriesEvidence => e.type === 'series');
  const self = selfEv ? moveOf(selfEv, 'own work p50') : undefined;
  return {
    hypothesis: found.h,
    finding: found.f,
    graph: {
      focus,
      ...(self ? { self } : {}),
      callers,
      callees,
      edges: list.filter((e) => drawn.has(e.caller) && drawn.has(e.callee)),
      bystanders,
      left,
    },
  };
}

/**
 * The series of the finding's slowed calls drawn in the graph, for one chart of their duration
 * before and after: those of the first one's unit, each named by the end that is not the focus.
 */
export function slowEdgeLines(se: SlowEdge): {
  title: string;
  lines: Array<{ label: string; ev: SeriesEvidence }>;
} {
  const { finding, graph } = se;
  const drawn = new Set([graph.focus, ...graph.callers, ...graph.callees]);
  const evs = finding.evidence
    .filter(isEdgeEvidence)
    .filter((e) => drawn.has(e.labels['caller'] as string) && drawn.has(e.labels['callee'] as string));
  const same = evs.filter((e) => e.unit === evs[0]?.unit);
  const into = same.every((e) => e.labels['callee'] === graph.focus);
  const out = same.every((e) => e.labels['caller'] === graph.focus);
  const oneMeasure = new Set(same.map((e) => e.name)).size === 1;
  const lines = same.map((ev) => {
    const caller = ev.labels['caller'] as string;
    const callee = ev.labels['callee'] as string;
    const who = into ? `from ${caller}` : out ? `to ${callee}` : `${caller} -> ${callee}`;
    return { label: oneMeasure ? who : `${who}: ${ev.name}`, ev };
  });
  const what = into
    ? `the calls into ${graph.focus}`
    : out
      ? `${graph.focus}'s calls out`
      : 'the slowed calls';
  const measure = oneMeasure && same[0] ? `${same[0].name}, ` : '';
  const bucket = bucketOf(same);
  return {
    title: `Duration of ${what}, before and after (${measure}${same[0]?.unit ?? ''}${bucket ? `, median per ${bucket}` : ''})`,
    lines,
  };
}

/** The spacing of the points (their bucket), in words: `5 s`, `1 min`. */
function bucketOf(evs: SeriesEvidence[]): string | undefined {
  let gap = Number.POSITIVE_INFINITY;
  for (const ev of evs)
    for (let i = 1; i < ev.points.length; i++)
      gap = Math.min(gap, (ev.points[i] as [number, number])[0] - (ev.points[i - 1] as [number, number])[0]);
  if (!Number.isFinite(gap) || gap <= 0) return undefined;
  return gap % 60_000 === 0 ? `${gap / 60_000} min` : `${fmt(gap / 1000)} s`;
}

/** `p50 0.70 -> 40.7 ms` */
export function moveLabel(m: Move): string {
  return `${m.measure} ${fmt(m.before)} -> ${fmt(m.after)} ${m.unit}`.trim();
}

function cut(name: string): string {
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name;
}

const widthOf = (text: string): number => text.length * CHAR;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function nodeSvg(name: string, box: Box, kind: string, tip: string, sub?: string): string {
  const cx = (box.x + box.w / 2).toFixed(1);
  const lines = [
    `<text x="${cx}" y="${(box.y + 17).toFixed(1)}" text-anchor="middle">${esc(cut(name))}</text>`,
    ...(sub
      ? [`<text class="sub" x="${cx}" y="${(box.y + 33).toFixed(1)}" text-anchor="middle">${esc(sub)}</text>`]
      : []),
  ];
  return `<g class="${`node ${kind}`.trim()}" data-node="${esc(name)}"><title>${esc(tip)}</title><rect x="${box.x.toFixed(1)}" y="${box.y.toFixed(1)}" width="${box.w.toFixed(1)}" height="${box.h}" rx="4"/>${lines.join('')}</g>`;
}

/** The straight run beside a column that holds its edges' labels: the longest label and a margin. */
function runFor(edges: DrawnEdge[]): number {
  const longest = edges.reduce((w, e) => Math.max(w, e.move ? widthOf(moveLabel(e.move)) : 0), 0);
  return longest + 14;
}

// Past the labels' run, the edges of a column curve over this much width into the focus.
const BEND = 44;

/** Where everything goes: the focus's box, each neighbour's, and the runs beside the columns. */
interface Layout {
  width: number;
  height: number;
  focus: Box;
  left: Map<string, Box>;
  right: Map<string, Box>;
  leftRun: number;
  rightRun: number;
  into: DrawnEdge[];
  out: DrawnEdge[];
  /** The focus's second line: its own work, when it slowed. */
  sub?: string;
}

function layoutOf(g: CallGraph): Layout {
  const nodeW = (n: string): number => widthOf(cut(n)) + 12;
  const colW = (names: string[]): number => names.reduce((w, n) => Math.max(w, nodeW(n)), 0);
  const into = g.edges.filter((e) => e.callee === g.focus && g.callers.includes(e.caller));
  const out = g.edges.filter((e) => e.caller === g.focus && g.callees.includes(e.callee));
  const [leftRun, rightRun] = [runFor(into), runFor(out)];
  const sub = g.self ? moveLabel(g.self) : undefined;
  const focusW = Math.max(nodeW(g.focus), sub ? widthOf(sub) + 12 : 0);
  const focusH = sub ? 42 : NODE_H;
  const rows = Math.max(g.callers.length, g.callees.length, 1);
  const height = Math.max(rows * ROW_H, focusH + 8) + 2 * PAD;
  const focusX = PAD + (g.callers.length > 0 ? colW(g.callers) + leftRun + BEND : 0);
  const rightX = focusX + focusW + BEND + rightRun;
  const column = (names: string[], x: number): Map<string, Box> => {
    const top = (height - names.length * ROW_H) / 2;
    const w = colW(names);
    return new Map(names.map((n, i) => [n, { x, y: top + i * ROW_H + (ROW_H - NODE_H) / 2, w, h: NODE_H }]));
  };
  return {
    width: (g.callees.length > 0 ? rightX + colW(g.callees) : focusX + focusW) + PAD,
    height,
    focus: { x: focusX, y: (height - focusH) / 2, w: focusW, h: focusH },
    left: column(g.callers, PAD),
    right: column(g.callees, rightX),
    leftRun,
    rightRun,
    into,
    out,
    ...(sub ? { sub } : {}),
  };
}

const f1 = (n: number): string => n.toFixed(1);

/** An edge's path, and its label when it moved. */
function edgeSvg(e: DrawnEdge, d: string, label: { x: number; y: number; anchor: string }): [string, string] {
  const cls = e.move ? 'edge moved' : e.waited ? 'edge waited' : 'edge';
  const tip = e.waited
    ? `${e.caller} only waited on ${e.callee} (its own work did not slow), directly or through other calls`
    : `${e.caller} -> ${e.callee}${e.move ? `: ${moveLabel(e.move)}` : ''}`;
  const marker = e.move ? 'hs-arrow-moved' : 'hs-arrow';
  const ends = `data-caller="${esc(e.caller)}" data-callee="${esc(e.callee)}"`;
  return [
    `<path class="${cls}" d="${d}" marker-end="url(#${marker})" ${ends}><title>${esc(tip)}</title></path>`,
    e.move
      ? `<text class="edge-label" x="${f1(label.x)}" y="${f1(label.y - 5)}" text-anchor="${label.anchor}" ${ends}>${esc(moveLabel(e.move))}</text>`
      : '',
  ];
}

/**
 * The graph as an SVG whose viewBox scales it to the page: callers in a column left of the focus,
 * callees right of it. Each edge runs straight beside its neighbour (its label above that run, a
 * row apart from the next: rows are further apart than a label is tall), then bends into the
 * focus; so no edge crosses a label and no two labels meet.
 */
export function callGraphSvg(g: CallGraph): string {
  const l = layoutOf(g);
  const mid = l.height / 2;
  const drawn: Array<[string, string]> = [];
  for (const e of l.into) {
    const b = l.left.get(e.caller) as Box;
    const [x1, y1, xa, x2] = [b.x + b.w, b.y + NODE_H / 2, b.x + b.w + l.leftRun, l.focus.x - 2];
    const d = `M${f1(x1)},${f1(y1)} H${f1(xa)} C${f1(xa + BEND / 2)},${f1(y1)} ${f1(x2 - BEND / 2)},${f1(mid)} ${f1(x2)},${f1(mid)}`;
    drawn.push(edgeSvg(e, d, { x: x1 + 6, y: y1, anchor: 'start' }));
  }
  for (const e of l.out) {
    const b = l.right.get(e.callee) as Box;
    const [x1, y2, xb, x2] = [l.focus.x + l.focus.w, b.y + NODE_H / 2, b.x - l.rightRun, b.x - 2];
    const d = `M${f1(x1)},${f1(mid)} C${f1(x1 + BEND / 2)},${f1(mid)} ${f1(xb - BEND / 2)},${f1(y2)} ${f1(xb)},${f1(y2)} H${f1(x2)}`;
    drawn.push(edgeSvg(e, d, { x: x2 - 10, y: y2, anchor: 'end' }));
  }
  const nodes = [...l.left, ...l.right].map(([n, b]) =>
    g.bystanders.has(n)
      ? nodeSvg(n, b, 'bystander', `${n}: only waited on ${g.focus}, its own work did not slow`)
      : nodeSvg(n, b, '', n),
  );
  nodes.push(nodeSvg(g.focus, l.focus, 'culprit', `${g.focus}: blamed for the slow calls`, l.sub));
  const moved = g.edges.filter((e) => e.move).length;
  const head = (id: string): string =>
    `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto" markerUnits="userSpaceOnUse"><path d="M0,0 L10,5 L0,10 z"/></marker>`;
  const [w, h] = [Math.ceil(l.width), Math.ceil(l.height)];
  // Shrunk to fit a narrow page down to 70% (its 12-unit text at 8.4 px), then scrolled sideways.
  return `<div class="calls-scroll"><svg class="calls" viewBox="0 0 ${w} ${h}" style="width:${w}px;min-width:${Math.round(w * 0.7)}px" role="img" aria-label="${esc(`Calls around ${g.focus}: ${moved} slowed call edge(s)`)}">
<defs>${head('hs-arrow')}${head('hs-arrow-moved')}</defs>
${drawn.map(([p]) => p).join('\n')}
${nodes.join('\n')}
${drawn
  .map(([, t]) => t)
  .filter(Boolean)
  .join('\n')}
</svg></div>`;
}

/** The figure: the graph, a key to its lines and boxes, and what was left out. */
export function callGraphHtml(g: CallGraph): string {
  const waited = [...g.bystanders].sort();
  const has = (p: (e: DrawnEdge) => boolean): boolean => g.edges.some(p);
  const key = [
    ...(has((e) => e.move !== undefined)
      ? [`<span class="swatch"></span> slowed call, before -&gt; after`]
      : []),
    ...(has((e) => !e.move && !e.waited) ? [`<span class="swatch unchanged"></span> did not slow`] : []),
    ...(has((e) => e.waited === true)
      ? [`<span class="swatch waited"></span> waits on it through calls not in the report`]
      : []),
    ...(waited.length > 0 ? [`<span class="box waited"></span> only waited (own work unchanged)`] : []),
  ];
  return `<figure class="calls-fig" data-focus="${esc(g.focus)}"><figcaption>Calls around <b>${esc(g.focus)}</b> <span class="unit">(callers left, callees right)</span></figcaption>
${callGraphSvg(g)}
<p class="key">${key.join(' ')}</p>${
    g.left.length > 0 ? `\n<p class="key">Not drawn: ${esc(g.left.join(', '))}.</p>` : ''
  }${waited.length > 0 ? `\n<p class="key">Only waited on ${esc(g.focus)}: ${esc(waited.join(', '))}.</p>` : ''}
</figure>`;
}

/** Styles of the call graph, for the report's stylesheet (its colours are the report's). */
export const CALLS_CSS = `
.calls-fig{margin:.75rem 0;break-inside:avoid}.calls-fig .key{text-align:left}svg.calls{display:block;max-width:100%;height:auto;font:${FONT}px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.calls .node rect{fill:var(--bg);stroke:var(--other)}.calls .node text{fill:var(--fg)}
.calls .node.culprit rect{stroke:var(--mark);stroke-width:2}.calls .node.culprit text{font-weight:600}.calls .node .sub{fill:var(--mark);font-weight:normal}
.calls .node.bystander rect{stroke-dasharray:4 3}.calls .node.bystander text{fill:var(--muted)}
.calls .edge{fill:none;stroke:var(--other);stroke-width:1.2}.calls .edge.moved{stroke:var(--mark);stroke-width:2.5}.calls .edge.waited{stroke-dasharray:4 3}
.calls marker path{fill:var(--other)}.calls marker#hs-arrow-moved path{fill:var(--mark)}
.calls .edge-label{fill:var(--mark);font-weight:600;paint-order:stroke;stroke:var(--card);stroke-width:4px;stroke-linejoin:round}
.swatch.unchanged{border-top:1px solid var(--other)}.swatch.waited{border-top:1px dashed var(--other)}
.swatch.ref{border-top:1px dashed var(--line)}.box.waited{display:inline-block;width:14px;height:9px;vertical-align:middle;border:1px dashed var(--other);border-radius:2px}
.calls-scroll{overflow-x:auto}@media print{.calls-scroll{overflow:visible}svg.calls{min-width:0!important}}`;
