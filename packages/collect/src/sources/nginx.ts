import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { V1Pod } from '@kubernetes/client-node';
import { HindsightError, errorMessage, type BundleWriter } from '@hindsight/core';
import { z } from 'zod';
import { apiError, loadKube, type Kube } from '../kube.js';
import { RetryTally, type RetryOptions } from '../retry.js';
import { streamPodLogWithRetries, withKubeRetries } from './kubernetes-retry.js';
import { CHART_LOG_FORMAT, compileLogFormat, lineTime, type NginxLogFormat } from '../nginx-log-format.js';
import { SeriesSet } from '../series-set.js';
import type { Source, SourceContext, SourceResult } from '../source.js';
import { COMPONENT_LABEL } from '../labels.js';

interface Second {
  requests: number;
  classes: [number, number, number, number];
  s499: number;
  s502: number;
  s504: number;
  requestTimes: number[];
  upstreamTimes: number[];
  /** Error-log lines by level (`error`, `warn`, ...). */
  errorLines: Map<string, number>;
}

// nginx's error log: `2026/01/02 03:04:05 [error] 7#7: *9 upstream timed out ...`. A container's logs
// hold it beside the access log (stderr and stdout in one stream, as `kubectl logs` shows them).
const ERROR_LINE = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) \[([a-z]+)\] /;

