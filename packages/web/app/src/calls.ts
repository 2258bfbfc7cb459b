// A slow edge, drawn: the call graph around the component a latency finding blames (its callers,
// their callers, its callees), the edges that moved highlighted with their latency before and
// after, and the calls' duration over the window with the onset marked.
import type { CallEdgeView, Evidence, Finding } from './api.js';
import { timeChart, type Line } from './chart.js';
import { h } from './dom.js';
import { markers, state } from './state.js';

const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag) as SVGElement;
  for (const [k, val] of Object.entries(attrs)) el.setAttribute(k, String(val));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** An edge that moved, as the latency finding's evidence gives it. */
interface Moved {
  caller: string;
  callee: string;
  what: string;
  unit: string;
  before: number;
  after: number;
}

const edgeKey = (caller: string, callee: string): string => `${caller}\u0000${callee}`;

/** The edges a latency finding says moved: its series evidence labelled with caller and callee. */
export function movedEdges(f: Finding): Moved[] {
  const out: Moved[] = [];
  for (const e of f.evidence as Evidence[]) {
    if (e.type !== 'series') continue;
    const caller = e.labels['caller'];
    const callee = e.labels['callee'];
    if (!caller || !callee || e.before === undefined || e.after === undefined) continue;
    out.push({ caller, callee, what: e.name, unit: e.unit ?? '', before: e.before, after: e.after });
  }
  return out;
}

function num(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3).replace(/\.?0+$/, '');
}

// At most this many nodes of each kind around the blamed component (callers, their callers, its
// callees, the callers' other callees): a service called by forty others shows those whose edges
// moved first, then by name, and says how many more there are.
const MAX_GROUP = 8;
const NODE_H = 26;
const ROW_H = 44;
const COL_GAP = 150;
const CHAR_PX = 7.2;
// Room above the nodes for the edges that skip a column, which arc over them.
const ARC_ROOM = 34;

interface Edge {
  caller: string;
  callee: string;
}

interface Placed {
  x: number;
  y: number;
  w: number;
}

/** Which nodes to draw around `focus`, and how many of each kind were left out. */
function neighbourhood(focus: string, list: Edge[], moved: Moved[]): { nodes: Set<string>; left: string[] } {
  const movedEnd = new Set(moved.flatMap((m) => [m.caller, m.callee]));
  const nodes = new Set([focus]);
  const left: string[] = [];
  const take = (what: string, names: string[]): string[] => {
    const fresh = [...new Set(names)]
      .filter((n) => !nodes.has(n))
      .sort((a, b) => Number(movedEnd.has(b)) - Number(movedEnd.has(a)) || a.localeCompare(b));
    const kept = fresh.slice(0, MAX_GROUP);
    kept.forEach((n) => nodes.add(n));
    if (fresh.length > kept.length) left.push(`${fresh.length - kept.length} more ${what}`);
    return kept;
  };
  const callersOf = (c: string): string[] => list.filter((e) => e.callee === c).map((e) => e.caller);
  const calleesOf = (c: string): string[] => list.filter((e) => e.caller === c).map((e) => e.callee);
  const callers = take('callers', callersOf(focus));
  take('callees', calleesOf(focus));
  take('upstream callers', callers.flatMap(callersOf));
  take("of the callers' other callees", callers.flatMap(calleesOf));
  return { nodes, left };
}

/**
 * Columns by the longest chain of calls from a node nobody here calls (a cycle is cut after as many
 * steps as there are nodes); within a column, nodes in the order of their callers.
 */
function layout(
  nodes: Set<string>,
  edges: Edge[],
): { pos: Map<string, Placed>; width: number; height: number } {
  const layer = new Map([...nodes].map((n) => [n, 0]));
  for (let i = 0; i < nodes.size; i++)
    for (const e of edges) {
      const next = (layer.get(e.caller) as number) + 1;
      if (next > (layer.get(e.callee) as number) && next < nodes.size) layer.set(e.callee, next);
    }
  const columns: string[][] = [];
  for (const [n, l] of layer) (columns[l] ??= []).push(n);
  const used = columns.filter((c) => c && c.length > 0);
  const order = new Map<string, number>();
  for (const c of used) {
    const rank = (n: string): number => {
      const from = edges
        .filter((e) => e.callee === n && order.has(e.caller))
        .map((e) => order.get(e.caller) as number);
      return from.length > 0 ? from.reduce((a, b) => a + b, 0) / from.length : 0;
    };
    c.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).forEach((n, i) => order.set(n, i));
  }
  const rows = Math.max(...used.map((c) => c.length));
  const height = ARC_ROOM + rows * ROW_H + 8;
  const pos = new Map<string, Placed>();
  let x = 4;
  for (const c of used) {
    const w = Math.max(...c.map((n) => n.length)) * CHAR_PX + 20;
    const top = ARC_ROOM + ((rows - c.length) * ROW_H) / 2;
    c.forEach((n, r) => pos.set(n, { x, y: top + r * ROW_H + (ROW_H - NODE_H) / 2, w }));
    x += w + COL_GAP;
  }
  return { pos, width: x - COL_GAP + 4, height };
}

