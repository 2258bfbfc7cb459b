import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  BundleWriter,
  errorMessage,
  HindsightError,
  parseRfc3339,
  subMillisecondNanos,
  type LogSink,
  type Pod,
  type Warning,
} from '@hindsight/core';
import { csvRows, importWarning, readCsvHeader, type CsvRow, type ImportProblem } from './csv.js';
import { looksLikePod, normalizeColumn, serviceOfPod } from './names.js';
import { parseTimeCell } from './time.js';
import { importSpans } from './rca-spans.js';
import type { ImportResult } from './importer.js';
import { ID_COLUMNS, type Columns, type FileKind, type IdColumn, type Plan } from './rca-plan.js';

/** Options for {@link importRcaDataset}. */
export interface RcaDatasetOptions {
  /** Keep only records at or after this time (RFC 3339 or unix ms). */
  from?: string | number | Date;
  /** Keep only records at or before this time. */
  to?: string | number | Date;
  /** The namespace given to pods, which the datasets do not record (default `default`). */
  namespace?: string;
  /** Write into a folder that already holds files. */
  overwrite?: boolean;
  /** Stop early when aborted (Ctrl-C in the CLI). */
  signal?: AbortSignal;
  /** The user's own redaction patterns (`--redact-pattern`), applied with the catalogue to every record. */
  redactPatterns?: readonly RegExp[];
  /**
   * A sub-folder of the dataset holding fault-free reference data, imported whole whatever the
   * window and declared as the bundle's baseline; `false` imports none. Default: a folder named
   * `construct_data` when there is one (Nezha's layout: the data its patterns are built from).
   */
  baseline?: string | false;
}

const TIME_COLUMNS = new Set(['timestamp', 'time', 'timeunixnano', 'ts', 'datetime', 'date', 'timeunix']);

const MISSING = /^(|nan|null|none|na|n\/a)$/i;
// Log rows of a file are sorted before they are written (Nezha's are grouped by trace, not time);
// at most this many are held at once, so a file of any size is read in bounded memory.
const LOG_SORT_BUFFER = 100_000;
const DEFAULT_BASELINE_DIR = 'construct_data';

function columnsOf(header: string[]): Columns {
  const norm = header.map(normalizeColumn);
  const cols: Columns = { times: [] };
  norm.forEach((n, i) => {
    if (TIME_COLUMNS.has(n)) cols.times.push(i);
  });
  for (const key of Object.keys(ID_COLUMNS) as IdColumn[]) {
    for (const candidate of ID_COLUMNS[key]) {
      const i = norm.indexOf(candidate);
      if (i >= 0 && !cols.times.includes(i)) {
        cols[key] = i;
        break;
      }
    }
  }
  return cols;
}

function kindOf(cols: Columns): FileKind | undefined {
  if (cols.log !== undefined && cols.times.length > 0) return 'logs';
  if (cols.trace !== undefined && cols.span !== undefined && cols.start !== undefined) return 'spans';
  if (cols.times.length > 0) return 'metrics';
  return undefined;
}

function toMs(t: string | number | Date | undefined): number | undefined {
  if (t === undefined) return undefined;
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'number') return t;
  const ms = parseTimeCell(t);
  if (Number.isNaN(ms)) throw new HindsightError('HINDSIGHT_USAGE', `not a time: ${t} (use RFC 3339)`);
  return ms;
}

/**
 * The well-formed rows of a file with their time, those kept by `keep`; a row without a readable
 * time is reported with its line and skipped.
 */
async function* timedRows(
  p: Plan,
  problem: ImportProblem,
  keep: (t: number) => boolean,
): AsyncGenerator<{ row: CsvRow; t: number }> {
  for await (const row of csvRows(p.file, problem)) {
    const t = rowTime(row.fields, p.cols.times);
    if (Number.isNaN(t)) {
      const columns = p.cols.times.map((i) => p.header[i]).join(' or ');
      problem(p.file, row.line, `no readable time in ${columns}; row skipped`);
    } else if (keep(t)) yield { row, t };
  }
}