function percentile(sorted: number[], p: number): number {
  // Nearest rank: a value that was observed, never an interpolation between two.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

/** Turns access-log lines into per-second request, status and latency series. */
export class AccessLogAggregator {
  private readonly seconds = new Map<number, Second>();
  lines = 0;
  parsed = 0;
  unmatched = 0;
  firstUnmatched = 0;
  outside = 0;
  /** Lines of nginx's own error log, counted as a series rather than warned about. */
  errorLines = 0;
  private readonly levels = new Set<string>();

  constructor(
    private readonly format: NginxLogFormat,
    private readonly window: { from: number; to: number },
  ) {}

  /** Adds one line; `fallbackTime` (a pod log's timestamp) is used when the format has no time. */
  add(line: string, fallbackTime = Number.NaN): void {
    this.lines += 1;
    const v = this.format.parse(line);
    if (!v) {
      const e = ERROR_LINE.exec(line);
      if (e) this.addErrorLine(e, fallbackTime);
      else {
        this.unmatched += 1;
        if (this.firstUnmatched === 0) this.firstUnmatched = this.lines;
      }
      return;
    }
    let t = lineTime(v);
    if (Number.isNaN(t)) t = fallbackTime;
    const s = this.second(t);
    if (!s) return;
    this.parsed += 1;
    s.requests += 1;
    const status = Number(v['status']);
    const cls = Math.floor(status / 100);
    if (cls >= 2 && cls <= 5) s.classes[cls - 2] += 1;
    if (status === 499) s.s499 += 1;
    if (status === 502) s.s502 += 1;
    if (status === 504) s.s504 += 1;
    const rt = Number(v['request_time']);
    if (v['request_time'] !== undefined && Number.isFinite(rt)) s.requestTimes.push(rt);
    // "0.010, 0.004" after a retry to the next upstream: the request waited for both.
    const ut = (v['upstream_response_time'] ?? '')
      .split(/[,:]/)
      .map((x) => x.trim())
      .filter((x) => /^\d+(\.\d+)?$/.test(x))
      .map(Number);
    if (ut.length > 0) s.upstreamTimes.push(ut.reduce((a, b) => a + b, 0));
  }

  private addErrorLine(e: RegExpExecArray, fallbackTime: number): void {
    // The error log's time has no zone: nginx writes its own local time. A pod log's timestamp is
    // exact, so it wins; a file is read on the machine that wrote it, in the same zone.
    const [y, mo, d, h, mi, sec] = e.slice(1, 7).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const t = Number.isNaN(fallbackTime) ? new Date(y, mo - 1, d, h, mi, sec).getTime() : fallbackTime;
    const s = this.second(t);
    if (!s) return;
    const level = e[7] as string;
    this.errorLines += 1;
    this.levels.add(level);
    s.errorLines.set(level, (s.errorLines.get(level) ?? 0) + 1);
  }

  /** The tally of the second of `t`, or undefined (counted as outside) when `t` is not in the window. */
  private second(t: number): Second | undefined {
    if (Number.isNaN(t) || t < this.window.from || t > this.window.to) {
      this.outside += 1;
      return undefined;
    }
    const sec = Math.floor(t / 1000) * 1000;
    let s = this.seconds.get(sec);
    if (!s) {
      s = {
        requests: 0,
        classes: [0, 0, 0, 0],
        s499: 0,
        s502: 0,
        s504: 0,
        requestTimes: [],
        upstreamTimes: [],
        errorLines: new Map(),
      };
      this.seconds.set(sec, s);
    }
    return s;
  }

  /** The series: one point per second from the first to the last second seen (zeros in between). */
  series(labels: Record<string, string>): SeriesSet {
    const set = new SeriesSet();
    const secs = [...this.seconds.keys()].sort((a, b) => a - b);
    if (secs.length === 0) return set;
    const first = secs[0] as number;
    const last = secs[secs.length - 1] as number;
    const unit = 'requests/s';
    for (let t = first; t <= last; t += 1000) {
      const s = this.seconds.get(t);
      set.add('nginx_requests', labels, 'gauge', t, s?.requests ?? 0, unit);
      ['2xx', '3xx', '4xx', '5xx'].forEach((c, i) =>
        set.add(`nginx_status_${c}`, labels, 'gauge', t, s?.classes[i] ?? 0, unit),
      );
      set.add('nginx_status_499', labels, 'gauge', t, s?.s499 ?? 0, unit);
      set.add('nginx_status_502', labels, 'gauge', t, s?.s502 ?? 0, unit);
      set.add('nginx_status_504', labels, 'gauge', t, s?.s504 ?? 0, unit);
      if (s && s.requestTimes.length > 0) {
        const rt = s.requestTimes.sort((a, b) => a - b);
        set.add('nginx_request_time_p50', labels, 'gauge', t, percentile(rt, 0.5), 's');
        set.add('nginx_request_time_p99', labels, 'gauge', t, percentile(rt, 0.99), 's');
      }
      if (s && s.upstreamTimes.length > 0) {
        const ut = s.upstreamTimes.sort((a, b) => a - b);
        set.add('nginx_upstream_time_p99', labels, 'gauge', t, percentile(ut, 0.99), 's');
      }
      for (const level of this.levels)
        set.add(
          'nginx_error_log_lines',
          { ...labels, level },
          'gauge',
          t,
          s?.errorLines.get(level) ?? 0,
          'lines/s',
        );
    }
    return set;
  }
}

/** The label selector of nginx pods when neither a log file nor a pod is named. */
export const NGINX_POD_SELECTOR = `${COMPONENT_LABEL}=nginx`;

interface Input {
  /** Where the lines come from, for warnings: a file or pod/NAME. */
  where: string;
  pod?: string;
  read(agg: AccessLogAggregator): Promise<void>;
}

function fileInput(file: string, ctx: SourceContext<NginxSettings>): Input {
  return {
    where: file,
    async read(agg) {
      ctx.progress(0, file);
      const input = createReadStream(file);
      await new Promise<void>((resolve, reject) => {
        input.once('open', () => resolve());
        input.once('error', reject);
      }).catch((err: Error) => {
        throw new Error(`cannot read the nginx log ${file}: ${err.message}`);
      });
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        if (ctx.signal.aborted) break;
        agg.add(line);
        if (agg.lines % 10_000 === 0) ctx.progress(agg.parsed, `${agg.lines} lines`);
      }
      input.destroy();
    },
  };
}

function podInput(kube: Kube, pod: V1Pod, ctx: SourceContext<NginxSettings>, retry: RetryOptions): Input {
  const name = pod.metadata?.name ?? '';
  const container =
    pod.spec?.containers.find((c) => c.name === 'nginx')?.name ?? pod.spec?.containers[0]?.name ?? 'nginx';
  return {
    where: `pod/${name}`,
    pod: name,
    async read(agg) {
      ctx.progress(0, `log of pod ${name}`);
      await streamPodLogWithRetries(
        kube,
        { namespace: kube.namespace, pod: name, container, previous: false },
        ctx.window,
        async (_ts, time, text) => agg.add(text, time),
        ctx.signal,
        retry,
      ).catch((err: unknown) => {
        throw new Error(
          `cannot read the log of pod ${kube.namespace}/${name} at ${kube.server}: ${apiError(err)}`,
        );
      });
    },
  };
}

const nginxSettingsSchema = z
  .object({
    nginxLog: z.string().optional(),
    nginxPod: z.string().optional(),
    nginxLogFormat: z.string().optional(),
  })
  .refine((s) => !(s.nginxLog && s.nginxPod), { message: 'give --nginx-log or --nginx-pod, not both' });