/**
 * The call graph around `focus` (the component a latency finding blames): its callers and theirs,
 * its callees, the callers' other callees; each call an arrow, callers left of callees, the edges
 * that moved drawn strong and labelled `before -> after`.
 */
export function callGraphFigure(f: Finding, moved: Moved[], all: CallEdgeView[]): HTMLElement {
  const focus = f.component ?? moved[0]?.callee ?? '';
  const byKey = new Map<string, Edge>();
  for (const e of [...all, ...moved])
    byKey.set(edgeKey(e.caller, e.callee), { caller: e.caller, callee: e.callee });
  const { nodes, left } = neighbourhood(focus, [...byKey.values()], moved);
  const edges = [...byKey.values()].filter((e) => nodes.has(e.caller) && nodes.has(e.callee));
  const { pos, width, height } = layout(nodes, edges);
  const movedKeys = new Map(moved.map((m) => [edgeKey(m.caller, m.callee), m]));
  const svg = svgEl('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    class: 'calls',
    role: 'img',
    'data-testid': 'call-graph',
    'aria-label': `Call graph around ${focus}, ${moved.length} slowed call edge(s)`,
  });
  // On a narrow screen the drawing shrinks to 60% of its size (legible still), then scrolls sideways.
  svg.style.minWidth = `${Math.round(width * 0.6)}px`;
  const defs = svgEl('defs', {});
  for (const id of ['arrow', 'arrow-moved']) {
    // Sized in the drawing's units, so a strong edge does not get a larger head.
    const head = { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 9, markerHeight: 9 };
    const marker = svgEl('marker', { ...head, orient: 'auto', markerUnits: 'userSpaceOnUse' });
    marker.append(svgEl('path', { d: 'M0,0 L10,5 L0,10 z' }));
    defs.append(marker);
  }
  svg.append(defs);
  const labels: SVGElement[] = [];
  for (const e of edges) {
    const a = pos.get(e.caller) as Placed;
    const b = pos.get(e.callee) as Placed;
    if (b.x <= a.x) continue;
    const m = movedKeys.get(edgeKey(e.caller, e.callee));
    const [x1, y1, x2, y2] = [a.x + a.w, a.y + NODE_H / 2, b.x - 2, b.y + NODE_H / 2];
    // An edge to the next column is straight; one that skips columns arcs over their nodes.
    const skips = [...pos.values()].some((p) => p.x > a.x && p.x < b.x);
    const top = ARC_ROOM / 2;
    const d = skips
      ? `M${x1},${y1} C${x1 + 60},${top} ${x2 - 60},${top} ${x2},${y2}`
      : `M${x1},${y1} L${x2},${y2}`;
    const path = svgEl('path', {
      d,
      class: m ? 'edge moved' : 'edge',
      'marker-end': `url(#${m ? 'arrow-moved' : 'arrow'})`,
      'data-caller': e.caller,
      'data-callee': e.callee,
    });
    const known = all.find((k) => k.caller === e.caller && k.callee === e.callee);
    path.append(
      svgEl(
        'title',
        {},
        `${e.caller} -> ${e.callee}` +
          (known ? `: ${known.calls} calls, median ${num(known.medianMs)} ms in ${e.callee}` : '') +
          (m ? `; ${m.what} ${num(m.before)} -> ${num(m.after)} ${m.unit}` : ''),
      ),
    );
    svg.append(path);
    if (!m) continue;
    // The label sits on the caller's part of the edge, where edges into one callee are still apart.
    const [lx, ly] = skips ? [(x1 + x2) / 2, top - 2] : [x1 + (x2 - x1) * 0.4, y1 + (y2 - y1) * 0.4 - 5];
    const text = `${num(m.before)} → ${num(m.after)} ${m.unit}`;
    const attrs = {
      x: lx,
      y: ly,
      class: 'edge-label',
      'text-anchor': 'middle',
      'data-testid': 'moved-edge-label',
    };
    labels.push(svgEl('text', attrs, text));
  }
  const bystanders = new Set(f.bystanders ?? []);
  for (const [name, p] of pos) {
    const kind = name === focus ? 'culprit' : bystanders.has(name) ? 'bystander' : '';
    const g = svgEl('g', { class: `node ${kind}`.trim(), 'data-node': name });
    g.append(
      svgEl('rect', { x: p.x, y: p.y, width: p.w, height: NODE_H, rx: 4 }),
      svgEl('text', { x: p.x + p.w / 2, y: p.y + NODE_H / 2 + 4, 'text-anchor': 'middle' }, name),
    );
    if (kind === 'bystander')
      g.append(svgEl('title', {}, `${name} only waited on ${focus}: its own work did not slow`));
    svg.append(g);
  }
  svg.append(...labels);
  return h(
    'figure',
    { class: 'figure' },
    h(
      'figcaption',
      {},
      `Calls around ${focus}`,
      h('span', { class: 'muted' }, ' (callers left of callees; slowed calls in red, before → after)'),
    ),
    h('div', { class: 'calls-scroll' }, svg),
    left.length > 0 ? h('p', { class: 'muted small' }, `Not drawn: ${left.join(', ')}.`) : null,
    bystanders.size > 0
      ? h('p', { class: 'small' }, `Only waited (own work unchanged): ${[...bystanders].sort().join(', ')}.`)
      : null,
  );
}

