import { errorMessage, redactText, type BundleWriter, type Span } from '@hindsight/core';
import { z } from 'zod';
import { mapLimit } from '../limit.js';
import { RetriesExhausted, connectionCode } from '../retry.js';
import type { SourceContext, SourceFlag, SourceResult, TimeWindow } from '../source.js';

/** Traces read by a trace source when `--max-traces` is not given. */
export const DEFAULT_MAX_TRACES = 1000;

/** The settings the trace sources (jaeger, tempo) share: which services, how many traces. */
export const traceSettingsSchema = z.object({
  traceService: z.array(z.string().min(1)).optional(),
  maxTraces: z.coerce
    .number()
    .int()
    .positive({ message: '--max-traces must be a whole number of traces above 0' })
    .optional(),
});
/** Which services' traces, and at most how many, a trace source reads. */
export type TraceSettings = z.infer<typeof traceSettingsSchema>;

/** The flags of {@link TraceSettings}: declared once, by the jaeger source, and read by both. */
export const traceFlags: readonly SourceFlag[] = [
  {
    flags: '--trace-service <name>',
    description:
      'a service whose traces --jaeger or --tempo are asked for (repeatable; default: every service)',
    repeatable: true,
  },
  {
    flags: '--max-traces <n>',
    description: `at most this many traces from --jaeger or --tempo, spread over the window (default: ${DEFAULT_MAX_TRACES})`,
  },
];
// A query asks for at least this many traces: fewer, and the count of requests (one per slice and
// service) outgrows what the traces are worth.
const MIN_PER_QUERY = 20;
// Slices are at least a minute long: the latency analyzer compares minutes.
const MIN_SLICE_MS = 60_000;

/** One search of a trace store: a service (or every one) in a slice of the window, for at most `limit` traces. */
export interface TraceQuery {
  service: string | undefined;
  from: number;
  to: number;
  limit: number;
}

/** What a trace store's search found: trace ids, or whole traces already converted. */
export interface TraceHits {
  /** The traces found, by id; `spans` when the search returned them whole (Jaeger). */
  traces: Array<{ id: string; spans?: Span[] }>;
}

/** A trace store: one search, and the fetch of one trace when the search returns ids only (Tempo). */
export interface TraceStore {
  /** Its name in warnings: `Jaeger at http://...`. */
  label: string;
  search(q: TraceQuery, signal: AbortSignal): Promise<TraceHits>;
  fetch?(id: string, signal: AbortSignal): Promise<Span[]>;
}

/** The message of a failed request, with its cause when the message does not hold it (fetch says only "fetch failed"). */
export function requestError(err: unknown): string {
  const message = errorMessage(err);
  const cause = err instanceof Error && err.cause ? errorMessage(err.cause) : '';
  return cause && !message.includes(cause) ? `${message}: ${cause}` : message;
}

/** A base URL without its trailing slashes, for building request URLs. */
export function baseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/** How a trace source read its store. */
export interface TraceRead {
  traces: number;
  spans: number;
  queries: number;
  /** Queries that returned as many traces as they asked for: the store held more. */
  full: number;
  /** Searches that failed: their slices (for their service) are not read. */
  searchesFailed: number;
  /** Traces found whose fetch failed, and the first of them (`<id>: <reason>`). */
  skipped: number;
  firstSkipped?: string;
  /** Why the reading stopped before the end of the window, when the store was taken as down. */
  stopped?: string;
}

// A store is taken as down, and asked nothing more, once this many requests in a row could not
// reach it (each after its tries): one may be a restart its tries did not outlast, two in a row
// are a store that is gone, and each further request would spend its tries again.
const DOWN_UNREACHABLE = 2;
// ... or once this many requests in a row failed, whatever the reason: a store that answers 5xx to
// every trace would cost each of up to --max-traces traces its tries (about 2 s each by default).
// A few bad traces in a row (one damaged block) stay below it and are skipped.
const DOWN_FAILED = 10;