function rowTime(fields: string[], times: number[]): number {
  for (const i of times) {
    const t = parseTimeCell(fields[i] ?? '');
    if (!Number.isNaN(t)) return t;
  }
  return Number.NaN;
}

// Docker's json-file driver stores each line as {"log": "...\n", "stream", "time"}; datasets that
// export container logs often keep that record (Nezha's `Log` column). The line is its `log`.
function unwrapDockerLine(text: string): string {
  if (!text.startsWith('{"log"')) return text;
  try {
    const rec = JSON.parse(text) as { log?: unknown };
    if (typeof rec.log === 'string') return rec.log.replace(/\r?\n$/, '');
  } catch {
    // not a json-file record after all: keep the text as it is
  }
  return text;
}

// The row's own RFC 3339 time when it has one (Nezha's `Timestamp` holds nanoseconds, and the
// steps of one request often share a millisecond), else its time in ms.
function precise(fields: string[], times: number[], t: number): string | number {
  for (const i of times) {
    const cell = (fields[i] ?? '').trim();
    if (parseRfc3339(cell) === t) return cell;
  }
  return t;
}

async function listCsv(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.csv'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** The baseline folder relative to the dataset, or undefined when there is none. */
async function baselineDir(dir: string, option: string | false | undefined): Promise<string | undefined> {
  if (option === false) return undefined;
  const rel = option ?? DEFAULT_BASELINE_DIR;
  const st = await stat(path.join(dir, rel)).catch(() => undefined);
  if (st?.isDirectory()) return path.normalize(rel);
  if (option !== undefined) {
    throw new HindsightError(
      'HINDSIGHT_INPUT_MISSING',
      `baseline folder not found: ${rel}`,
      path.join(dir, rel),
    );
  }
  return undefined;
}

/** Where series points go: the identity of a series and its points, per metric file. */
interface SeriesAcc {
  name: string;
  labels: Record<string, string>;
  points: Array<[number, number]>;
}

/**
 * Imports a microservice RCA dataset folder into a hindsight bundle. Every CSV under `dir` is
 * classified by its header: a log file (a time column and a log/message column, plus pod,
 * container, node, trace and span ids when present), a span file (trace id, span id, start time)
 * that becomes per-pod span count and mean duration series per minute, or a metric file (a time
 * column and one column per metric, per pod or per service, or RCAEval's wide `<service>_<metric>`
 * columns). Every metric column is kept as a series, known or not. Labels: `component` (the
 * service) and `pod`. A malformed row is reported with its file and line and skipped.
 */
export async function importRcaDataset(
  dir: string,
  out: string,
  options: RcaDatasetOptions = {},
): Promise<ImportResult> {
  const files = await listCsv(dir).catch((err: unknown) => {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new HindsightError(
      missing ? 'HINDSIGHT_INPUT_MISSING' : 'HINDSIGHT_USAGE',
      missing ? 'dataset folder not found' : `cannot read the dataset folder: ${errorMessage(err)}`,
      dir,
    );
  });
  const warnings: Warning[] = [];
  const perFile = new Map<string, number>();
  const problem: ImportProblem = (file, line, message) => {
    const rel = path.relative(dir, file) || file;
    const n = (perFile.get(rel) ?? 0) + 1;
    perFile.set(rel, n);
    // A broken file would otherwise fill the report with one warning per row.
    if (n <= 20) warnings.push(importWarning(rel, line, message));
    else if (n === 21)
      warnings.push(importWarning(rel, undefined, 'more problems in this file were not listed'));
  };

  const plans: Plan[] = [];
  const notes: string[] = [];
  const base = await baselineDir(dir, options.baseline);
  for (const file of files) {
    const rel = path.relative(dir, file);
    const header = await readCsvHeader(file);
    const cols = header ? columnsOf(header) : undefined;
    const kind = cols ? kindOf(cols) : undefined;
    if (!header || !cols || !kind) {
      notes.push(rel);
      continue;
    }
    const baseline = base !== undefined && rel.startsWith(`${base}${path.sep}`);
    plans.push({ file, rel, header, cols, kind, baseline });
  }
  // A service column may spell a service otherwise than its pods do (Nezha's front_service.csv
  // says `Frontend` for the pods of `frontend`): a name equal but for case is that service.
  const services = new Map(
    plans
      .map((p) => path.basename(p.file, path.extname(p.file)).replace(/[_-]metrics?$/i, ''))
      .filter(looksLikePod)
      .map((stem) => [serviceOfPod(stem).toLowerCase(), serviceOfPod(stem)] as const),
  );
  const serviceNamed = (name: string): string => services.get(name.toLowerCase()) ?? name;
  if (plans.length === 0) {
    throw new HindsightError('HINDSIGHT_USAGE', 'no CSV file with a time column was found', dir);
  }

  let from = toMs(options.from);
  let to = toMs(options.to);
  if (from === undefined || to === undefined) {
    // No window given: it is the data's own extent, found by a first streaming pass.
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    // The baseline is not part of the window unless it is all there is.
    const analysed = plans.some((p) => !p.baseline) ? plans.filter((p) => !p.baseline) : plans;
    for (const p of analysed) {
      const times = p.kind === 'spans' ? [p.cols.start as number] : p.cols.times;
      for await (const row of csvRows(p.file, () => undefined)) {
        const t = rowTime(row.fields, times);
        if (Number.isNaN(t)) continue;
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      }
    }
    if (!Number.isFinite(lo)) throw new HindsightError('HINDSIGHT_IMPORT', 'no row has a readable time', dir);
    from ??= lo;
    to ??= hi;
  }
  if (from > to) throw new HindsightError('HINDSIGHT_USAGE', '--from is after --to');
  const inWindow = (t: number): boolean => t >= (from as number) && t <= (to as number);
  // Rows of the baseline's files are kept whole; their extent becomes the manifest's baseline.
  const baseSpan = { from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };
  const inBaseline = (t: number): boolean => {
    if (t < baseSpan.from) baseSpan.from = t;
    if (t > baseSpan.to) baseSpan.to = t;
    return true;
  };

  const writer = await BundleWriter.create(out, {
    window: { from: new Date(from), to: new Date(to) },
    overwrite: options.overwrite ?? false,
    ...(options.redactPatterns ? { redactPatterns: options.redactPatterns } : {}),
  });
  const namespace = options.namespace ?? 'default';
  const pods = new Map<string, { component: string; node?: string; containers: Set<string> }>();
  const notePod = (pod: string, container?: string, node?: string): void => {
    let p = pods.get(pod);
    if (!p) {
      p = { component: serviceOfPod(pod), containers: new Set() };
      pods.set(pod, p);
    }
    if (container) p.containers.add(container);
    if (node && !p.node) p.node = node;
  };
  const counts = { series: 0, points: 0, missingCells: 0, logLines: 0, spans: 0, skippedRows: 0 };
  const calls = new Map<string, Set<string>>();
  const sinks = new Map<string, LogSink>();
  const sinkFor = async (pod: string, container: string): Promise<LogSink> => {
    const key = `${pod}\u0000${container}`;
    let sink = sinks.get(key);
    if (!sink) {
      sink = await writer.openLog({ namespace, pod, container, previous: false });
      sinks.set(key, sink);
    }
    return sink;
  };
  const countingProblem: ImportProblem = (file, line, message) => {
    if (line !== undefined) counts.skippedRows += 1;
    problem(file, line, message);
  };

  // The reference first: it is usually recorded before the incident, so each log stays in time order.
  const ordered = [...plans.filter((p) => p.baseline), ...plans.filter((p) => !p.baseline)];
  for (const p of ordered) {
    if (options.signal?.aborted) break;
    const keep = p.baseline ? inBaseline : inWindow;
    if (p.kind === 'metrics')
      await importMetrics(p, writer, countingProblem, keep, notePod, counts, serviceNamed);
    else if (p.kind === 'logs') await importLogs(p, sinkFor, countingProblem, keep, notePod, counts);
    else await importSpans(p, writer, countingProblem, keep, notePod, counts, calls);
  }

  for (const [name, p] of [...pods].sort(([a], [b]) => a.localeCompare(b))) {
    const pod: Pod = {
      namespace,
      name,
      component: p.component,
      workload: p.component,
      labels: { app: p.component },
      ...(p.node ? { node: p.node } : {}),
      containers: [...p.containers].sort().map((c) => ({ name: c, restartCount: 0 })),
    };
    await writer.addPod(pod);
  }
  if (calls.size > 0) {
    await writer.setTopology({
      components: [...calls]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, deps]) => ({ name, dependsOn: [...deps].sort() })),
    });
  }
  const kinds = (k: FileKind): number => plans.filter((p) => p.kind === k).length;
  writer.recordSource({ name: 'rca-metrics', status: 'ok', items: counts.series });
  if (kinds('logs') > 0) writer.recordSource({ name: 'rca-logs', status: 'ok', items: counts.logLines });
  if (kinds('spans') > 0) writer.recordSource({ name: 'rca-traces', status: 'ok', items: counts.spans });
  writer.addNote(`imported from ${path.basename(path.resolve(dir))} (an RCA dataset folder)`);
  if (base !== undefined && baseSpan.from <= baseSpan.to) {
    writer.setBaseline({
      from: new Date(baseSpan.from),
      to: new Date(baseSpan.to),
      note: `fault-free reference data of the dataset (${base.split(path.sep).join('/')})`,
    });
  }
  if (notes.length > 0) {
    const shown = notes.slice(0, 5).join(', ');
    writer.addNote(
      `skipped ${notes.length} CSV files without a time column: ${shown}${notes.length > 5 ? ', ...' : ''}`,
    );
  }
  if (counts.skippedRows > 0) writer.addNote(`${counts.skippedRows} malformed rows were skipped`);
  const manifest = await writer.finish();
  return { bundle: out, manifest, warnings, counts: { ...counts, pods: pods.size } };
}

