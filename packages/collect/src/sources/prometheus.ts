import { errorMessage, podWorkload, redactText, type BundleWriter } from '@hindsight/core';
import { z } from 'zod';
import type { Source, SourceContext, SourceResult } from '../source.js';
import { rangeStep } from '../http.js';
import { loadKube } from '../kube.js';
import { COMPONENT_LABEL } from '../labels.js';
import { exporterSeries } from './prometheus-exporters.js';
import {
  connectionCode,
  fetchWithRetries,
  QUERY_ANSWER_MS,
  HttpStatusError,
  RetriesExhausted,
  RetryTally,
  type RetryOptions,
} from '../retry.js';
import { withKubeRetries } from './kubernetes-retry.js';

interface ApiResponse<T> {
  status: string;
  error?: string;
  errorType?: string;
  data?: T;
}
type Matrix = {
  resultType: string;
  result: Array<{ metric: Record<string, string>; values?: Array<[number, string]> }>;
};

/**
 * The metric families read without being asked, in the order they are kept when the series limit
 * cuts: the golden signals first (requests, errors, latency), then saturation, restarts, and the
 * exporters of the shop's stores. Names are those of the Prometheus client libraries, cAdvisor,
 * kube-state-metrics and the Redis, PostgreSQL and nginx exporters.
 */
const FAMILIES: ReadonlyArray<{ name: string; match: string }> = [
  { name: 'requests', match: 'http_.+|.+_requests_total|.+_request_duration_seconds.*|.+_errors_total' },
  { name: 'nginx', match: 'nginx_.+' },
  {
    name: 'saturation',
    match:
      'container_cpu_usage_seconds_total|container_cpu_cfs_throttled_.+|container_memory_working_set_bytes|container_spec_memory_limit_bytes|container_oom_events_total',
  },
  {
    name: 'restarts',
    match:
      'kube_pod_container_status_(restarts_total|ready|waiting_reason|last_terminated_reason)|kube_pod_status_(phase|ready)|kube_(deployment|statefulset)_(spec_replicas|replicas|status_replicas_ready|status_replicas_available)',
  },
  { name: 'redis', match: 'redis_.+' },
  { name: 'postgresql', match: 'pg_.+' },
  { name: 'up', match: 'up' },
];

/** The least step of range queries (s) when `--prometheus-step` is not given: Prometheus' default scrape interval. */
export const DEFAULT_PROMETHEUS_STEP = 15;
/** Discovered series read when `--prometheus-max-series` is not given. */
export const DEFAULT_PROMETHEUS_MAX_SERIES = 2000;

const positiveInt = (flag: string) =>
  z.coerce
    .number()
    .int()
    .positive({ message: `${flag} must be a whole number above 0` })
    .optional();
const prometheusSettingsSchema = z
  .object({
    prometheus: z.string().optional(),
    promql: z.array(z.string()).optional(),
    prometheusStep: positiveInt('--prometheus-step'),
    prometheusMaxSeries: positiveInt('--prometheus-max-series'),
  })
  .refine((s) => (s.promql ?? []).length === 0 || Boolean(s.prometheus), {
    message: '--promql needs --prometheus',
  });
/** The prometheus source's settings: `--prometheus`, its `--promql` queries, the step and series limit. */
export type PrometheusSettings = z.infer<typeof prometheusSettingsSchema>;

/** A series name from a query without `__name__` (an expression such as `rate(x[5m])`). */
function nameOfQuery(q: string): string {
  const n = q
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 80);
  return /^[A-Za-z_]/.test(n) ? n : `q_${n}`;
}

/** A PromQL regex alternation matching exactly these values. */
function anyOf(values: Iterable<string>): string {
  return [...new Set(values)]
    .sort()
    .map((v) => v.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&'))
    .join('|');
}

/**
 * Why Prometheus failed: unreachable (or failing on every try), too large (422 too many samples,
 * 400 past 11,000 points), or else.
 */
class PrometheusError extends Error {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'too-large' | 'refused',
  ) {
    super(message);
  }
}

