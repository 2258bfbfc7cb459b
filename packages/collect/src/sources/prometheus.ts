import { errorMessage, type BundleWriter } from '@hindsight/core';
import { z } from 'zod';
import type { Source, SourceContext, SourceResult } from '../source.js';
import { getJson, rangeStep } from '../http.js';

interface MatrixResponse {
  status: string;
  error?: string;
  data?: {
    resultType: string;
    result: Array<{ metric: Record<string, string>; values?: Array<[number, string]> }>;
  };
}

/** A series name from a query without `__name__` (an expression such as `rate(x[5m])`). */
function nameOfQuery(q: string): string {
  const n = q
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 80);
  return /^[A-Za-z_]/.test(n) ? n : `q_${n}`;
}

const prometheusSettingsSchema = z
  .object({ prometheus: z.string().optional(), promql: z.array(z.string()).optional() })
  .refine((s) => (s.promql ?? []).length === 0 || Boolean(s.prometheus), {
    message: '--promql needs --prometheus',
  });
/** The prometheus source's settings: `--prometheus` and its `--promql` queries. */
export type PrometheusSettings = z.infer<typeof prometheusSettingsSchema>;

/** Runs each --promql query over the window with query_range and writes the matrix as series. */
export const prometheusSource: Source<PrometheusSettings> = {
  name: 'prometheus',
  flags: [
    { flags: '--prometheus <url>', description: 'Prometheus base URL' },
    {
      flags: '--promql <query>',
      description: 'a PromQL query to read over the window (repeatable)',
      repeatable: true,
    },
  ],
  schema: prometheusSettingsSchema,
  needs: ['prometheus', 'promql'],
  async collect(writer: BundleWriter, ctx: SourceContext<PrometheusSettings>): Promise<SourceResult> {
    const base = (ctx.options.prometheus as string).replace(/\/+$/, '');
    const step = rangeStep(ctx.window);
    let items = 0;
    const failed: string[] = [];
    for (const query of ctx.options.promql ?? []) {
      if (ctx.signal.aborted) break;
      const url = new URL(`${base}/api/v1/query_range`);
      url.searchParams.set('query', query);
      url.searchParams.set('start', String(ctx.window.from / 1000));
      url.searchParams.set('end', String(ctx.window.to / 1000));
      url.searchParams.set('step', `${step}s`);
      ctx.progress(items, query);
      try {
        const body = await getJson<MatrixResponse>(url, ctx.signal);
        if (body.status !== 'success' || !body.data) throw new Error(body.error ?? `status ${body.status}`);
        for (const r of body.data.result) {
          const { __name__: metricName, ...labels } = r.metric;
          const name = metricName ?? nameOfQuery(query);
          await writer.addSeries({
            name,
            labels: { ...labels, source: 'prometheus', ...(metricName ? {} : { query }) },
            kind: /_(total|count|sum|bucket)$/.test(name) ? 'counter' : 'gauge',
            points: (r.values ?? []).map(
              ([t, v]) => [Math.round(Number(t) * 1000), Number(v)] as [number, number],
            ),
          });
          items += 1;
        }
      } catch (err) {
        failed.push(query);
        ctx.warn({
          code: 'HINDSIGHT_SOURCE_FAILED',
          message: `Prometheus query failed: ${errorMessage(err)}`,
          where: `${base} ${query}`,
        });
      }
    }
    if (failed.length === (ctx.options.promql ?? []).length && failed.length > 0) {
      throw new Error(`every Prometheus query failed at ${base}`);
    }
    return failed.length > 0
      ? { status: 'partial', items, detail: `failed queries: ${failed.join('; ')}` }
      : { status: 'ok', items };
  },
};
