import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  BundleWriter,
  HindsightError,
  otlpSpans,
  spanStartMs,
  type Span,
  type Warning,
} from '@hindsight/core';
import { importWarning } from '../csv.js';
import type { ImportResult } from '../importer.js';
import { parseTimeCell } from '../time.js';
import { otlpDocuments, otlpFiles, type OtlpProblem } from './read.js';
import { checkOutput } from '../output.js';

/** Options for {@link importOtlp}. */
export interface OtlpImportOptions {
  /** Keep only spans that start at or after this time (RFC 3339 or unix ms); the data's first by default. */
  from?: string | number | Date;
  /** Keep only spans that start at or before this time; the data's last end by default. */
  to?: string | number | Date;
  /** Write into a folder that already holds files. */
  overwrite?: boolean;
  /** Stops the import; nothing is left at the output path. */
  signal?: AbortSignal;
  /** The user's own redaction patterns (`--redact-pattern`), applied with the catalogue to every record. */
  redactPatterns?: readonly RegExp[];
}

// A broken file would otherwise fill the report with one warning per line.
const WARNINGS_PER_FILE = 20;
// Spans whose component is remembered to link a later child (or parent) to it, for the call graph:
// each service exports its spans on its own, seconds apart, and children (which end first) usually
// first. 200,000 is five minutes of a system of 40,000 spans a minute (issue 17's Online Boutique),
// in some tens of MB.
const LINKED_SPANS = 200_000;
// Spans held back to write each trace's together: a BatchSpanProcessor exports every 5 s by default,
// so a trace's spans arrive within seconds; 50,000 is over a minute of 40,000 spans a minute.
const GROUPED_SPANS = 50_000;

function toMs(t: string | number | Date | undefined, flag: string): number | undefined {
  if (t === undefined) return undefined;
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'number') return t;
  const ms = parseTimeCell(t);
  if (Number.isNaN(ms))
    throw new HindsightError('HINDSIGHT_USAGE', `${flag}: not a time: ${t} (use RFC 3339)`);
  return ms;
}

/** A map that forgets its oldest entries past a size. */
class Recent<V> extends Map<string, V> {
  constructor(private readonly max: number) {
    super();
  }
  override set(key: string, value: V): this {
    super.set(key, value);
    if (this.size > this.max) this.delete(this.keys().next().value as string);
    return this;
  }
}

/** Caller -> callee components, from parent links seen in any order, in bounded memory. */
class CallGraph {
  readonly calls = new Map<string, Set<string>>();
  private readonly owner = new Recent<string>(LINKED_SPANS);
  // Children seen before their parent: parent id -> the children's components.
  private readonly waiting = new Recent<string[]>(LINKED_SPANS);

  add(span: Span): void {
    const key = `${span.trace}/${span.span}`;
    this.owner.set(key, span.component);
    for (const child of this.waiting.get(key) ?? []) this.edge(span.component, child);
    this.waiting.delete(key);
    if (!span.parent) return;
    const parentKey = `${span.trace}/${span.parent}`;
    const caller = this.owner.get(parentKey);
    if (caller !== undefined) this.edge(caller, span.component);
    else this.waiting.set(parentKey, [...(this.waiting.get(parentKey) ?? []), span.component]);
  }

  private edge(from: string, to: string): void {
    if (from === to) return;
    let deps = this.calls.get(from);
    if (!deps) this.calls.set(from, (deps = new Set()));
    deps.add(to);
  }
}

/**
 * Holds spans until their trace is complete enough to write together: each service exports its
 * spans on its own, so one trace's spans arrive in several documents, seconds apart, and readers
 * link a trace's spans only while it is among the last traces they saw (docs/bundle.md). The trace
 * touched longest ago is written first once more than {@link GROUPED_SPANS} spans wait.
 */
class TraceGroups {
  private readonly traces = new Map<string, Span[]>();
  private held = 0;
  constructor(private readonly write: (span: Span) => Promise<void>) {}

  async add(span: Span): Promise<void> {
    const spans = this.traces.get(span.trace) ?? [];
    // Re-inserted, so the map's order is of the last span seen.
    this.traces.delete(span.trace);
    spans.push(span);
    this.traces.set(span.trace, spans);
    this.held += 1;
    while (this.held > GROUPED_SPANS) await this.writeOldest();
  }

  async flush(): Promise<void> {
    while (this.traces.size > 0) await this.writeOldest();
  }

  private async writeOldest(): Promise<void> {
    const [trace, spans] = this.traces.entries().next().value as [string, Span[]];
    this.traces.delete(trace);
    this.held -= spans.length;
    for (const s of spans) await this.write(s);
  }
}

/**
 * Imports OpenTelemetry traces in OTLP/JSON (a file, or a folder of them) into a bundle's
 * spans.jsonl: the OpenTelemetry Collector's file exporter's output, one ExportTraceServiceRequest a
 * line, gzipped or not; a pretty-printed document is read whole. The component of a span is its
 * resource's `service.name`, its pod `k8s.pod.name`; kind and status are kept. Files are streamed
 * (twice when no window is given: once for the window), so memory stays flat whatever their size.
 * A line that is not JSON, or a span without ids or times, is a `HINDSIGHT_IMPORT` warning naming
 * the file and line, and skipped. The call graph of the parent links is written as topology.json.
 * The bundle is written beside `out` and renamed into place only when complete.
 */
