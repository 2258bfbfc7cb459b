import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, redactText } from '@hindsight/core';
import type { SourceContext } from './source.js';

/** How a request to Prometheus, Loki or the Kubernetes API server is tried again. */
export interface RetryPolicy {
  /** Tries in all, the first one included. */
  attempts: number;
  /** The ceiling of the first wait (ms); it doubles with each retry, up to `maxDelayMs`. */
  baseMs: number;
  /** The longest wait before a retry (ms); a Retry-After past it is not waited for. */
  maxDelayMs: number;
  /** No retry starts later than this after the first try (ms). */
  budgetMs: number;
  /**
   * How long an HTTP request waits for the answer's first byte before it counts as timed out (ms;
   * 30 s when absent, {@link QUERY_ANSWER_MS} for a query engine). The body is not limited.
   */
  answerMs?: number;
}

/**
 * The wait for a Prometheus or Loki answer: their queries may run for their own query timeout
 * before the first byte (Prometheus' `query.timeout` is 2 minutes by default, Loki's 1 minute).
 */
export const QUERY_ANSWER_MS = 130_000;
const ANSWER_MS = 30_000;

/**
 * Four tries, waiting up to 0.5, 1 and 2 s between them ("full jitter": a random wait below the
 * ceiling, so that clients that failed together do not come back together; Brooker, "Exponential
 * Backoff And Jitter", AWS Architecture Blog, 2015). A server that is down fails a request within
 * about 3.5 s; one that restarts (a rolled Prometheus or API server pod) or sheds load for a
 * moment is waited for. A Retry-After up to 10 s is honoured; no retry starts 20 s after the first try.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseMs: 500, maxDelayMs: 10_000, budgetMs: 20_000 };

/** A retry about to happen, for the progress display. */
export interface RetryNotice {
  /** The endpoint (or API call) retried, redacted. */
  what: string;
  /** Why: `HTTP 503`, `ECONNREFUSED`... */
  reason: string;
  /** The try that failed (1 for the first) and the tries allowed. */
  attempt: number;
  attempts: number;
  delayMs: number;
}

/** What {@link withRetries} is told besides the call. */
export interface RetryOptions {
  policy?: RetryPolicy;
  signal?: AbortSignal;
  onRetry?: (notice: RetryNotice) => void;
  /** How the last failure reads when the tries are spent; its message by default. */
  describe?: (err: unknown) => string;
  /** A further condition for trying again (a log stream that already gave lines must not be read twice). */
  retryIf?: (err: unknown) => boolean;
}

/** Failures of the connection that may pass: refused while a server restarts, reset, timed out, DNS busy. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** 429 (too many requests) and 5xx but 501 (not implemented, which a retry does not change). */
export function transientStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501);
}

/** The connection error's code (`ECONNREFUSED`), from Node's errors, fetch's `cause` or node-fetch's. */
export function connectionCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof e?.code === 'string' ? e.code : e?.cause?.code;
  return typeof code === 'string' && CONNECTION_CODES.has(code) ? code : undefined;
}

/** Retry-After in ms: delay-seconds or an HTTP date (RFC 9110 10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A transient HTTP answer (429, 5xx), thrown so that it is retried; the last one is the error. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly endpoint: string,
    readonly body: string,
    readonly retryAfter?: number,
  ) {
    super(`HTTP ${status} from ${endpoint}${body ? `: ${body.slice(0, 200)}` : ''}`);
  }
}

/** A failure its caller knows may pass (a database that says it is starting up), with how it reads in the tally. */
export class TransientError extends Error {
  constructor(
    /** `ECONNREFUSED`, `SQLSTATE 57P03`... */
    readonly reason: string,
    override readonly cause: unknown,
  ) {
    super(errorMessage(cause), { cause });
  }
}