/** Prometheus' 503 for a query that ran out of time (errorType `timeout`): it would time out again. */
const timedOut = (body: string): boolean => /"errorType"\s*:\s*"timeout"/.test(body);

/**
 * POSTs a form to the HTTP API (POST: 1,000 pods' names do not fit in a URL) and returns `data`.
 * A connection error, 429 or 5xx is tried again ({@link fetchWithRetries}); when the tries are
 * spent, Prometheus is unreachable and the source stops, rather than spend them on every query.
 */
async function post<T>(
  base: string,
  api: string,
  form: URLSearchParams,
  signal: AbortSignal,
  retry: RetryOptions,
): Promise<T> {
  let res: Response;
  try {
    res = await fetchWithRetries(
      `${base}${api}`,
      { method: 'POST', body: form, signal, headers: { accept: 'application/json' } },
      {
        ...retry,
        transient: (_status, body) => !timedOut(body),
        answerMs: retry.policy?.answerMs ?? QUERY_ANSWER_MS,
      },
    );
  } catch (err) {
    const last = err instanceof RetriesExhausted ? err.cause : err;
    const tries = err instanceof RetriesExhausted ? ` after ${err.tries}` : '';
    if (last instanceof HttpStatusError)
      throw new PrometheusError(
        `Prometheus at ${redactText(base)} keeps failing: ${errorMessage(err)}`,
        'unreachable',
      );
    const cause = (last as { cause?: { message?: string } }).cause;
    throw new PrometheusError(
      `Prometheus at ${redactText(base)} is unreachable (${connectionCode(last) ?? cause?.message ?? errorMessage(last)})${tries}: check --prometheus`,
      'unreachable',
    );
  }
  const text = await res.text();
  let body: ApiResponse<T> | undefined;
  try {
    body = JSON.parse(text) as ApiResponse<T>;
  } catch {
    body = undefined;
  }
  if (res.ok && body?.status === 'success' && body.data !== undefined) return body.data;
  const why = body?.error ?? text.slice(0, 200);
  const tooLarge =
    res.status === 422 || /too many samples|exceeded maximum resolution|maximum number of/i.test(why);
  throw new PrometheusError(
    `HTTP ${res.status} from ${redactText(base)}${api}: ${why}${
      tooLarge
        ? ' (too large: narrow the window, raise --prometheus-step or lower --prometheus-max-series)'
        : ''
    }`,
    tooLarge ? 'too-large' : 'refused',
  );
}

/** The pods in scope as label matchers: their namespace, pods and workloads (what the metrics carry). */
async function scopeMatchers(
  ctx: SourceContext<PrometheusSettings>,
  retry: RetryOptions,
): Promise<{
  matchers: string[];
  componentOfPod: Map<string, string>;
}> {
  const componentOfPod = new Map<string, string>();
  const ns = ctx.options.namespace;
  if (!ctx.options.kubeconfig) {
    // Without the cluster, the namespace alone scopes; without it, the families alone do.
    return { matchers: ns ? [`namespace="${ns}"`] : ['job=~".+"'], componentOfPod };
  }
  const kube = withKubeRetries(await loadKube(ctx.options), retry);
  const selector = (ctx.options as { selector?: string }).selector;
  const pods = (
    await kube.core.listNamespacedPod({
      namespace: kube.namespace,
      ...(selector ? { labelSelector: selector } : {}),
    })
  ).items;
  const names = pods.map((p) => p.metadata?.name ?? '').filter((n) => n !== '');
  const workloads = new Set<string>();
  for (const p of pods) {
    const workload = podWorkload(p.metadata);
    const component = p.metadata?.labels?.[COMPONENT_LABEL] ?? workload;
    if (workload) workloads.add(workload);
    if (component) workloads.add(component);
    if (component && p.metadata?.name) componentOfPod.set(p.metadata.name, component);
  }
  const nsMatcher = `namespace="${kube.namespace}"`;
  const matchers: string[] = [];
  // A selector narrows to some pods: the namespace alone would bring the others too.
  if (selector) {
    if (names.length > 0) matchers.push(`${nsMatcher}, pod=~"${anyOf(names)}"`);
    if (workloads.size > 0) {
      for (const label of ['deployment', 'statefulset', 'daemonset'])
        matchers.push(`${nsMatcher}, ${label}=~"${anyOf(workloads)}"`);
    }
  } else {
    matchers.push(nsMatcher);
  }
  // Exporters scraped by a static configuration carry no namespace, only their job.
  if (workloads.size > 0) matchers.push(`job=~"${anyOf(workloads)}"`);
  return { matchers, componentOfPod };
}