export async function importOtlp(
  input: string,
  out: string,
  options: OtlpImportOptions = {},
): Promise<ImportResult> {
  const files = await otlpFiles(input);
  let from = toMs(options.from, '--from');
  let to = toMs(options.to, '--to');
  if (from !== undefined && to !== undefined && from > to)
    throw new HindsightError('HINDSIGHT_USAGE', '--from is after --to');
  await checkOutput(out, options.overwrite ?? false);
  const base = (await stat(input)).isFile() ? path.dirname(input) : input;
  const rel = (file: string): string => path.relative(base, file) || path.basename(file);

  const warnings: Warning[] = [];
  const perFile = new Map<string, number>();
  const counts = { files: files.length, documents: 0, spans: 0, badLines: 0, badSpans: 0, outsideWindow: 0 };
  const problem: OtlpProblem = (file, line, message) => {
    const name = rel(file);
    const n = (perFile.get(name) ?? 0) + 1;
    perFile.set(name, n);
    if (n <= WARNINGS_PER_FILE) warnings.push(importWarning(name, line, message));
    else if (n === WARNINGS_PER_FILE + 1)
      warnings.push(importWarning(name, undefined, 'more problems in this file were not listed'));
  };

  const badLine: OtlpProblem = (file, line, message) => {
    counts.badLines += 1;
    problem(file, line, message);
  };
  const unreadable = (): HindsightError =>
    new HindsightError(
      'HINDSIGHT_IMPORT',
      'no span could be read: is this OTLP/JSON traces (resourceSpans[].scopeSpans[].spans[])?',
      input,
    );

  if (from === undefined || to === undefined) {
    // No window given: it is the spans' own extent, found by a first streaming pass.
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const file of files) {
      for await (const { doc } of otlpDocuments(file, () => undefined)) {
        if (options.signal?.aborted) break;
        for (const s of otlpSpans(doc).spans) {
          const t = spanStartMs(s);
          lo = Math.min(lo, t);
          hi = Math.max(hi, t + s.durationMs);
        }
      }
    }
    if (!Number.isFinite(lo)) throw unreadable();
    from ??= Math.floor(lo);
    to ??= Math.ceil(hi);
  }
  const lo = from;
  const hi = to;

  const target = path.resolve(out);
  await mkdir(path.dirname(target), { recursive: true });
  const work = await mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.importing-`));
  try {
    const writer = await BundleWriter.create(work, {
      window: { from: new Date(lo), to: new Date(hi) },
      overwrite: true,
      ...(options.redactPatterns ? { redactPatterns: options.redactPatterns } : {}),
    });
    const graph = new CallGraph();
    const groups = new TraceGroups((span) => writer.addSpan(span));
    const components = new Set<string>();
    let otherSignals = 0;
    for (const file of files) {
      for await (const { doc, line } of otlpDocuments(file, badLine)) {
        if (options.signal?.aborted) break;
        counts.documents += 1;
        const { spans, skipped, otherSignals: other } = otlpSpans(doc);
        otherSignals += other;
        for (const reason of skipped) {
          counts.badSpans += 1;
          problem(file, line, `${reason}; span skipped`);
        }
        for (const span of spans) {
          graph.add(span);
          const t = spanStartMs(span);
          if (t < lo || t > hi) {
            counts.outsideWindow += 1;
            continue;
          }
          components.add(span.component);
          await groups.add(span);
          counts.spans += 1;
        }
      }
    }
    if (options.signal?.aborted)
      throw new HindsightError('HINDSIGHT_IMPORT', 'interrupted; nothing written', out);
    if (counts.spans + counts.outsideWindow === 0) throw unreadable();
    await groups.flush();
    if (graph.calls.size > 0) {
      await writer.setTopology({
        components: [...graph.calls]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, deps]) => ({ name, dependsOn: [...deps].sort() })),
      });
    }
    const partial = counts.badLines + counts.badSpans > 0;
    writer.recordSource({
      name: 'otlp',
      status: partial ? 'partial' : 'ok',
      items: counts.spans,
      ...(partial
        ? { error: `${counts.badLines} unreadable lines and ${counts.badSpans} unreadable spans skipped` }
        : {}),
    });
    writer.addNote(
      `imported from ${path.basename(path.resolve(input))} (OTLP/JSON traces, ${files.length} file${files.length === 1 ? '' : 's'}): ${counts.spans} spans of ${components.size} components`,
    );
    if (otherSignals > 0) writer.addNote(`${otherSignals} documents of metrics or logs were left out`);
    if (counts.outsideWindow > 0)
      writer.addNote(`${counts.outsideWindow} spans outside the window were left out`);
    const manifest = await writer.finish();
    await rm(target, { recursive: true, force: true });
    await rename(work, target);
    return { bundle: out, manifest, warnings, counts: { ...counts, components: components.size } };
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}