/** Why a failure may pass if tried again, and when the server asked to be asked again; undefined if it will not. */
export function transientReason(err: unknown): { reason: string; afterMs?: number } | undefined {
  if (err instanceof TransientError) return { reason: err.reason };
  if (err instanceof HttpStatusError)
    return {
      reason: `HTTP ${err.status}`,
      ...(err.retryAfter !== undefined ? { afterMs: err.retryAfter } : {}),
    };
  // client-node's ApiException and the log stream's error carry the status as a numeric `code`.
  const e = err as { code?: unknown; headers?: Record<string, string> } | undefined;
  if (typeof e?.code === 'number') {
    if (!transientStatus(e.code)) return undefined;
    const after = retryAfterMs(e.headers?.['retry-after']);
    return { reason: `HTTP ${e.code}`, ...(after !== undefined ? { afterMs: after } : {}) };
  }
  const code = connectionCode(err);
  return code ? { reason: code } : undefined;
}

/** The tries were spent on transient failures; `cause` is the last one. */
export class RetriesExhausted extends Error {
  constructor(
    last: string,
    /** `4 tries over 3.1 s`, and why no more were made when it was not their number. */
    readonly tries: string,
    override readonly cause: unknown,
  ) {
    super(`${last} (${tries})`, { cause });
  }
}

/** `4 tries over 3.1 s`, as the errors say it. */
function triesText(tries: number, ms: number): string {
  return `${tries} ${tries === 1 ? 'try' : 'tries'} over ${(ms / 1000).toFixed(1)} s`;
}

/**
 * Calls `call` until it succeeds or fails for good: a failure {@link transientReason} names
 * (connection errors, 429, 5xx) is tried again after an exponential, jittered wait, or after the
 * server's Retry-After, within the policy's tries and time. Any other failure is thrown as it
 * is, at once; spent tries throw {@link RetriesExhausted}, naming `what`, the tries and the time.
 */
export async function withRetries<T>(
  what: string,
  call: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const transient = transientReason(err);
      if (!transient || options.signal?.aborted || (options.retryIf && !options.retryIf(err))) throw err;
      const elapsed = Date.now() - started;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** (attempt - 1));
      const delay = transient.afterMs ?? Math.round(Math.random() * ceiling);
      const why =
        attempt >= policy.attempts
          ? ''
          : transient.afterMs !== undefined && transient.afterMs > policy.maxDelayMs
            ? `; the server asked to wait ${Math.ceil(transient.afterMs / 1000)} s (Retry-After), past the ${policy.maxDelayMs / 1000} s hindsight waits`
            : elapsed + delay > policy.budgetMs
              ? `; no retry past ${policy.budgetMs / 1000} s`
              : undefined;
      if (why !== undefined) {
        const last = (options.describe ?? errorMessage)(err);
        throw new RetriesExhausted(last, `${triesText(attempt, elapsed)}${why}`, err);
      }
      options.onRetry?.({
        what,
        reason: transient.reason,
        attempt,
        attempts: policy.attempts,
        delayMs: delay,
      });
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}

/**
 * fetch() with {@link withRetries}: a connection error, 429 or 5xx is tried again (the body of a
 * transient answer read, for the last error); any other answer is returned as it came.
 * `transient` may keep an answer from being retried (Prometheus' 503 for a query that timed out
 * would time out again).
 */
export async function fetchWithRetries(
  url: string | URL,
  init: RequestInit,
  options: RetryOptions & {
    transient?: (status: number, body: string) => boolean;
    /** The wait for the first byte of each try's answer (ms); the policy's `answerMs`, else 30 s. */
    answerMs?: number;
  } = {},
): Promise<Response> {
  const u = new URL(url);
  const endpoint = redactText(u.origin + u.pathname);
  return withRetries(
    endpoint,
    async () => {
      let res: Response;
      // A server that takes the connection and never answers (a hung process, a full accept queue
      // behind a proxy) would hold the request for undici's 300 s: the answer's first byte is waited
      // for `answerMs`, then the try counts as timed out (ETIMEDOUT) and the policy decides.
      const answerMs = options.answerMs ?? options.policy?.answerMs ?? ANSWER_MS;
      const timer = new AbortController();
      const timeout = setTimeout(() => timer.abort(), answerMs);
      try {
        res = await fetch(u, {
          ...init,
          signal: init.signal ? AbortSignal.any([init.signal, timer.signal]) : timer.signal,
        });
      } catch (err) {
        if (timer.signal.aborted && !init.signal?.aborted)
          throw Object.assign(
            new Error(`no answer within ${answerMs / 1000} s from ${endpoint}`, { cause: err }),
            { code: 'ETIMEDOUT' },
          );
        const code = connectionCode(err);
        if (!code) throw err;
        throw Object.assign(new Error(`${code} at ${endpoint}`, { cause: err }), { code });
      } finally {
        clearTimeout(timeout);
      }
      if (!transientStatus(res.status)) return res;
      const body = await res.text();
      if (options.transient && !options.transient(res.status, body))
        return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      throw new HttpStatusError(res.status, endpoint, body, retryAfterMs(res.headers.get('retry-after')));
    },
    { ...options, ...(init.signal ? { signal: init.signal } : {}) },
  );
}

