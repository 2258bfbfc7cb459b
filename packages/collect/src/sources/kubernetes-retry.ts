import { apiError, streamPodLog, type Kube, type LogReadResult, type PodLogRef } from '../kube.js';
import { withRetries, type RetryOptions } from '../retry.js';

/**
 * The cluster's clients with every API call retried ({@link withRetries}): a connection error, 429
 * (API priority and fairness sheds load with it, and a Retry-After) or 5xx (an API server pod
 * restarting behind its load balancer) is tried again; a 403 or 404 is not. The calls are reads.
 */
export function withKubeRetries(kube: Kube, options: RetryOptions): Kube {
  const wrap = <T extends object>(api: T): T =>
    new Proxy(api, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): Promise<unknown> =>
          withRetries(
            `${kube.server} ${String(prop)}`,
            () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
            { describe: apiError, ...options },
          );
      },
    });
  return { ...kube, core: wrap(kube.core), apps: wrap(kube.apps) };
}

/**
 * Reads a container log as {@link streamPodLog} does, trying again while the read has given no
 * line: once lines have reached `onLine`, another try would give them twice, so that failure is
 * the caller's.
 */
export async function streamPodLogWithRetries(
  kube: Kube,
  ref: PodLogRef,
  window: { from: number; to: number },
  onLine: (timestamp: string, time: number, text: string) => Promise<void>,
  signal: AbortSignal,
  options: RetryOptions,
): Promise<LogReadResult> {
  let given = false;
  return withRetries(
    `${kube.server}/api/v1/namespaces/${ref.namespace}/pods/${ref.pod}/log`,
    () =>
      streamPodLog(
        kube,
        ref,
        window,
        (ts, time, text) => {
          given = true;
          return onLine(ts, time, text);
        },
        signal,
      ),
    { describe: apiError, ...options, retryIf: () => !given },
  );
}