/** Failures in a row, to tell a store that is down from one that failed one request. */
class StoreHealth {
  private failedInARow = 0;
  private unreachableInARow = 0;
  /** A request succeeded. */
  answered = false;
  /** Why the store is taken as down, once it is. */
  down: string | undefined;

  ok(): void {
    this.failedInARow = 0;
    this.unreachableInARow = 0;
    this.answered = true;
  }

  /** Counts a failed request; true when it is the one that shows the store down. */
  fail(err: unknown): boolean {
    if (this.down !== undefined) return false;
    this.failedInARow += 1;
    this.unreachableInARow = unreachable(err) ? this.unreachableInARow + 1 : 0;
    if (this.unreachableInARow >= DOWN_UNREACHABLE)
      this.down = `${this.unreachableInARow} requests in a row could not reach it, the last: ${requestError(err)}`;
    else if (this.failedInARow >= DOWN_FAILED)
      this.down = `${this.failedInARow} requests in a row failed, the last: ${requestError(err)}`;
    return this.down !== undefined;
  }
}

/** The connection's code (`ECONNREFUSED`) when a request failed to reach the store, its tries spent or not. */
function unreachable(err: unknown): string | undefined {
  return connectionCode(err) ?? (err instanceof RetriesExhausted ? connectionCode(err.cause) : undefined);
}

/**
 * Reads a trace store over the window, bounded in traces: the window is cut into slices of at
 * least a minute, each searched per service (or once for all) for its share of what is left of
 * `maxTraces`, so the traces kept spread over the window instead of piling into its last minutes.
 * Each trace is written once, its spans together. Each request is tried again after a connection
 * error, 429 or 5xx (the store's getJson retries). A store that cannot be reached at the first
 * request, or answers no search, fails the source (the error names its URL). After that, a search
 * that fails skips its slice (a warning names it) and a trace whose fetch fails is skipped
 * (counted in `read`); the rest is read, unless the store is down ({@link StoreHealth}): then the
 * reading stops with a warning and what was read is kept.
 */
export async function readTraceStore(
  store: TraceStore,
  services: readonly (string | undefined)[],
  writer: BundleWriter,
  ctx: SourceContext,
  maxTraces: number,
): Promise<TraceRead> {
  const read: TraceRead = { traces: 0, spans: 0, queries: 0, full: 0, searchesFailed: 0, skipped: 0 };
  const label = redactText(store.label);
  const slices = timeSlices(
    ctx.window,
    Math.max(1, Math.floor(maxTraces / (services.length * MIN_PER_QUERY))),
  );
  const seen = new Set<string>();
  const health = new StoreHealth();
  let firstSearchError: unknown;
  // Traces are fetched a few at once and written one after the other, each whole.
  let writing = Promise.resolve();
  const write = (spans: Span[]): Promise<void> => {
    const next = writing.then(async () => {
      for (const s of spans) await writer.addSpan(s);
      read.traces += 1;
      read.spans += spans.length;
    });
    writing = next.catch(() => undefined);
    return next;
  };
  const failed = (err: unknown): void => {
    if (!health.fail(err)) return;
    read.stopped = health.down;
    ctx.warn({
      code: 'HINDSIGHT_SOURCE_FAILED',
      message: `stopped reading ${label}, the rest of the window unread: ${health.down ?? ''}`,
      where: label,
    });
  };
  const fetchOne = async (hit: TraceHits['traces'][number]): Promise<void> => {
    if (health.down !== undefined) return;
    let spans = hit.spans;
    try {
      if (spans === undefined) {
        spans = (await store.fetch?.(hit.id, ctx.signal)) ?? [];
        health.ok();
      }
    } catch (err) {
      if (ctx.signal.aborted) return;
      read.skipped += 1;
      read.firstSkipped ??= `${hit.id}: ${requestError(err)}`;
      return failed(err);
    }
    await write(spans);
  };
  reading: for (const [i, slice] of slices.entries()) {
    const share = Math.floor((maxTraces - read.traces) / (slices.length - i));
    const limit = Math.max(1, Math.floor(share / services.length));
    for (const service of services) {
      if (ctx.signal.aborted || read.traces >= maxTraces || health.down !== undefined) break reading;
      const q: TraceQuery = { service, ...slice, limit };
      const what = `${service ?? 'all services'} ${new Date(slice.from).toISOString()}`;
      ctx.progress(read.spans, what);
      let hits: TraceHits;
      try {
        read.queries += 1;
        hits = await store.search(q, ctx.signal);
        health.ok();
      } catch (err) {
        if (ctx.signal.aborted) break reading;
        if (!health.answered && unreachable(err))
          throw new Error(`${label} did not answer: ${requestError(err)}`);
        read.searchesFailed += 1;
        firstSearchError ??= err;
        ctx.warn({
          code: 'HINDSIGHT_SOURCE_FAILED',
          message: `search of ${service ?? 'all services'} from ${new Date(slice.from).toISOString()} to ${new Date(slice.to).toISOString()} skipped: ${requestError(err)}`,
          where: `${label} ${what}`,
        });
        failed(err);
        continue;
      }
      if (hits.traces.length >= limit) read.full += 1;
      const fresh = hits.traces.filter((h) => !seen.has(h.id)).slice(0, maxTraces - read.traces);
      for (const h of fresh) seen.add(h.id);
      await mapLimit(fresh, ctx.options.fetchConcurrency ?? 4, fetchOne, ctx.signal);
    }
  }
  if (read.queries > 0 && read.searchesFailed === read.queries)
    throw new Error(`${label} answered no search: ${requestError(firstSearchError)}`);
  if (read.skipped > 0)
    ctx.warn({ code: 'HINDSIGHT_SOURCE_FAILED', message: skippedText(read), where: label });
  return read;
}

