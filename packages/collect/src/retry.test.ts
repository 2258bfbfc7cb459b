// The client's retries against a real HTTP server on 127.0.0.1 that fails as servers fail: 5xx
// while restarting, 429 with Retry-After, a dropped connection, nothing listening.
import { afterEach, describe, expect, it } from 'vitest';
import {
  fetchWithRetries,
  RetriesExhausted,
  retryAfterMs,
  withRetries,
  type RetryNotice,
  type RetryPolicy,
} from './retry.js';
import { httpServer, sendJson, type TestHttpServer } from './test-support.js';

let server: TestHttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A server whose first `failures` answers are `fail`, then 200 with `{ ok: true }`. */
async function flaky(failures: number, fail: (res: import('node:http').ServerResponse) => void) {
  let n = 0;
  server = await httpServer((_url, _req, res) => {
    n += 1;
    if (n <= failures) return fail(res);
    sendJson(res, 200, { ok: true });
  });
  return server;
}

const notices: RetryNotice[] = [];
const record = { onRetry: (n: RetryNotice) => notices.push(n) };
afterEach(() => {
  notices.length = 0;
});

describe('requests retried with backoff against a real HTTP server', () => {
  it('answers when the server fails twice with 503 and then answers, telling each retry', async () => {
    const s = await flaky(2, (res) => sendJson(res, 503, { status: 'error', error: 'restarting' }));
    const res = await fetchWithRetries(`${s.url}/api/v1/query_range`, {}, record);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(s.requests).toHaveLength(3);
    expect(notices.map((n) => [n.reason, n.attempt, n.attempts])).toEqual([
      ['HTTP 503', 1, 4],
      ['HTTP 503', 2, 4],
    ]);
    expect(notices[0]?.what).toBe(`${s.url}/api/v1/query_range`);
    // Full jitter: each wait is below its ceiling, 0.5 s then 1 s.
    expect(notices[0]?.delayMs).toBeLessThanOrEqual(500);
    expect(notices[1]?.delayMs).toBeLessThanOrEqual(1000);
  });

  it('waits the Retry-After of a 429 before asking again', async () => {
    const s = await flaky(1, (res) => {
      res.writeHead(429, { 'retry-after': '1' });
      res.end('slow down');
    });
    const started = Date.now();
    const res = await fetchWithRetries(s.url, {}, record);
    expect(res.status).toBe(200);
    expect(notices.map((n) => [n.reason, n.delayMs])).toEqual([['HTTP 429', 1000]]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('retries a connection the server drops before answering', async () => {
    const s = await flaky(1, (res) => res.socket?.destroy());
    const res = await fetchWithRetries(s.url, {}, record);
    expect(res.status).toBe(200);
    expect(notices).toHaveLength(1);
    expect(notices[0]?.reason).toMatch(/^(ECONNRESET|UND_ERR_SOCKET)$/);
  });

  it('returns a 4xx or 501 as it came, without a retry', async () => {
    for (const status of [400, 404, 422, 501]) {
      const s = await flaky(1, (res) => sendJson(res, status, { error: 'no' }));
      const res = await fetchWithRetries(s.url, {}, record);
      expect(res.status).toBe(status);
      expect(s.requests).toHaveLength(1);
      await s.close();
      server = undefined;
    }
    expect(notices).toEqual([]);
  });

  it('gives up on a server that is down after 4 tries, in seconds, naming the endpoint', async () => {
    const s = await httpServer(() => undefined);
    const url = `${s.url}/loki/api/v1/query_range`;
    await s.close();
    const started = Date.now();
    const err = await fetchWithRetries(`${url}?query=x`, {}, record).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(RetriesExhausted);
    expect((err as Error).message).toMatch(
      new RegExp(`^ECONNREFUSED at ${url.replace(/[.]/g, '\\.')} \\(4 tries over \\d+\\.\\d s\\)$`),
    );
    expect(notices).toHaveLength(3);
    // Three waits of at most 0.5, 1 and 2 s: bounded, whatever the machine's load.
    expect(took).toBeLessThan(10_000);
  });

  it('counts a server that takes the request and never answers as timed out, and tries again', async () => {
    // Answers nothing to the first two requests (the sockets stay open), then answers.
    const s = await flaky(2, () => undefined);
    const policy: RetryPolicy = { attempts: 4, baseMs: 10, maxDelayMs: 10, budgetMs: 10_000, answerMs: 300 };
    const res = await fetchWithRetries(`${s.url}/api/traces`, {}, { ...record, policy });
    expect(await res.json()).toEqual({ ok: true });
    expect(notices.map((n) => n.reason)).toEqual(['ETIMEDOUT', 'ETIMEDOUT']);
    const never = await httpServer(() => undefined);
    const err = await fetchWithRetries(
      `${never.url}/api/search`,
      {},
      { policy: { ...policy, attempts: 1 } },
    ).catch((e: unknown) => e);
    await never.close();
    expect((err as Error).message).toMatch(
      /^no answer within 0\.3 s from http:\/\/127\.0\.0\.1:\d+\/api\/search \(1 try over 0\.\d s\)$/,
    );
  });

  it('gives up at once when Retry-After asks for longer than it waits, saying so', async () => {
    const s = await flaky(5, (res) => {
      res.writeHead(503, { 'retry-after': '120' });
      res.end('maintenance');
    });
    const err = await fetchWithRetries(s.url, {}, record).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^HTTP 503 from .*: maintenance \(1 try over \d+\.\d s; the server asked to wait 120 s \(Retry-After\), past the 10 s hindsight waits\)$/,
    );
    expect(s.requests).toHaveLength(1);
  });

  it('stops within the time budget, and at once when aborted', async () => {
    const policy: RetryPolicy = { attempts: 10, baseMs: 200, maxDelayMs: 200, budgetMs: 300 };
    let calls = 0;
    const refused = () => {
      calls += 1;
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    };
    const err = await withRetries('x', refused, { policy }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no retry past 0\.3 s\)$/);
    expect(calls).toBeLessThan(10);
    const controller = new AbortController();
    const pending = withRetries('x', refused, {
      policy: { ...policy, budgetMs: 60_000, maxDelayMs: 60_000, baseMs: 60_000 },
      signal: controller.signal,
    }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 50);
    expect(((await pending) as Error).name).toBe('AbortError');
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-03T10:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('Thu, 03 Dec 2026 10:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
