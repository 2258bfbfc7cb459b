import { errorMessage, redactText, type BundleWriter, type Span } from '@hindsight/core';
import { z } from 'zod';
import { mapLimit } from '../limit.js';
import { RetriesExhausted } from '../retry.js';
import type { SourceContext, SourceFlag, TimeWindow } from '../source.js';

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
  failed: number;
}

/**
 * Reads a trace store over the window, bounded in traces: the window is cut into slices of at
 * least a minute, each searched per service (or once for all) for its share of what is left of
 * `maxTraces`, so the traces kept spread over the window instead of piling into its last minutes.
 * Each trace is written once, its spans together. Each request is tried again after a connection
 * error, 429 or 5xx (the store's getJson retries). A store that does not answer the first search
 * fails the source (the error names its URL); later failures are warnings and the rest is read,
 * but a request whose tries are spent stops the reading (the store is down: the tries are not
 * spent again on every request left).
 */
export async function readTraceStore(
  store: TraceStore,
  services: readonly (string | undefined)[],
  writer: BundleWriter,
  ctx: SourceContext,
  maxTraces: number,
): Promise<TraceRead> {
  const read: TraceRead = { traces: 0, spans: 0, queries: 0, full: 0, failed: 0 };
  const slices = timeSlices(
    ctx.window,
    Math.max(1, Math.floor(maxTraces / (services.length * MIN_PER_QUERY))),
  );
  const seen = new Set<string>();
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
  // Set when a request spent its tries: the store is down, nothing more is asked of it.
  let down = false;
  const stop = (err: unknown, where: string): void => {
    if (down) return;
    down = true;
    ctx.warn({
      code: 'HINDSIGHT_SOURCE_FAILED',
      message: `stopped reading ${redactText(store.label)}, the rest of the window unread: ${requestError(err)}`,
      where,
    });
  };
  for (const [i, slice] of slices.entries()) {
    const share = Math.floor((maxTraces - read.traces) / (slices.length - i));
    const limit = Math.max(1, Math.floor(share / services.length));
    for (const service of services) {
      if (ctx.signal.aborted || read.traces >= maxTraces || down) return read;
      const q: TraceQuery = { service, ...slice, limit };
      ctx.progress(read.spans, `${service ?? 'all services'} ${new Date(slice.from).toISOString()}`);
      let hits: TraceHits;
      try {
        read.queries += 1;
        hits = await store.search(q, ctx.signal);
      } catch (err) {
        if (read.queries === 1)
          throw new Error(`${redactText(store.label)} did not answer: ${requestError(err)}`);
        read.failed += 1;
        const where =
          `${redactText(store.label)} ${service ?? ''} ${new Date(slice.from).toISOString()}`.trim();
        if (err instanceof RetriesExhausted) {
          stop(err, where);
          return read;
        }
        ctx.warn({ code: 'HINDSIGHT_SOURCE_FAILED', message: `search failed: ${requestError(err)}`, where });
        continue;
      }
      if (hits.traces.length >= limit) read.full += 1;
      const fresh = hits.traces.filter((h) => !seen.has(h.id)).slice(0, maxTraces - read.traces);
      for (const h of fresh) seen.add(h.id);
      await mapLimit(
        fresh,
        ctx.options.fetchConcurrency ?? 4,
        async (hit) => {
          if (down) return;
          try {
            await write(hit.spans ?? (await store.fetch?.(hit.id, ctx.signal)) ?? []);
          } catch (err) {
            read.failed += 1;
            if (err instanceof RetriesExhausted) return stop(err, redactText(store.label));
            ctx.warn({
              code: 'HINDSIGHT_SOURCE_FAILED',
              message: `trace ${hit.id} could not be read: ${requestError(err)}`,
              where: redactText(store.label),
            });
          }
        },
        ctx.signal,
      );
    }
  }
  return read;
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

/** The manifest note saying how the traces were chosen, so a reader knows they are a sample. */
export function traceNote(name: string, read: TraceRead, maxTraces: number, services: number): string {
  const sampled =
    read.full > 0 || read.traces >= maxTraces
      ? `; ${read.full} of ${read.queries} searches returned as many traces as they asked for, so the traces are a sample`
      : '';
  return `${name}: ${read.traces} traces (${read.spans} spans) read, at most ${maxTraces} (--max-traces), from ${services === 0 ? 'every service' : `${services} services`}${sampled}`;
}