/**
 * Whether a wide file's columns are call edges `<caller>_<callee>` (Nezha's source_50.csv) rather
 * than `<service>_<metric>` (RCAEval): some callee is also a caller, which no metric name is.
 */
function isEdgeFile(columns: string[]): boolean {
  const halves = columns.map((c) => [c.slice(0, c.lastIndexOf('_')), c.slice(c.lastIndexOf('_') + 1)]);
  const callers = new Set(halves.map(([a]) => a));
  return halves.some(([, b]) => callers.has(b as string));
}

async function importMetrics(
  p: Plan,
  writer: BundleWriter,
  problem: ImportProblem,
  inWindow: (t: number) => boolean,
  notePod: (pod: string, container?: string, node?: string) => void,
  counts: { series: number; points: number; missingCells: number },
  serviceNamed: (name: string) => string,
): Promise<void> {
  const { cols, header } = p;
  const idIdx = new Set<number>(
    [cols.pod, cols.service, cols.node, cols.container, cols.namespace].filter(
      (i): i is number => i !== undefined,
    ),
  );
  const valueCols = header.map((_, i) => i).filter((i) => !cols.times.includes(i) && !idIdx.has(i));
  // RCAEval's layout: one wide file, every column `<service>_<metric>` (split on the last `_`:
  // metric names hold `-`, as in `latency-90`, and so do services, as in `frontend-external`).
  const wide =
    cols.pod === undefined &&
    cols.service === undefined &&
    valueCols.length > 0 &&
    valueCols.every((i) => /.+_[^_]+$/.test(header[i] as string));
  const stem = path.basename(p.file, path.extname(p.file)).replace(/[_-]metrics?$/i, '');
  const edges = wide && isEdgeFile(valueCols.map((i) => header[i] as string));
  const acc = new Map<string, SeriesAcc>();
  const notNumber = new Map<number, number>();
  for await (const { row, t } of timedRows(p, problem, inWindow)) {
    const pod = cols.pod !== undefined ? row.fields[cols.pod] : undefined;
    const service = cols.service !== undefined ? row.fields[cols.service] : undefined;
    const node = cols.node !== undefined ? row.fields[cols.node] : undefined;
    for (const i of valueCols) {
      const cell = (row.fields[i] as string).trim();
      // Empty, NaN and null cells are missing values (pandas writes NaN), not malformed ones.
      if (MISSING.test(cell)) {
        counts.missingCells += 1;
        continue;
      }
      const v = Number(cell);
      if (!Number.isFinite(v) && !/^[+-]?inf(inity)?$/i.test(cell)) {
        notNumber.set(i, (notNumber.get(i) ?? 0) + 1);
        continue;
      }
      const key = `${pod ?? ''}\u0000${service ?? ''}\u0000${i}`;
      let s = acc.get(key);
      if (!s) {
        const column = header[i] as string;
        const labels: Record<string, string> = { source: 'rca-metrics' };
        let name = column;
        if (edges) {
          // A call edge's latency belongs to the callee: its callers only wait on it. Which of
          // them is the cause is the latency analyzer's to say, from all the edges together.
          const cut = column.lastIndexOf('_');
          labels['component'] = column.slice(cut + 1);
          labels['caller'] = column.slice(0, cut);
          labels['callee'] = column.slice(cut + 1);
          name = stem;
        } else if (wide) {
          const cut = column.lastIndexOf('_');
          labels['component'] = column.slice(0, cut);
          name = column.slice(cut + 1);
        } else if (pod) {
          labels['component'] = serviceOfPod(pod);
          labels['pod'] = pod;
        } else if (service) {
          labels['component'] = serviceNamed(service);
        } else {
          labels['component'] = looksLikePod(stem) ? serviceOfPod(stem) : stem;
          if (looksLikePod(stem)) labels['pod'] = stem;
        }
        if (node) labels['node'] = node;
        s = { name, labels, points: [] };
        acc.set(key, s);
        if (labels['pod']) notePod(labels['pod'], undefined, node);
      }
      // Infinity is kept as the largest finite value JSON can carry: the schema wants finite numbers.
      s.points.push([t, Number.isFinite(v) ? v : Math.sign(v) * Number.MAX_VALUE]);
    }
  }
  for (const [i, n] of notNumber) {
    problem(p.file, undefined, `column ${header[i]}: ${n} cells are not numbers and were left out`);
  }
  for (const s of acc.values()) {
    s.points.sort((a, b) => a[0] - b[0]);
    await writer.addSeries({ name: s.name, labels: s.labels, kind: 'gauge', points: s.points });
    counts.series += 1;
    counts.points += s.points.length;
  }
}