/** The nginx source's settings: where the access log is and its format. */
export type NginxSettings = z.infer<typeof nginxSettingsSchema>;

/**
 * Parses nginx access logs with a log_format (the chart's by default) into per-second series:
 * nginx_requests, nginx_status_{2xx,3xx,4xx,5xx,499,502,504}, nginx_request_time_p50/p99 and
 * nginx_upstream_time_p99. Reads --nginx-log, or --nginx-pod's log, or else the log of every pod
 * labelled app.kubernetes.io/component=nginx (one set of series per pod).
 */
export const nginxSource: Source<NginxSettings> = {
  name: 'nginx',
  flags: [
    { flags: '--nginx-log <file>', description: 'an nginx access log file' },
    { flags: '--nginx-pod <pod>', description: 'a pod whose log is the nginx access log' },
    {
      flags: '--nginx-log-format <format>',
      description: "an nginx log_format string (default: the chart's `hindsight` format)",
    },
  ],
  schema: nginxSettingsSchema,
  needs: [['nginxLog', 'nginxPod', 'kubeconfig']],
  async collect(writer: BundleWriter, sourceCtx: SourceContext<NginxSettings>): Promise<SourceResult> {
    const [retries, ctx] = RetryTally.of(sourceCtx);
    const { nginxLog, nginxPod } = ctx.options;
    let server: string | undefined;
    const format = compileLogFormat(ctx.options.nginxLogFormat ?? CHART_LOG_FORMAT);
    let inputs: Input[];
    if (nginxLog) {
      inputs = [fileInput(nginxLog, ctx)];
    } else {
      if (!ctx.options.kubeconfig)
        throw new HindsightError('HINDSIGHT_USAGE', '--nginx-pod needs --kubeconfig');
      const kube = withKubeRetries(await loadKube(ctx.options), retries.options());
      server = kube.server;
      let pods: V1Pod[];
      try {
        pods = nginxPod
          ? [await kube.core.readNamespacedPod({ name: nginxPod, namespace: kube.namespace })]
          : (
              await kube.core.listNamespacedPod({
                namespace: kube.namespace,
                labelSelector: NGINX_POD_SELECTOR,
              })
            ).items;
      } catch (err) {
        throw new Error(
          `cannot read ${nginxPod ? `pod ${kube.namespace}/${nginxPod}` : `the nginx pods of ${kube.namespace}`} at ${kube.server}: ${apiError(err)}`,
        );
      }
      if (pods.length === 0)
        return { status: 'ok', items: 0, detail: `no pod labelled ${NGINX_POD_SELECTOR}` };
      inputs = pods
        .sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1))
        .map((p) => podInput(kube, p, ctx, retries.options()));
    }
    let items = 0;
    const partial: string[] = [];
    const failed: string[] = [];
    for (const input of inputs) {
      if (ctx.signal.aborted) break;
      const agg = new AccessLogAggregator(format, ctx.window);
      try {
        await input.read(agg);
      } catch (err) {
        if (inputs.length === 1) throw err;
        failed.push(input.where);
        ctx.warn({ code: 'HINDSIGHT_SOURCE_FAILED', message: errorMessage(err), where: input.where });
        continue;
      }
      if (agg.unmatched > 0) {
        partial.push(`${input.where}: ${agg.unmatched} of ${agg.lines} lines did not match the log format`);
        ctx.warn({
          code: 'HINDSIGHT_LOG_FORMAT',
          message: `${agg.unmatched} of ${agg.lines} nginx log lines did not match the log format (first: line ${agg.firstUnmatched})`,
          where: input.where,
        });
      }
      if (inputs.length === 1 && agg.lines > 0 && agg.parsed === 0 && agg.unmatched === agg.lines) {
        throw new HindsightError(
          'HINDSIGHT_LOG_FORMAT',
          'no nginx log line matched the log format',
          input.where,
        );
      }
      const labels: Record<string, string> = {
        source: 'nginx',
        component: 'nginx',
        ...(input.pod ? { pod: input.pod } : {}),
      };
      items += await agg.series(labels).writeTo(writer);
      ctx.progress(items, input.where);
    }
    if (failed.length === inputs.length) throw new Error(`no nginx log could be read: ${failed.join(', ')}`);
    retries.note(writer, 'nginx', server);
    const problems = [...failed.map((f) => `${f}: unreadable`), ...partial];
    return problems.length > 0
      ? { status: 'partial', items, detail: problems.join('; ') }
      : { status: 'ok', items };
  },
};
