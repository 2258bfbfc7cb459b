import { errorMessage, redactText, type BundleWriter, type LogSink } from '@hindsight/core';
import { z } from 'zod';
import type { Source, SourceContext, SourceResult } from '../source.js';
import { rangeStep } from '../http.js';
import {
  connectionCode,
  fetchWithRetries,
  QUERY_ANSWER_MS,
  HttpStatusError,
  RetriesExhausted,
  RetryTally,
  type RetryOptions,
} from '../retry.js';

interface LokiResponse {
  status: string;
  error?: string;
  data?: {
    resultType: 'streams' | 'matrix' | string;
    result: Array<{
      stream?: Record<string, string>;
      metric?: Record<string, string>;
      values: Array<[string, string] | [number, string]>;
    }>;
  };
}

/** Entries asked for per request; Loki's default max_entries_limit_per_query is 5000. */
const PAGE = 5000;
/** Lines read per stream when `--loki-max-lines` is not given. */
export const DEFAULT_LOKI_MAX_LINES = 100_000;
/**
 * Bytes per line assumed to turn the volume API's bytes into lines: the JSON lines of the shop and
 * nginx's access lines are 150-300 bytes, so a stream is sampled a little early rather than late.
 */
const LINE_BYTES = 150;
/** Slices of the window a sampled stream's lines are taken from, evenly. */
const SAMPLE_SLICES = 10;

const lokiSettingsSchema = z
  .object({
    loki: z.string().optional(),
    logql: z.array(z.string()).optional(),
    lokiMaxLines: z.coerce
      .number()
      .int()
      .positive({ message: '--loki-max-lines must be a whole number of lines above 0' })
      .optional(),
  })
  .refine((s) => (s.logql ?? []).length === 0 || Boolean(s.loki), { message: '--logql needs --loki' });
/** The loki source's settings: `--loki`, its `--logql` queries and `--loki-max-lines`. */
export type LokiSettings = z.infer<typeof lokiSettingsSchema>;

interface VolumeResponse {
  status: string;
  data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}
interface PatternsResponse {
  status: string;
  data?: Array<{ pattern: string; samples: Array<[number, number]> }>;
}

/** A LogQL stream selector matching exactly these labels. */
function selectorOf(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

/**
 * Splits a log query into its stream selector and the rest (`{app="x"} |= "error"`); a metric
 * query (`rate(...)`) has no leading selector and is read whole.
 */
function splitLogQuery(query: string): { selector: string; pipeline: string } | undefined {
  const m = /^\s*(\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})(.*)$/s.exec(query);
  return m ? { selector: m[1] as string, pipeline: m[2] as string } : undefined;
}

/** Loki down, or failing on every try: the source stops rather than spend the tries on each query. */
class LokiUnreachable extends Error {}

/**
 * GETs JSON from Loki; a connection error, 429 or 5xx is tried again ({@link fetchWithRetries}),
 * another answer that is not 2xx is an error naming the status and the start of the body.
 */
