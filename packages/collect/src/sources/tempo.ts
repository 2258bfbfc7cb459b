import { otlpSpans, redactText, type BundleWriter, type Span } from '@hindsight/core';
import { z } from 'zod';
import { getJson } from '../http.js';
import { RetryTally, type RetryOptions } from '../retry.js';
import type { Source, SourceContext, SourceResult } from '../source.js';
import {
  DEFAULT_MAX_TRACES,
  baseUrl,
  readTraceStore,
  traceNote,
  traceResult,
  traceSettingsSchema,
  type TraceHits,
  type TraceQuery,
  type TraceStore,
} from './trace-query.js';

// Tempo's HTTP API (https://grafana.com/docs/tempo/latest/api_docs/): a search answers trace ids
// (`start`/`end` in unix seconds, `tags` in logfmt), a trace by id answers OTLP/JSON.
interface TempoSearch {
  traces?: Array<{ traceID: string; rootServiceName?: string; startTimeUnixNano?: string }> | null;
}

function tempoStore(base: string, ctx: SourceContext<TempoSettings>, retry: RetryOptions): TraceStore {
  return {
    label: `Tempo at ${base}`,
    async search(q: TraceQuery, signal: AbortSignal): Promise<TraceHits> {
      const url = new URL(`${base}/api/search`);
      // logfmt: a value with anything but a name's characters is quoted.
      const value = /^[\w.-]+$/.test(q.service ?? '') ? q.service : JSON.stringify(q.service);
      if (q.service !== undefined) url.searchParams.set('tags', `service.name=${value}`);
      url.searchParams.set('start', String(Math.floor(q.from / 1000)));
      url.searchParams.set('end', String(Math.ceil(q.to / 1000)));
      url.searchParams.set('limit', String(q.limit));
      const body = await getJson<TempoSearch>(url, { ...retry, signal });
      return { traces: (body.traces ?? []).map((t) => ({ id: t.traceID })) };
    },
    async fetch(id: string, signal: AbortSignal): Promise<Span[]> {
      const url = new URL(`${base}/api/traces/${encodeURIComponent(id)}`);
      const { spans, skipped } = otlpSpans(await getJson<unknown>(url, { ...retry, signal }));
      if (skipped.length > 0) {
        ctx.warn({
          code: 'HINDSIGHT_SOURCE_FAILED',
          message: `${skipped.length} spans of trace ${id} skipped: ${skipped[0] ?? ''}`,
          where: redactText(url.origin + url.pathname),
        });
      }
      return spans;
    },
  };
}

const tempoSettingsSchema = traceSettingsSchema.extend({
  tempo: z.url({ message: 'must be a URL such as http://tempo:3200' }).optional(),
});
/** The tempo source's settings: `--tempo` and the trace flags (which the jaeger source declares). */
export type TempoSettings = z.infer<typeof tempoSettingsSchema>;

/**
 * Tempo (`--tempo URL`): the traces of each `--trace-service` (matched on `service.name`; every
 * service when none is given) over the window, at most `--max-traces` in all, spread over the
 * window in slices (see {@link readTraceStore}), each trace fetched by id as OTLP/JSON and read as
 * `hindsight import otlp` reads it.
 */
export const tempoSource: Source<TempoSettings> = {
  name: 'tempo',
  flags: [{ flags: '--tempo <url>', description: "Tempo's base URL (spans)" }],
  schema: tempoSettingsSchema,
  needs: ['tempo'],
  async collect(writer: BundleWriter, sourceCtx: SourceContext<TempoSettings>): Promise<SourceResult> {
    const [retries, ctx] = RetryTally.of(sourceCtx);
    const base = baseUrl(ctx.options.tempo as string);
    const maxTraces = ctx.options.maxTraces ?? DEFAULT_MAX_TRACES;
    const named = ctx.options.traceService ?? [];
    const services = named.length > 0 ? named : [undefined];
    const read = await readTraceStore(
      tempoStore(base, ctx, retries.options()),
      services,
      writer,
      ctx,
      maxTraces,
    );
    retries.note(writer, 'tempo', redactText(base));
    writer.addNote(traceNote('tempo', read, maxTraces, named.length));
    return traceResult(read);
  },
};