/** Points a bucket apart with a null where buckets are missing, so the line breaks there. */
function gaps(points: Array<[number, number]>, bucketMs: number): Array<[number, number | null]> {
  const out: Array<[number, number | null]> = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last && p[0] - last[0] > bucketMs * 1.5) out.push([last[0] + bucketMs, null]);
    out.push(p);
  }
  return out;
}

/** The moved edges' call durations over the window (from the spans), the onset and the changes marked. */
export function durationChart(
  f: Finding,
  moved: Moved[],
  all: CallEdgeView[],
  causeId?: string,
): HTMLElement | null {
  const bucketMs = state.calls?.bucketMs ?? 60_000;
  const win = state.overview.manifest.window;
  const across = (v: number): Array<[number, number]> => [
    [Date.parse(win.from), v],
    [Date.parse(win.to), v],
  ];
  // Calls into one callee are told apart by their callers, calls out of one caller by callees.
  const one = (k: 'caller' | 'callee'): boolean => new Set(moved.map((m) => m[k])).size === 1;
  const nameOf = (m: Moved): string =>
    one('callee') ? `from ${m.caller}` : one('caller') ? `to ${m.callee}` : `${m.caller} → ${m.callee}`;
  const lines = moved
    .map((m) => ({ m, e: all.find((e) => e.caller === m.caller && e.callee === m.callee) }))
    .filter((x): x is { m: Moved; e: CallEdgeView } => x.e !== undefined && x.e.points.length > 0)
    .flatMap(({ m, e }): Line[] => {
      const name = nameOf(m);
      const waited = e.waited.length > 0;
      // A bundle whose window begins at the fault keeps its "before" in a baseline period: its level.
      const ref = waited ? e.baseline?.waitedMs : e.baseline?.medianMs;
      return [
        ...(waited ? [{ label: `${name}: as the caller waited`, points: gaps(e.waited, bucketMs) }] : []),
        { label: `${name}: in ${m.callee}`, points: gaps(e.points, bucketMs) },
        ...(ref !== undefined ? [{ label: `${name}: baseline`, points: across(ref), reference: true }] : []),
      ];
    });
  if (lines.length === 0) return null;
  const before = moved.map((m) => `${m.caller} → ${m.callee} ${num(m.before)} → ${num(m.after)} ${m.unit}`);
  const bucket = state.calls ? `${state.calls.bucketMs / 1000} s` : 'bucket';
  return h(
    'div',
    { 'data-testid': 'duration' },
    timeChart(lines, {
      title: one('callee')
        ? `Duration of the calls into ${moved[0]?.callee ?? ''}, before and after`
        : 'Duration of the slowed calls, before and after',
      unit: `ms, median per ${bucket}`,
      markers: [...markers(causeId), { timeMs: f.time, label: 'slowed from here', strong: true }],
      testId: 'duration-chart',
    }),
    h('p', { class: 'small', 'data-testid': 'before-after' }, `Before → after: ${before.join('; ')}.`),
  );
}