/** Series discovered per family; the families kept whole or cut to some names under the limit. */
async function discover(
  base: string,
  ctx: SourceContext<PrometheusSettings>,
  matchers: readonly string[],
  retry: RetryOptions,
): Promise<{ queries: Array<{ family: string; query: string; series: number }>; cut: string[] }> {
  const queries: Array<{ family: string; query: string; series: number }> = [];
  const cut: string[] = [];
  let budget = ctx.options.prometheusMaxSeries ?? DEFAULT_PROMETHEUS_MAX_SERIES;
  for (const family of FAMILIES) {
    if (ctx.signal.aborted) break;
    const form = new URLSearchParams();
    for (const m of matchers) form.append('match[]', `{__name__=~"${family.match}", ${m}}`);
    form.set('start', String(ctx.window.from / 1000));
    form.set('end', String(ctx.window.to / 1000));
    ctx.progress(0, `discovering ${family.name} series`);
    let found: Array<Record<string, string>>;
    try {
      found = await post<Array<Record<string, string>>>(base, '/api/v1/series', form, ctx.signal, retry);
    } catch (err) {
      if (err instanceof PrometheusError && err.kind === 'unreachable') throw err;
      ctx.warn({
        code: 'HINDSIGHT_SOURCE_FAILED',
        message: `Prometheus series discovery failed: ${errorMessage(err)}`,
        where: `${base}/api/v1/series ${family.name}`,
      });
      continue;
    }
    if (found.length === 0) continue;
    const byName = new Map<string, number>();
    for (const s of found) byName.set(s['__name__'] ?? '', (byName.get(s['__name__'] ?? '') ?? 0) + 1);
    let pattern = family.match;
    let count = found.length;
    if (count > budget) {
      // Whole names, fewest series first, so one wide histogram does not crowd out ten gauges.
      const kept: string[] = [];
      count = 0;
      for (const [name, n] of [...byName.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))) {
        if (count + n > budget) cut.push(`${name} (${n})`);
        else {
          kept.push(name);
          count += n;
        }
      }
      if (kept.length === 0) continue;
      pattern = anyOf(kept);
    }
    budget -= count;
    const query = matchers.map((m) => `{__name__=~"${pattern}", ${m}}`).join(' or ');
    queries.push({ family: family.name, query, series: count });
  }
  return { queries, cut };
}

/**
 * Reads Prometheus over the window: first the series of the request, error, latency, saturation,
 * restart and exporter families whose namespace, pod or workload labels are those of the pods in
 * scope (found with /api/v1/series, so the series limit applies before any sample is read), then
 * each family with one query_range, then each --promql query. The queries go to the manifest's notes.
 */
