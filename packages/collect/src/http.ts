import { redactText } from '@hindsight/core';
import { fetchWithRetries, type RetryOptions } from './retry.js';

/**
 * GETs JSON; a connection error, 429 or 5xx is tried again ({@link fetchWithRetries}: when the
 * tries are spent, a RetriesExhausted naming the endpoint and the tries), another answer that is
 * not 2xx is an error naming the status and the start of the body.
 */
export async function getJson<T>(url: URL, retry: RetryOptions & { signal: AbortSignal }): Promise<T> {
  const res = await fetchWithRetries(
    url,
    { signal: retry.signal, headers: { accept: 'application/json' } },
    retry,
  );
  const text = await res.text();
  if (!res.ok)
    throw new Error(
      `HTTP ${res.status} from ${redactText(url.origin + url.pathname)}: ${text.slice(0, 200)}`,
    );
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`not JSON from ${redactText(url.origin + url.pathname)}: ${text.slice(0, 100)}`);
  }
}

/**
 * The query_range step for a window: about 2000 points per series, at least one second.
 * Prometheus refuses more than 11,000 points per series, so this stays well inside it.
 */
export function rangeStep(window: { from: number; to: number }): number {
  return Math.max(1, Math.ceil((window.to - window.from) / 1000 / 2000));
}
