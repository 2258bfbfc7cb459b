// The trace sources against a store that fails: retried for a moment, a bad trace or search
// skipped, a store that goes down left with what was read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../collect.js';
import { jaegerSource } from './jaeger.js';
import { tempoSource } from './tempo.js';
import { httpServer, tempDir, type TestHttpServer } from '../test-support.js';
import {
  FAST_RETRY,
  FROM,
  TO,
  fakeJaeger,
  fakeTempo,
  fakes,
  flaky,
  hex,
  notesOf,
  spansOf,
} from './trace-store-fakes.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let jaeger: TestHttpServer;
let tempo: TestHttpServer;

beforeAll(async () => {
  tmp = await tempDir('hs-collect-traces-retry-');
  jaeger = await fakeJaeger();
  tempo = await fakeTempo();
});
afterAll(async () => {
  await jaeger?.close();
  await tempo?.close();
  await tmp?.cleanup();
});

describe('jaeger and tempo sources retrying a store that fails for a moment', () => {
  it('reads Jaeger when its first two answers are 503, and says it retried', async () => {
    const server = await flaky(jaeger.url, (_url, n) => (n <= 2 ? 503 : undefined));
    try {
      const out = `${tmp.dir}/jaeger-flaky`;
      const r = await collect({
        output: out,
        window: { from: new Date(FROM), to: new Date(TO) },
        jaeger: server.url,
        maxTraces: 20,
        sources: [jaegerSource],
      });
      expect(r.manifest.sources[0]).toMatchObject({ name: 'jaeger', status: 'ok' });
      expect(r.warnings).toEqual([]);
      expect(await notesOf(out)).toContain(
        `jaeger: 2 retries after transient failures (HTTP 503 x2) at ${server.url}`,
      );
      expect(server.requests.slice(0, 3).map((u) => u.pathname)).toEqual([
        '/api/services',
        '/api/services',
        '/api/services',
      ]);
      expect((await spansOf(out)).length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it('retries a Tempo search and a trace fetch that fail once, and keeps every trace', async () => {
    let fetched = 0;
    const server = await flaky(tempo.url, (url, n) => {
      if (n === 1) return 503;
      if (url.pathname.startsWith('/api/traces/') && ++fetched === 1) return 502;
      return undefined;
    });
    try {
      const out = `${tmp.dir}/tempo-flaky`;
      const r = await collect({
        output: out,
        window: { from: new Date(FROM), to: new Date(TO) },
        tempo: server.url,
        maxTraces: 40,
        sources: [tempoSource],
        retry: FAST_RETRY,
      });
      // Trace 8 is gone from the store (404): not retried, a warning as without the failures.
      expect(r.manifest.sources[0]).toMatchObject({ name: 'tempo', status: 'partial', items: 40 });
      expect(r.warnings.map((w) => w.message)).toEqual([
        expect.stringMatching(/^1 trace skipped: 8: HTTP 404/),
      ]);
      expect(await notesOf(out)).toContain(
        `tempo: 2 retries after transient failures (HTTP 503 x1, HTTP 502 x1) at ${server.url}`,
      );
      expect(server.requests.filter((u) => u.pathname === '/api/traces/8')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('skips a trace Tempo answers 500 for, every try, and reads the others', async () => {
    const server = await flaky(tempo.url, (url) => (url.pathname === '/api/traces/3' ? 500 : undefined));
    try {
      const out = `${tmp.dir}/tempo-bad-trace`;
      const r = await collect({
        output: out,
        window: { from: new Date(FROM), to: new Date(TO) },
        tempo: server.url,
        maxTraces: 40,
        fetchConcurrency: 1,
        sources: [tempoSource],
        retry: FAST_RETRY,
      });
      const skipped = new RegExp(
        `^2 traces skipped: 3: HTTP 500 from ${server.url}/api/traces/3: .* \\(4 tries over \\d+\\.\\d s\\)$`,
      );
      // The two skipped leave room for two more, from the window's second slice.
      expect(r.manifest.sources[0]).toMatchObject({ name: 'tempo', status: 'partial', items: 40 });
      expect(r.manifest.sources[0]?.error).toMatch(skipped);
      // Trace 8 is gone from the store (404): skipped too, and counted.
      expect(r.warnings.map((w) => w.message)).toEqual([expect.stringMatching(skipped)]);
      const traces = new Set((await spansOf(out)).map((s) => s.trace));
      expect(traces.size).toBe(40);
      expect(traces.has(hex(3, 32))).toBe(false);
      expect(traces.has(hex(8, 32))).toBe(false);
      expect(traces.has(hex(4, 32))).toBe(true);
      expect((await notesOf(out)).find((n) => /^tempo: \d+ traces/.test(n))).toMatch(
        /^tempo: 40 traces \(40 spans\) read, .*; 2 traces skipped: 3: HTTP 500/,
      );
      expect(server.requests.filter((u) => u.pathname === '/api/traces/3')).toHaveLength(4);
    } finally {
      await server.close();
    }
  });

  it('skips the slice whose Jaeger search fails, warning with its times, and reads the rest of the window', async () => {
    const failing = { from: FROM + 3 * 60_000, to: FROM + 4 * 60_000 };
    const server = await flaky(jaeger.url, (url) =>
      url.pathname === '/api/traces' &&
      url.searchParams.get('service') === 'shop' &&
      Number(url.searchParams.get('start')) === failing.from * 1000
        ? 500
        : undefined,
    );
    try {
      const out = `${tmp.dir}/jaeger-bad-slice`;
      const r = await collect({
        output: out,
        window: { from: new Date(FROM), to: new Date(TO) },
        jaeger: server.url,
        sources: [jaegerSource],
        retry: FAST_RETRY,
      });
      // The shop-only traces of that minute are missing; its frontend traces came through the frontend's search.
      const missing = fakes.filter(
        (f) => f.i % 2 === 1 && f.startMs >= failing.from && f.startMs < failing.to,
      );
      expect(missing.length).toBeGreaterThan(0);
      const expected = fakes.reduce((n, f) => n + (f.services.length === 2 ? 3 : 1), 0) - missing.length;
      expect(r.manifest.sources[0]).toMatchObject({
        name: 'jaeger',
        status: 'partial',
        items: expected,
        error: '1 search failed',
      });
      expect(r.warnings).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(
            /^search of shop from 2026-11-25T10:03:00\.000Z to 2026-11-25T10:04:00\.000Z skipped: HTTP 500 from .*\(4 tries over \d+\.\d s\)$/,
          ),
          where: `Jaeger at ${server.url} shop 2026-11-25T10:03:00.000Z`,
        }),
      ]);
      expect(await spansOf(out)).toHaveLength(expected);
      expect((await notesOf(out)).find((n) => /^jaeger: \d+ traces/.test(n))).toMatch(
        /; 1 of 20 searches failed, their slices unread$/,
      );
    } finally {
      await server.close();
    }
  });

  it('stops reading a Tempo that goes down midway after two requests in a row find no server, naming it', async () => {
    let fetched = 0;
    const server: TestHttpServer = await httpServer(async (url, _req, res) => {
      const up = await fetch(`${tempo.url}${url.pathname}${url.search}`);
      res.writeHead(up.status, { 'content-type': 'application/json' });
      res.end(await up.text());
      // The store goes away after its tenth trace: every later request is refused.
      if (url.pathname.startsWith('/api/traces/') && ++fetched === 10) void server.close();
    });
    const r = await collect({
      output: `${tmp.dir}/tempo-gone`,
      window: { from: new Date(FROM), to: new Date(TO) },
      tempo: server.url,
      maxTraces: 100,
      fetchConcurrency: 1,
      sources: [tempoSource],
      retry: FAST_RETRY,
    });
    // Trace 8 was gone (404); traces 11 and 12 found no server, and nothing was asked after them.
    expect(r.manifest.sources[0]).toMatchObject({ name: 'tempo', status: 'partial', items: 9 });
    expect(r.warnings.map((w) => w.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^stopped reading Tempo at ${server.url}, the rest of the window unread: 2 requests in a row could not reach it, the last: \\w+ at ${server.url}/api/traces/c \\(4 tries over \\d+\\.\\d s\\)$`,
        ),
      ),
      expect.stringMatching(/^3 traces skipped: 8: HTTP 404/),
    ]);
    expect(server.requests.filter((u) => u.pathname.startsWith('/api/traces/'))).toHaveLength(10);
  });

  it('stops reading a Tempo that answers 503 to ten traces in a row, instead of spending every trace its tries', async () => {
    let fetched = 0;
    const server = await flaky(tempo.url, (url) =>
      url.pathname.startsWith('/api/traces/') && ++fetched > 10 ? 503 : undefined,
    );
    try {
      const r = await collect({
        output: `${tmp.dir}/tempo-down`,
        window: { from: new Date(FROM), to: new Date(TO) },
        tempo: server.url,
        maxTraces: 100,
        fetchConcurrency: 1,
        sources: [tempoSource],
        retry: FAST_RETRY,
      });
      expect(r.manifest.sources[0]).toMatchObject({ name: 'tempo', status: 'partial', items: 9 });
      expect(r.warnings.map((w) => w.message)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^stopped reading Tempo at ${server.url}, the rest of the window unread: 10 requests in a row failed, the last: HTTP 503 from ${server.url}/api/traces/[0-9a-f]+: .* \\(4 tries over \\d+\\.\\d s\\)$`,
          ),
        ),
        expect.stringMatching(/^11 traces skipped: 8: HTTP 404/),
      ]);
      // Ten fetches answered, ten spent their four tries; nothing asked after them.
      expect(server.requests.filter((u) => u.pathname.startsWith('/api/traces/'))).toHaveLength(50);
    } finally {
      await server.close();
    }
  });
});
