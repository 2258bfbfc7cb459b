// The injection model of bench/rca-inject.ts: a network delay into one pod, written into real
// span files in Nezha's layout (TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,
// EndTimeUnixNano,Duration; Duration in microseconds). It is a model, not the held-out data:
// - each call into the delayed service (a span of its pods whose parent span is in another
//   service) that begins within [from, to) is delayed once, by `delay` +-10% (uniform, per call):
//   model `response` (the default) at the server span's end, as when the pod's outgoing packets
//   wait in a queue (the caller gets its answer late; what Nezha's real Online Boutique delays
//   show: the caller's time outside the server span rose by 100-470 ms, the server span's start
//   did not move); model `request` at the server span's start (the request arrives late: the
//   server span and its children begin later);
// - the trace's timeline after that point is pushed by the same delay: spans that begin at or after
//   it begin later (for `request` the delayed span and its children; the calls its callers make
//   after it), and spans open across it (the caller's client span, and every ancestor) end later.
//   Calls that ran in parallel with the delayed one are pushed too, which a real trace would not do;
// - nothing else changes: no metric, no log line, no timeout, no retry; traffic stays as it was.

/** One span row, its times in nanoseconds. */
export interface Row {
  fields: string[];
  trace: string;
  span: string;
  parent: string;
  pod: string;
  start: bigint;
  end: bigint;
}

export interface Columns {
  trace: number;
  span: number;
  parent: number;
  pod: number;
  start: number;
  end: number;
  duration: number;
}

/** Splits one CSV line (quotes as RFC 4180 writes them). */
export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function joinCsv(fields: string[]): string {
  return fields.map((f) => (/[",\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
}

export function columnsOf(header: string[]): Columns {
  const at = (name: string): number => {
    const i = header.findIndex((h) => h.trim().toLowerCase() === name);
    if (i < 0) throw new Error(`span file without a ${name} column`);
    return i;
  };
  return {
    trace: at('traceid'),
    span: at('spanid'),
    parent: at('parentid'),
    pod: at('podname'),
    start: at('starttimeunixnano'),
    end: at('endtimeunixnano'),
    duration: at('duration'),
  };
}

export function parseRows(text: string): { header: string; cols: Columns; rows: Row[] } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0] ?? '';
  const cols = columnsOf(splitCsv(header));
  const rows: Row[] = [];
  for (const line of lines.slice(1)) {
    const f = splitCsv(line);
    const start = f[cols.start] ?? '';
    const end = f[cols.end] ?? '';
    if (!/^\d+$/.test(start) || !/^\d+$/.test(end)) continue;
    rows.push({
      fields: f,
      trace: f[cols.trace] ?? '',
      span: f[cols.span] ?? '',
      parent: f[cols.parent] ?? '',
      pod: f[cols.pod] ?? '',
      start: BigInt(start),
      end: BigInt(end),
    });
  }
  return { header, cols, rows };
}

export function formatRows(header: string, cols: Columns, rows: Row[]): string {
  const out = [header];
  for (const r of rows) {
    const f = [...r.fields];
    f[cols.start] = r.start.toString();
    f[cols.end] = r.end.toString();
    f[cols.duration] = ((r.end - r.start) / 1000n).toString();
    out.push(joinCsv(f));
  }
  return `${out.join('\n')}\n`;
}

/** Where the delay sits: on the answer (the pod's outgoing packets) or on the request. */
export type DelayModel = 'response' | 'request';

/** What one injection did. */
export interface Injected {
  calls: number;
  traces: number;
}

/**
 * Delays every call into `service` that begins in [fromNs, toNs) by about `delayNs` (see the
 * model above). `serviceOf` maps a pod to its service; `rand` draws from [0, 1).
 */
export function injectDelay(
  rows: Row[],
  service: string,
  serviceOf: (pod: string) => string,
  fromNs: bigint,
  toNs: bigint,
  delayNs: number,
  rand: () => number,
  model: DelayModel = 'response',
): Injected {
  const byTrace = new Map<string, Row[]>();
  for (const r of rows) {
    const l = byTrace.get(r.trace);
    if (l) l.push(r);
    else byTrace.set(r.trace, [r]);
  }
  let calls = 0;
  let traces = 0;
  for (const spans of byTrace.values()) {
    const byId = new Map(spans.map((s) => [s.span, s]));
    const served = spans
      .filter((s) => {
        if (serviceOf(s.pod) !== service || s.start < fromNs || s.start >= toNs) return false;
        const parent = byId.get(s.parent);
        return parent !== undefined && serviceOf(parent.pod) !== service;
      })
      .map((s) => ({ s, p: model === 'request' ? s.start : s.end }))
      .sort((a, b) => (a.p < b.p ? 1 : a.p > b.p ? -1 : 0));
    if (served.length === 0) continue;
    traces += 1;
    // Latest first: an earlier point's shift then carries the later ones along.
    for (const { s: server, p } of served) {
      const d = BigInt(Math.round(delayNs * (0.9 + 0.2 * rand())));
      // The server span's ancestors wait for it whatever their clocks say: pods' clocks differ, and
      // a client span may end before its server span does by the skew.
      const ancestors = new Set<Row>();
      for (let a = byId.get(server.parent); a && !ancestors.has(a); a = byId.get(a.parent)) ancestors.add(a);
      const moved = new Set<Row>();
      if (model === 'request') {
        const todo = [server];
        while (todo.length > 0) {
          const x = todo.pop() as Row;
          if (moved.has(x)) continue;
          moved.add(x);
          for (const k of spans) if (k.parent === x.span) todo.push(k);
        }
      }
      for (const s of spans) {
        if (ancestors.has(s)) s.end += d;
        else if (moved.has(s) || (s.start >= p && s !== server)) {
          s.start += d;
          s.end += d;
        } else if (s.end > p && s !== server) s.end += d;
      }
      calls += 1;
    }
  }
  return { calls, traces };
}