async function importLogs(
  p: Plan,
  sinkFor: (pod: string, container: string) => Promise<LogSink>,
  problem: ImportProblem,
  inWindow: (t: number) => boolean,
  notePod: (pod: string, container?: string, node?: string) => void,
  counts: { logLines: number },
): Promise<void> {
  const { cols } = p;
  const stem = path.basename(p.file, path.extname(p.file));
  let buffer: Array<{
    t: number;
    ns: number;
    stamp: string | number;
    pod: string;
    container: string;
    text: string;
  }> = [];
  const flush = async (): Promise<void> => {
    buffer.sort((a, b) => a.t - b.t || a.ns - b.ns);
    for (const r of buffer) {
      await (await sinkFor(r.pod, r.container)).write(r.stamp, r.text);
      counts.logLines += 1;
    }
    buffer = [];
  };
  for await (const { row, t } of timedRows(p, problem, inWindow)) {
    const f = row.fields;
    const pod =
      (cols.pod !== undefined && f[cols.pod]) || (cols.service !== undefined && f[cols.service]) || stem;
    const container = (cols.container !== undefined && f[cols.container]) || 'main';
    const node = cols.node !== undefined ? f[cols.node] : undefined;
    let text = unwrapDockerLine(f[cols.log as number] as string);
    const trace = cols.trace !== undefined ? f[cols.trace] : undefined;
    if (trace && !text.includes(trace)) {
      const span = cols.span !== undefined ? f[cols.span] : undefined;
      text = `${text} trace_id=${trace}${span ? ` span_id=${span}` : ''}`;
    }
    notePod(pod, container, node);
    const stamp = precise(f, cols.times, t);
    // The nanoseconds past the millisecond order the ties within one.
    const ns = typeof stamp === 'string' ? subMillisecondNanos(stamp) : 0;
    buffer.push({ t, ns, stamp, pod, container, text });
    if (buffer.length >= LOG_SORT_BUFFER) await flush();
  }
  await flush();
}
