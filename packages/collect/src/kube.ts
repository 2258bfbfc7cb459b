import { Writable } from 'node:stream';
import { AppsV1Api, CoreV1Api, KubeConfig, Log } from '@kubernetes/client-node';
import { HindsightError, errorMessage, parseRfc3339 } from '@hindsight/core';
import type { CollectOptions } from './source.js';

/** The clients a source needs, from --kubeconfig and --context. */
export interface Kube {
  config: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  log: Log;
  namespace: string;
  server: string;
}

/** Loads the kubeconfig named in the options; the namespace defaults to the context's. */
export function loadKube(options: CollectOptions): Kube {
  const config = new KubeConfig();
  try {
    config.loadFromFile(options.kubeconfig as string);
    if (options.context) config.setCurrentContext(options.context);
  } catch (err) {
    throw new HindsightError(
      'HINDSIGHT_USAGE',
      `cannot load the kubeconfig: ${errorMessage(err)}`,
      options.kubeconfig,
    );
  }
  const cluster = config.getCurrentCluster();
  if (!cluster)
    throw new HindsightError('HINDSIGHT_USAGE', 'the kubeconfig has no current cluster', options.kubeconfig);
  const ctxNs = config.getContextObject(config.getCurrentContext())?.namespace;
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    log: new Log(config),
    namespace: options.namespace ?? ctxNs ?? 'default',
    server: cluster.server,
  };
}

/** A short reason for a failed API call: the status code and the API's message when there is one. */
export function apiError(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  if (typeof e?.code === 'number') {
    let msg = '';
    try {
      const body =
        typeof e.body === 'string'
          ? (JSON.parse(e.body) as { message?: string })
          : (e.body as { message?: string });
      msg = body?.message ?? '';
    } catch {
      msg = typeof e.body === 'string' ? e.body.slice(0, 200) : '';
    }
    return `HTTP ${e.code}${msg ? `: ${msg}` : ''}`;
  }
  return errorMessage(err);
}

/** What reading one container log gave. */
export interface LogReadResult {
  lines: number;
  /** Lines without a leading timestamp, dropped. */
  untimed: number;
  /** Lines after the window's end, dropped. */
  late: number;
}

/**
 * Streams a container log (`timestamps=true`, from the window's start) line by line to `onLine`,
 * keeping the lines of the window; the writable waits for `onLine`, so a large log never sits in
 * memory.
 */
export async function streamPodLog(
  kube: Kube,
  ref: { namespace: string; pod: string; container: string; previous: boolean },
  window: { from: number; to: number },
  onLine: (timestamp: string, time: number, text: string) => Promise<void>,
  signal: AbortSignal,
): Promise<LogReadResult> {
  const result: LogReadResult = { lines: 0, untimed: 0, late: 0 };
  let rest = '';
  const handle = async (line: string): Promise<void> => {
    if (line.length === 0) return;
    const sp = line.indexOf(' ');
    const time = sp > 0 ? parseRfc3339(line.slice(0, sp)) : Number.NaN;
    if (Number.isNaN(time)) {
      result.untimed += 1;
      return;
    }
    if (time > window.to) {
      result.late += 1;
      return;
    }
    await onLine(line.slice(0, sp), time, line.slice(sp + 1));
    result.lines += 1;
  };
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      (async () => {
        for (const p of parts) await handle(p.replace(/\r$/, ''));
      })().then(() => cb(), cb);
    },
    final(cb) {
      handle(rest).then(() => cb(), cb);
    },
  });
  // 'close' follows both a normal end and a destroy (on abort); an error comes before it.
  let failure: unknown;
  out.once('error', (err) => (failure = err));
  const done = new Promise<void>((resolve) => out.once('close', () => resolve()));
  const controller = await kube.log.log(ref.namespace, ref.pod, ref.container, out, {
    timestamps: true,
    sinceTime: new Date(window.from).toISOString(),
    previous: ref.previous,
    follow: false,
  });
  const onAbort = (): void => {
    controller.abort();
    out.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await done;
    if (failure !== undefined && !signal.aborted) throw failure;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return result;
}