export const prometheusSource: Source<PrometheusSettings> = {
  name: 'prometheus',
  flags: [
    { flags: '--prometheus <url>', description: 'Prometheus base URL' },
    {
      flags: '--promql <query>',
      description: 'a PromQL query to read over the window besides the discovered series (repeatable)',
      repeatable: true,
    },
    {
      flags: '--prometheus-step <seconds>',
      description: `the least step of range queries, widened to at most 2000 points per series (default: ${DEFAULT_PROMETHEUS_STEP})`,
    },
    {
      flags: '--prometheus-max-series <n>',
      description: `the most discovered series read; past it, the names with most series are left out (default: ${DEFAULT_PROMETHEUS_MAX_SERIES})`,
    },
  ],
  schema: prometheusSettingsSchema,
  needs: ['prometheus'],
  async collect(writer: BundleWriter, sourceCtx: SourceContext<PrometheusSettings>): Promise<SourceResult> {
    const [retries, ctx] = RetryTally.of(sourceCtx);
    const base = (ctx.options.prometheus as string).replace(/\/+$/, '');
    const step = Math.max(ctx.options.prometheusStep ?? DEFAULT_PROMETHEUS_STEP, rangeStep(ctx.window));
    let scope: Awaited<ReturnType<typeof scopeMatchers>>;
    try {
      scope = await scopeMatchers(ctx, retries.options());
    } catch (err) {
      ctx.warn({
        code: 'HINDSIGHT_SOURCE_FAILED',
        message: `cannot list the pods in scope (${errorMessage(err)}): Prometheus is read by namespace only`,
      });
      const ns = ctx.options.namespace;
      scope = { matchers: ns ? [`namespace="${ns}"`] : ['job=~".+"'], componentOfPod: new Map() };
    }
    const { queries, cut } = await discover(base, ctx, scope.matchers, retries.options());
    if (cut.length > 0) {
      const what = `past --prometheus-max-series ${ctx.options.prometheusMaxSeries ?? DEFAULT_PROMETHEUS_MAX_SERIES}, left out: ${cut.join(', ')}`;
      writer.addNote(`prometheus: ${what}`);
      ctx.warn({ code: 'HINDSIGHT_SOURCE_FAILED', message: `Prometheus series ${what}`, where: base });
    }
    const all = [
      ...queries.map((q) => ({ query: q.query, discovered: true })),
      ...(ctx.options.promql ?? []).map((query) => ({ query, discovered: false })),
    ];
    let items = 0;
    const failed: string[] = [];
    for (const { query, discovered } of all) {
      if (ctx.signal.aborted) break;
      writer.addNote(`prometheus: query_range step ${step}s at ${base}: ${query}`);
      const form = new URLSearchParams({
        query,
        start: String(ctx.window.from / 1000),
        end: String(ctx.window.to / 1000),
        step: `${step}s`,
      });
      ctx.progress(items, query.slice(0, 80));
      try {
        const data = await post<Matrix>(base, '/api/v1/query_range', form, ctx.signal, retries.options());
        for (const r of data.result) {
          const { __name__: metricName, ...labels } = r.metric;
          const name = metricName ?? nameOfQuery(query);
          const component = labels['pod'] ? scope.componentOfPod.get(labels['pod']) : undefined;
          // An exporter's name for what the redis and postgres sources sample: the bundle's name, so
          // that the analyzers read both alike.
          const same = metricName ? exporterSeries(metricName, labels) : undefined;
          // Prometheus writes NaN and ±Inf as strings ("NaN": a quantile of no observation, a
          // ratio of zero rates); a bundle holds numbers only, so those samples are gaps.
          const points = (r.values ?? [])
            .map(([t, v]) => [Math.round(Number(t) * 1000), Number(v)] as [number, number])
            .filter(([, v]) => Number.isFinite(v));
          if (points.length === 0) continue;
          await writer.addSeries({
            name: same?.name ?? name,
            labels: {
              ...(component ? { component } : {}),
              ...(same?.labels ?? labels),
              source: 'prometheus',
              ...(metricName || discovered ? {} : { query }),
            },
            kind: same?.kind ?? (/_(total|count|sum|bucket)$/.test(name) ? 'counter' : 'gauge'),
            points,
          });
          items += 1;
        }
      } catch (err) {
        if (err instanceof PrometheusError && err.kind === 'unreachable') throw err;
        failed.push(query);
        ctx.warn({
          code: 'HINDSIGHT_SOURCE_FAILED',
          message: `Prometheus query failed: ${errorMessage(err)}`,
          where: `${base} ${query}`,
        });
      }
    }
    retries.note(writer, 'prometheus', base);
    if (failed.length > 0 && failed.length === all.length)
      throw new Error(`every Prometheus query failed at ${base}`);
    return failed.length > 0
      ? { status: 'partial', items, detail: `failed queries: ${failed.join('; ').slice(0, 500)}` }
      : { status: 'ok', items };
  },
};