/**
 * Opens a connection (to a database: PostgreSQL, Redis) with {@link withRetries}: a failure that
 * `transient` names (by default a connection refused, reset or timed out: {@link connectionCode})
 * is tried again; any other (a wrong password, an unknown database) is thrown at once, as it came.
 * Only the connection is meant to be retried this way, never a query: a query may have done its work.
 */
export async function connectWithRetries<T>(
  what: string,
  connect: () => Promise<T>,
  options: RetryOptions & { transient?: (err: unknown) => string | undefined } = {},
): Promise<T> {
  const transient = options.transient ?? connectionCode;
  return withRetries(
    what,
    async () => {
      try {
        return await connect();
      } catch (err) {
        const reason = transient(err);
        throw reason === undefined ? err : new TransientError(reason, err);
      }
    },
    { ...options, retryIf: (err) => err instanceof TransientError && (options.retryIf?.(err) ?? true) },
  );
}

/** A source's retries: each told to the progress display, all of them summed up for the manifest. */
export class RetryTally {
  private readonly reasons = new Map<string, number>();
  private readonly retried = new Set<string>();
  private count = 0;
  private items = 0;

  private constructor(
    private readonly progress: (items: number, detail?: string) => void,
    private readonly signal: AbortSignal,
    private readonly policy: RetryPolicy | undefined,
  ) {}

  /**
   * A tally for a source, and the source's context to use instead of its own: its progress calls
   * pass through the tally, so that a retry's line keeps the count of records written. The
   * collection's `retry` policy, when given, is the one its options use ({@link DEFAULT_RETRY} else).
   */
  static of<S>(ctx: SourceContext<S>): [RetryTally, SourceContext<S>] {
    const tally = new RetryTally((n, d) => ctx.progress(n, d), ctx.signal, ctx.options.retry);
    const tracked: SourceContext<S> = {
      ...ctx,
      progress: (n, d) => {
        tally.items = n;
        ctx.progress(n, d);
      },
    };
    return [tally, tracked];
  }

  /** The options that report to this tally, with `extra`. */
  options(extra: Omit<RetryOptions, 'onRetry' | 'signal'> = {}): RetryOptions & { signal: AbortSignal } {
    return {
      ...(this.policy ? { policy: this.policy } : {}),
      ...extra,
      signal: this.signal,
      onRetry: (n) => {
        this.count += 1;
        this.retried.add(n.what);
        this.reasons.set(n.reason, (this.reasons.get(n.reason) ?? 0) + 1);
        this.progress(
          this.items,
          `${n.what}: ${n.reason}, try ${n.attempt + 1} of ${n.attempts} in ${(n.delayMs / 1000).toFixed(1)} s`,
        );
      },
    };
  }

  /** `3 retries after transient failures (HTTP 503 x2, ECONNRESET x1)`, or undefined when there was none. */
  summary(): string | undefined {
    if (this.count === 0) return undefined;
    const why = [...this.reasons.entries()].map(([r, n]) => `${r} x${n}`).join(', ');
    return `${this.count} ${this.count === 1 ? 'retry' : 'retries'} after transient failures (${why})`;
  }

  /**
   * Notes in the bundle's manifest, as `SOURCE: <summary> at WHERE`, that `source` retried; nothing
   * when it did not. WHERE is, when not given, the endpoints retried.
   */
  note(writer: { addNote(text: string): void }, source: string, where?: string): void {
    const retried = this.summary();
    if (retried) writer.addNote(`${source}: ${retried} at ${where ?? [...this.retried].join(', ')}`);
  }
}
