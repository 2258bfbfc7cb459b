import { formatUnixNanos, redactText, spanSchema, type BundleWriter, type Span } from '@hindsight/core';
import { z } from 'zod';
import { getJson } from '../http.js';
import { RetryTally, type RetryOptions } from '../retry.js';
import type { Source, SourceContext, SourceResult } from '../source.js';
import {
  DEFAULT_MAX_TRACES,
  baseUrl,
  readTraceStore,
  requestError,
  traceFlags,
  traceNote,
  traceResult,
  traceSettingsSchema,
  type TraceHits,
  type TraceQuery,
  type TraceStore,
} from './trace-query.js';

// Jaeger's query service's JSON (the API its UI reads, https://www.jaegertracing.io/docs/latest/apis/;
// the records are jaeger's model/json/model.go): times in microseconds, ids in hex.
interface JaegerKeyValue {
  key: string;
  type?: string;
  value: unknown;
}
interface JaegerSpan {
  traceID: string;
  spanID: string;
  parentSpanID?: string;
  operationName: string;
  references?: Array<{ refType: string; traceID: string; spanID: string }> | null;
  startTime: number;
  duration: number;
  tags?: JaegerKeyValue[] | null;
  processID: string;
}
interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags?: JaegerKeyValue[] | null }>;
}
interface JaegerResponse<T> {
  data: T | null;
  errors?: Array<{ code?: number; msg: string; traceID?: string }> | null;
}

const KINDS = new Set(['server', 'client', 'internal', 'producer', 'consumer']);

function tag(tags: JaegerKeyValue[] | null | undefined, key: string): string | undefined {
  const t = (tags ?? []).find((kv) => kv.key === key);
  return t === undefined ? undefined : String(t.value);
}

// Jaeger prints a 128-bit trace id without the high half's leading zeros (model/ids.go); tracers
// and logs write W3C's 32 digits, so the id is padded back to link with them.
function traceId(id: string): string {
  const hex = id.toLowerCase();
  return hex.length > 16 && hex.length < 32 ? hex.padStart(32, '0') : hex;
}

/** One Jaeger span as a bundle span, or undefined when it lacks what a span needs. */
function toSpan(s: JaegerSpan, trace: JaegerTrace): Span | undefined {
  const process = trace.processes[s.processID];
  const parent =
    (s.references ?? []).find((r) => r.refType === 'CHILD_OF')?.spanID ??
    (s.references ?? []).find((r) => r.refType === 'FOLLOWS_FROM')?.spanID ??
    s.parentSpanID;
  const kind = tag(s.tags, 'span.kind');
  const error = tag(s.tags, 'error') === 'true' || tag(s.tags, 'otel.status_code') === 'ERROR';
  const ok = tag(s.tags, 'otel.status_code') === 'OK';
  const start = Number.isSafeInteger(s.startTime) ? formatUnixNanos(`${s.startTime}000`) : undefined;
  const pod = tag(process?.tags, 'k8s.pod.name');
  const parsed = spanSchema.safeParse({
    trace: traceId(s.traceID),
    span: s.spanID.toLowerCase(),
    ...(parent && !/^0+$/.test(parent) ? { parent: parent.toLowerCase() } : {}),
    component: process?.serviceName,
    ...(pod ? { pod } : {}),
    operation: s.operationName,
    start,
    durationMs: s.duration / 1000,
    ...(kind && KINDS.has(kind) ? { kind } : {}),
    ...(error ? { status: 'error' } : ok ? { status: 'ok' } : {}),
  });
  return parsed.success ? parsed.data : undefined;
}

function jaegerStore(base: string, ctx: SourceContext, retry: RetryOptions): TraceStore {
  return {
    label: `Jaeger at ${base}`,
    async search(q: TraceQuery, signal: AbortSignal): Promise<TraceHits> {
      const url = new URL(`${base}/api/traces`);
      url.searchParams.set('service', q.service ?? '');
      url.searchParams.set('start', String(q.from * 1000));
      url.searchParams.set('end', String(q.to * 1000));
      url.searchParams.set('limit', String(q.limit));
      const body = await getJson<JaegerResponse<JaegerTrace[]>>(url, { ...retry, signal });
      for (const e of body.errors ?? []) {
        ctx.warn({
          code: 'HINDSIGHT_SOURCE_FAILED',
          message: `Jaeger: ${e.msg}`,
          where: `${redactText(base)} ${e.traceID ?? q.service ?? ''}`.trim(),
        });
      }
      return {
        traces: (body.data ?? []).map((t) => {
          const spans = t.spans.map((s) => toSpan(s, t));
          const kept = spans.filter((s): s is Span => s !== undefined);
          if (kept.length < spans.length) {
            ctx.warn({
              code: 'HINDSIGHT_SOURCE_FAILED',
              message: `${spans.length - kept.length} spans of trace ${t.traceID} lack an id, a service or a time; skipped`,
              where: redactText(base),
            });
          }
          return { id: traceId(t.traceID), spans: kept };
        }),
      };
    },
  };
}

const jaegerSettingsSchema = traceSettingsSchema.extend({
  jaeger: z.url({ message: 'must be a URL such as http://jaeger:16686' }).optional(),
});
/** The jaeger source's settings: `--jaeger` and the trace flags. */
export type JaegerSettings = z.infer<typeof jaegerSettingsSchema>;

/**
 * Jaeger's query service (`--jaeger URL`): the traces of each `--trace-service` (every service
 * `/api/services` lists when none is given) over the window, at most `--max-traces` in all, spread
 * over the window in slices (see {@link readTraceStore}). A span's component is its process's
 * service name, its pod the process tag `k8s.pod.name`; kind from `span.kind`, status from `error`
 * and `otel.status_code`.
 */
export const jaegerSource: Source<JaegerSettings> = {
  name: 'jaeger',
  flags: [{ flags: '--jaeger <url>', description: "Jaeger query service's base URL (spans)" }, ...traceFlags],
  schema: jaegerSettingsSchema,
  needs: ['jaeger'],
  async collect(writer: BundleWriter, sourceCtx: SourceContext<JaegerSettings>): Promise<SourceResult> {
    const [retries, ctx] = RetryTally.of(sourceCtx);
    const base = baseUrl(ctx.options.jaeger as string);
    const maxTraces = ctx.options.maxTraces ?? DEFAULT_MAX_TRACES;
    let services = ctx.options.traceService ?? [];
    if (services.length === 0) {
      const url = new URL(`${base}/api/services`);
      try {
        services = (await getJson<JaegerResponse<string[]>>(url, retries.options())).data ?? [];
      } catch (err) {
        throw new Error(`Jaeger at ${redactText(base)} did not answer: ${requestError(err)}`);
      }
      if (services.length === 0) {
        retries.note(writer, 'jaeger', redactText(base));
        writer.addNote(`jaeger: ${redactText(base)} lists no service`);
        return { status: 'ok', items: 0 };
      }
    }
    const read = await readTraceStore(
      jaegerStore(base, ctx, retries.options()),
      services,
      writer,
      ctx,
      maxTraces,
    );
    retries.note(writer, 'jaeger', redactText(base));
    writer.addNote(traceNote('jaeger', read, maxTraces, services.length));
    return traceResult(read);
  },
};