/** `3 traces skipped: <first id>: <reason>`. */
function skippedText(read: TraceRead): string {
  return `${read.skipped} ${read.skipped === 1 ? 'trace' : 'traces'} skipped: ${read.firstSkipped ?? ''}`;
}

/** The source's result: partial, saying what was not read, when a search or a trace failed. */
export function traceResult(read: TraceRead): SourceResult {
  const missed = [
    ...(read.searchesFailed > 0
      ? [`${read.searchesFailed} ${read.searchesFailed === 1 ? 'search' : 'searches'} failed`]
      : []),
    ...(read.skipped > 0 ? [skippedText(read)] : []),
    ...(read.stopped !== undefined ? [`stopped: ${read.stopped}`] : []),
  ];
  return missed.length > 0
    ? { status: 'partial', items: read.spans, detail: missed.join('; ') }
    : { status: 'ok', items: read.spans };
}

/** The window cut into at most `most` equal slices of at least a minute. */
function timeSlices(window: TimeWindow, most: number): Array<{ from: number; to: number }> {
  const n = Math.max(1, Math.min(most, Math.floor((window.to - window.from) / MIN_SLICE_MS)));
  const step = (window.to - window.from) / n;
  return Array.from({ length: n }, (_, i) => ({
    from: Math.round(window.from + i * step),
    to: i === n - 1 ? window.to : Math.round(window.from + (i + 1) * step),
  }));
}

/** The manifest note saying how the traces were chosen, so a reader knows they are a sample, and what was not read. */
export function traceNote(name: string, read: TraceRead, maxTraces: number, services: number): string {
  const sampled =
    read.full > 0 || read.traces >= maxTraces
      ? `; ${read.full} of ${read.queries} searches returned as many traces as they asked for, so the traces are a sample`
      : '';
  const failed =
    read.searchesFailed > 0
      ? `; ${read.searchesFailed} of ${read.queries} searches failed, their slices unread`
      : '';
  const skipped = read.skipped > 0 ? `; ${skippedText(read)}` : '';
  const stopped = read.stopped !== undefined ? `; stopped before the end of the window: ${read.stopped}` : '';
  return `${name}: ${read.traces} traces (${read.spans} spans) read, at most ${maxTraces} (--max-traces), from ${services === 0 ? 'every service' : `${services} services`}${sampled}${failed}${skipped}${stopped}`;
}