async function getJson<T>(url: URL, base: string, retry: RetryOptions): Promise<T> {
  let res: Response;
  try {
    res = await fetchWithRetries(
      url,
      { headers: { accept: 'application/json' }, ...(retry.signal ? { signal: retry.signal } : {}) },
      { ...retry, answerMs: retry.policy?.answerMs ?? QUERY_ANSWER_MS },
    );
  } catch (err) {
    if (!(err instanceof RetriesExhausted) && !connectionCode(err)) throw err;
    const last = err instanceof RetriesExhausted ? err.cause : err;
    const tries = err instanceof RetriesExhausted ? ` after ${err.tries}` : '';
    throw new LokiUnreachable(
      last instanceof HttpStatusError
        ? `Loki at ${redactText(base)} keeps failing: ${errorMessage(err)}`
        : `Loki at ${redactText(base)} is unreachable (${connectionCode(last)})${tries}: check --loki`,
    );
  }
  const text = await res.text();
  const where = redactText(url.origin + url.pathname);
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${where}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON from ${where}: ${text.slice(0, 100)}`);
  }
}

/** Where a source's lines go: one sink per namespace/pod/container, opened at its first line. */
type Sinks = Map<string, LogSink>;

/**
 * Reads one query from `startNs` to `endNs` with query_range, paging forward, at most `cap` lines:
 * log lines into container logs, metric results as series. Returns the records written.
 */
async function pull(
  writer: BundleWriter,
  ctx: SourceContext<LokiSettings>,
  base: string,
  sinks: Sinks,
  query: string,
  range: { start: bigint; end: bigint },
  retry: RetryOptions,
  cap = Infinity,
): Promise<number> {
  // Loki's times are nanoseconds; BigInt keeps them exact past 2^53.
  let start = range.start;
  let boundary = new Set<string>();
  let items = 0;
  for (let page = 0; !ctx.signal.aborted && items < cap; page++) {
    const url = new URL(`${base}/loki/api/v1/query_range`);
    url.searchParams.set('query', query);
    url.searchParams.set('start', String(start));
    url.searchParams.set('end', String(range.end));
    url.searchParams.set('limit', String(Math.min(PAGE, cap - items)));
    url.searchParams.set('direction', 'forward');
    url.searchParams.set('step', `${rangeStep(ctx.window)}s`);
    ctx.progress(items, `${query} page ${page + 1}`);
    const body = await getJson<LokiResponse>(url, base, retry);
    if (body.status !== 'success' || !body.data) throw new Error(body.error ?? `status ${body.status}`);
    if (body.data.resultType === 'matrix') {
      for (const r of body.data.result) {
        const { __name__: metricName, ...labels } = r.metric ?? {};
        await writer.addSeries({
          name: metricName ?? 'loki_query',
          labels: { ...labels, source: 'loki', query },
          kind: 'gauge',
          points: r.values.map(([t, v]) => [Math.round(Number(t) * 1000), Number(v)] as [number, number]),
        });
        items += 1;
      }
      break;
    }
    let count = 0;
    let fetched = 0;
    let last = start;
    const atLast = new Set<string>();
    const entries: Array<{ ns: bigint; line: string; labels: Record<string, string> }> = [];
    for (const r of body.data.result) {
      for (const [ts, line] of r.values) entries.push({ ns: BigInt(ts), line, labels: r.stream ?? {} });
    }
    entries.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
    for (const e of entries) {
      fetched += 1;
      // The next page starts at the last page's last time, inclusive (several lines can share
      // a nanosecond): those already written are skipped.
      const id = `${JSON.stringify(e.labels)}\u0000${e.line}`;
      if (e.ns === start && boundary.has(id)) continue;
      if (e.ns > last) {
        last = e.ns;
        atLast.clear();
      }
      atLast.add(id);
      const ref = {
        namespace: e.labels['namespace'] ?? 'loki',
        pod: e.labels['pod'] ?? e.labels['instance'] ?? e.labels['job'] ?? 'loki',
        container: e.labels['container'] ?? e.labels['app'] ?? 'log',
        previous: false,
      };
      const key = `${ref.namespace}/${ref.pod}/${ref.container}`;
      let sink = sinks.get(key);
      if (!sink) {
        sink = await writer.openLog(ref);
        sinks.set(key, sink);
      }
      await sink.write(Number(e.ns / 1_000_000n), e.line);
      count += 1;
    }
    items += count;
    if (fetched < PAGE || count === 0) break;
    start = last;
    boundary = atLast;
  }
  return items;
}

/** The streams a selector matches over the window, with their bytes, from the volume API (index only). */
async function volumes(
  base: string,
  ctx: SourceContext<LokiSettings>,
  selector: string,
  retry: RetryOptions,
): Promise<Array<{ labels: Record<string, string>; bytes: number }>> {
  const url = new URL(`${base}/loki/api/v1/index/volume`);
  url.searchParams.set('query', selector);
  url.searchParams.set('start', String(BigInt(ctx.window.from) * 1_000_000n));
  url.searchParams.set('end', String(BigInt(ctx.window.to) * 1_000_000n));
  url.searchParams.set('aggregateBy', 'series');
  url.searchParams.set('limit', '10000');
  const body = await getJson<VolumeResponse>(url, base, retry);
  return (body.data?.result ?? []).map((r) => ({ labels: r.metric, bytes: Number(r.value[1]) }));
}

/** Writes the patterns API's template counts of one stream as series (`loki_pattern_lines`). */
async function patterns(
  writer: BundleWriter,
  base: string,
  ctx: SourceContext<LokiSettings>,
  stream: Record<string, string>,
  retry: RetryOptions,
): Promise<number> {
  const url = new URL(`${base}/loki/api/v1/patterns`);
  url.searchParams.set('query', selectorOf(stream));
  url.searchParams.set('start', String(BigInt(ctx.window.from) * 1_000_000n));
  url.searchParams.set('end', String(BigInt(ctx.window.to) * 1_000_000n));
  url.searchParams.set('step', `${Math.max(60, rangeStep(ctx.window))}s`);
  const body = await getJson<PatternsResponse>(url, base, retry);
  for (const p of body.data ?? []) {
    await writer.addSeries({
      name: 'loki_pattern_lines',
      labels: { ...stream, source: 'loki', pattern: p.pattern },
      kind: 'gauge',
      points: p.samples.map(([t, n]) => [Math.round(Number(t) * 1000), Number(n)] as [number, number]),
    });
  }
  return body.data?.length ?? 0;
}

/**
 * Runs each --logql query over the window. A log query asks the volume API first for the bytes of
 * each stream it selects: a stream within `--loki-max-lines` is read whole with query_range; one
 * past it gives its template counts from the patterns API (Loki 3) and an even sample of lines,
 * the same number from each tenth of the window. Log lines are written as
 * logs/<namespace>/<pod>/<container>.log from the streams' labels; metric queries as series.
 */
export const lokiSource: Source<LokiSettings> = {
  name: 'loki',
  flags: [
    { flags: '--loki <url>', description: 'Loki base URL' },
    {
      flags: '--logql <query>',
      description: 'a LogQL query to read over the window (repeatable)',
      repeatable: true,
    },
    {
      flags: '--loki-max-lines <n>',
      description: `lines read per Loki stream; past it (by the volume API), template counts from the patterns API and an even sample (default: ${DEFAULT_LOKI_MAX_LINES})`,
    },
  ],
  schema: lokiSettingsSchema,
  needs: ['loki', 'logql'],
  async collect(writer: BundleWriter, sourceCtx: SourceContext<LokiSettings>): Promise<SourceResult> {
    const [retries, ctx] = RetryTally.of(sourceCtx);
    const retry = retries.options();
    const base = (ctx.options.loki as string).replace(/\/+$/, '');
    const max = ctx.options.lokiMaxLines ?? DEFAULT_LOKI_MAX_LINES;
    const range = { start: BigInt(ctx.window.from) * 1_000_000n, end: BigInt(ctx.window.to) * 1_000_000n };
    const sinks: Sinks = new Map();
    let items = 0;
    const failed: string[] = [];
    const sampled: string[] = [];
    for (const query of ctx.options.logql ?? []) {
      try {
        const split = splitLogQuery(query);
        let streams: Awaited<ReturnType<typeof volumes>> | undefined;
        if (split) {
          try {
            streams = await volumes(base, ctx, split.selector, retry);
          } catch (err) {
            if (err instanceof LokiUnreachable) throw err;
            // Loki before 2.9, or volume_enabled off: every line is read, as before the API existed.
            ctx.warn({
              code: 'HINDSIGHT_SOURCE_FAILED',
              message: `Loki volume API unavailable, reading ${query} whole: ${errorMessage(err)}`,
              where: `${base}/loki/api/v1/index/volume`,
            });
          }
        }
        const big = (streams ?? []).filter((s) => s.bytes / LINE_BYTES > max);
        if (!split || !streams || big.length === 0) {
          items += await pull(writer, ctx, base, sinks, query, range, retry);
          continue;
        }
        for (const stream of streams) {
          if (ctx.signal.aborted) break;
          const q = `${selectorOf(stream.labels)}${split.pipeline}`;
          if (stream.bytes / LINE_BYTES <= max) {
            items += await pull(writer, ctx, base, sinks, q, range, retry);
            continue;
          }
          let templates = 0;
          try {
            templates = await patterns(writer, base, ctx, stream.labels, retry);
            items += templates;
          } catch (err) {
            if (err instanceof LokiUnreachable) throw err;
            ctx.warn({
              code: 'HINDSIGHT_SOURCE_FAILED',
              message: `Loki patterns API unavailable (Loki 3 with the pattern ingester has it): ${errorMessage(err)}`,
              where: `${base}/loki/api/v1/patterns ${selectorOf(stream.labels)}`,
            });
          }
          const slice = (range.end - range.start) / BigInt(SAMPLE_SLICES);
          let lines = 0;
          for (let i = 0; i < SAMPLE_SLICES; i++) {
            const start = range.start + slice * BigInt(i);
            const end = i === SAMPLE_SLICES - 1 ? range.end : start + slice;
            lines += await pull(
              writer,
              ctx,
              base,
              sinks,
              q,
              { start, end },
              retry,
              Math.ceil(max / SAMPLE_SLICES),
            );
          }
          items += lines;
          sampled.push(
            `${selectorOf(stream.labels)} about ${Math.round(stream.bytes / LINE_BYTES)} lines (${stream.bytes} bytes): ${templates} templates and ${lines} lines sampled`,
          );
        }
      } catch (err) {
        if (err instanceof LokiUnreachable) throw err;
        failed.push(query);
        ctx.warn({
          code: 'HINDSIGHT_SOURCE_FAILED',
          message: `Loki query failed: ${errorMessage(err)}`,
          where: `${base} ${query}`,
        });
      }
    }
    if (failed.length > 0 && failed.length === (ctx.options.logql ?? []).length) {
      throw new Error(`every Loki query failed at ${base}`);
    }
    const problems = [
      ...(failed.length > 0 ? [`failed queries: ${failed.join('; ')}`] : []),
      ...(sampled.length > 0
        ? [
            `past --loki-max-lines ${max}, ${sampled.length} streams sampled: ${sampled.slice(0, 5).join('; ')}`,
          ]
        : []),
    ];
    for (const s of sampled) writer.addNote(`loki: past --loki-max-lines ${max}: ${s}`);
    retries.note(writer, 'loki', base);
    // Partial, with why: investigate's report lists it among its warnings.
    return problems.length > 0
      ? { status: 'partial', items, detail: problems.join('; ') }
      : { status: 'ok', items };
  },
};
