import { errorMessage, type BundleWriter, type LogSink } from '@hindsight/core';
import { z } from 'zod';
import type { Source, SourceContext, SourceResult } from '../source.js';
import { getJson, rangeStep } from '../http.js';

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

const lokiSettingsSchema = z
  .object({ loki: z.string().optional(), logql: z.array(z.string()).optional() })
  .refine((s) => (s.logql ?? []).length === 0 || Boolean(s.loki), { message: '--logql needs --loki' });
/** The loki source's settings: `--loki` and its `--logql` queries. */
export type LokiSettings = z.infer<typeof lokiSettingsSchema>;

/**
 * Runs each --logql query over the window with query_range. Log queries page forward and are
 * written as logs/<namespace>/<pod>/<container>.log from the streams' labels; metric queries
 * are written as series.
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
  ],
  schema: lokiSettingsSchema,
  needs: ['loki', 'logql'],
  async collect(writer: BundleWriter, ctx: SourceContext<LokiSettings>): Promise<SourceResult> {
    const base = (ctx.options.loki as string).replace(/\/+$/, '');
    const sinks = new Map<string, LogSink>();
    let items = 0;
    const failed: string[] = [];
    for (const query of ctx.options.logql ?? []) {
      // Loki's times are nanoseconds; BigInt keeps them exact past 2^53.
      let start = BigInt(ctx.window.from) * 1_000_000n;
      let boundary = new Set<string>();
      const end = BigInt(ctx.window.to) * 1_000_000n;
      try {
        for (let page = 0; !ctx.signal.aborted; page++) {
          const url = new URL(`${base}/loki/api/v1/query_range`);
          url.searchParams.set('query', query);
          url.searchParams.set('start', String(start));
          url.searchParams.set('end', String(end));
          url.searchParams.set('limit', String(PAGE));
          url.searchParams.set('direction', 'forward');
          url.searchParams.set('step', `${rangeStep(ctx.window)}s`);
          ctx.progress(items, `${query} page ${page + 1}`);
          const body = await getJson<LokiResponse>(url, ctx.signal);
          if (body.status !== 'success' || !body.data) throw new Error(body.error ?? `status ${body.status}`);
          if (body.data.resultType === 'matrix') {
            for (const r of body.data.result) {
              const { __name__: metricName, ...labels } = r.metric ?? {};
              await writer.addSeries({
                name: metricName ?? 'loki_query',
                labels: { ...labels, source: 'loki', query },
                kind: 'gauge',
                points: r.values.map(
                  ([t, v]) => [Math.round(Number(t) * 1000), Number(v)] as [number, number],
                ),
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
      } catch (err) {
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
    return failed.length > 0
      ? { status: 'partial', items, detail: `failed queries: ${failed.join('; ')}` }
      : { status: 'ok', items };
  },
};
