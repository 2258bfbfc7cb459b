import { formatUnixNanos, type BundleWriter } from '@hindsight/core';
import { csvRows, type ImportProblem } from './csv.js';
import { serviceOfPod } from './names.js';
import type { Plan } from './rca-plan.js';
import { parseTimeCell } from './time.js';

// Spans also become per-minute series: the step of the metric files these datasets ship (Nezha's
// pod metrics have one row a minute).
const SPAN_BUCKET_MS = 60_000;
// A parent id that names no span: Nezha writes `root` on a trace's first span.
const NO_PARENT = /^(|root|0+|null|none|nan)$/i;

/** What importing the span files counts. */
export interface SpanCounts {
  series: number;
  points: number;
  spans: number;
}

/**
 * Imports one span file: each span in the window (or the baseline) is written to the bundle's
 * spans.jsonl as it is read, in the file's order (Nezha's files keep a trace's spans together), and
 * summed into per-pod span count and mean duration series per minute. The call graph is learnt from
 * every span's parent, whatever the window: it is structure, not a signal.
 */
export async function importSpans(
  p: Plan,
  writer: BundleWriter,
  problem: ImportProblem,
  inWindow: (t: number) => boolean,
  notePod: (pod: string, container?: string, node?: string) => void,
  counts: SpanCounts,
  calls: Map<string, Set<string>>,
): Promise<void> {
  const { cols, header } = p;
  const isPod = cols.pod !== undefined;
  const componentOf = (who: string): string => (isPod ? serviceOfPod(who) : who);
  // Per pod (or service) and minute: how many spans started and their mean duration in ms.
  const buckets = new Map<string, Map<number, { n: number; sumMs: number }>>();
  // Who calls whom, from each span's parent: a fault-free minute of spans, as Nezha's
  // construct_data, gives the graph of every fault's window.
  const spanOwner = new Map<string, string>();
  const parents: Array<[string, string]> = [];
  for await (const row of csvRows(p.file, problem)) {
    const f = row.fields;
    const who =
      (cols.pod !== undefined && f[cols.pod]) || (cols.service !== undefined && f[cols.service]) || '';
    const spanId = cols.span !== undefined ? (f[cols.span] ?? '') : '';
    const rawParent = cols.parent !== undefined ? (f[cols.parent] ?? '') : '';
    const parent = NO_PARENT.test(rawParent) ? undefined : rawParent;
    if (who && spanId) {
      spanOwner.set(spanId, who);
      if (parent) parents.push([parent, who]);
    }
    const startCell = f[cols.start as number] ?? '';
    const start = parseTimeCell(startCell);
    if (Number.isNaN(start)) {
      problem(p.file, row.line, `no readable start time in ${header[cols.start as number]}; row skipped`);
      continue;
    }
    if (!inWindow(start)) continue;
    let ms = Number.NaN;
    if (cols.end !== undefined) ms = spanMs(startCell, f[cols.end] ?? '', start);
    // Without an end time, `Duration` is read as microseconds, as in Nezha's span files (there it
    // equals (EndTimeUnixNano - StartTimeUnixNano) / 1000, construct_data/2023-01-29/trace/08_50_trace.csv).
    if (Number.isNaN(ms) && cols.duration !== undefined) ms = Number(f[cols.duration]) / 1000;
    if (!who) continue;
    counts.spans += 1;
    const trace = cols.trace !== undefined ? (f[cols.trace] ?? '') : '';
    if (trace && spanId && Number.isFinite(ms) && ms >= 0) {
      await writer.addSpan({
        trace,
        span: spanId,
        ...(parent ? { parent } : {}),
        component: componentOf(who),
        ...(isPod ? { pod: who } : {}),
        operation: cols.operation !== undefined ? (f[cols.operation] ?? '') : '',
        start: formatUnixNanos(startCell) ?? new Date(start).toISOString(),
        durationMs: ms,
      });
    } else {
      problem(p.file, row.line, 'span without a trace id, span id or duration: counted, not kept');
    }
    let m = buckets.get(who);
    if (!m) buckets.set(who, (m = new Map()));
    const b = Math.floor(start / SPAN_BUCKET_MS) * SPAN_BUCKET_MS;
    const cur = m.get(b) ?? { n: 0, sumMs: 0 };
    cur.n += 1;
    cur.sumMs += Number.isFinite(ms) ? ms : 0;
    m.set(b, cur);
  }
  for (const [parent, child] of parents) {
    const caller = spanOwner.get(parent);
    if (!caller) continue;
    const from = componentOf(caller);
    const to = componentOf(child);
    if (from === to) continue;
    let deps = calls.get(from);
    if (!deps) calls.set(from, (deps = new Set()));
    deps.add(to);
  }
  await writeSpanSeries(writer, buckets, isPod, componentOf, notePod, counts);
}

// Unix nanoseconds lose their last digits in a double: the difference is taken on the digits
// past the millisecond, so a 3 us call stays 3 us.
function spanMs(startCell: string, endCell: string, start: number): number {
  const a = startCell.trim();
  const b = endCell.trim();
  if (/^\d{7,}$/.test(a) && /^\d{7,}$/.test(b)) {
    const msA = Number(a.slice(0, -6));
    const msB = Number(b.slice(0, -6));
    return msB - msA + (Number(b.slice(-6)) - Number(a.slice(-6))) / 1e6;
  }
  return parseTimeCell(b) - start;
}

async function writeSpanSeries(
  writer: BundleWriter,
  buckets: Map<string, Map<number, { n: number; sumMs: number }>>,
  isPod: boolean,
  componentOf: (who: string) => string,
  notePod: (pod: string) => void,
  counts: SpanCounts,
): Promise<void> {
  for (const [who, m] of [...buckets].sort(([a], [b]) => a.localeCompare(b))) {
    const labels: Record<string, string> = {
      source: 'rca-traces',
      component: componentOf(who),
      ...(isPod ? { pod: who } : {}),
    };
    if (isPod) notePod(who);
    const pts = [...m].sort(([a], [b]) => a - b);
    await writer.addSeries({
      name: 'span_count',
      labels,
      kind: 'gauge',
      points: pts.map(([t, v]) => [t, v.n]),
    });
    await writer.addSeries({
      name: 'span_duration_mean_ms',
      labels,
      kind: 'gauge',
      unit: 'ms',
      points: pts.map(([t, v]) => [t, v.sumMs / v.n]),
    });
    counts.series += 2;
    counts.points += pts.length * 2;
  }
}
