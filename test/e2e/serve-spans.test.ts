import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { BundleWriter, formatUnixNanos } from '@hindsight/core';
import { repoRoot } from './helpers.js';
import { boxes, browserReady, inside, launch, overlaps, serve, stop, type Served } from './browser.js';

const artifacts = path.join(repoRoot, 'test-artifacts', 'serve');
const from = Date.parse('2026-03-01T10:00:00Z');
const incidentAt = from + 10 * 60_000;
// The wire into catalog gets this much slower at the incident; catalog's own work does not change.
const DELAY_MS = 40;

const stamp = (ms: number): string => formatUnixNanos(`${Math.round(ms * 1e6)}`) as string;

/**
 * Twenty minutes of requests: frontend calls cart and catalog, and recommend, which calls catalog
 * too; a call is the caller's client span with the callee's server span as its child. From the
 * incident on, every call into catalog waits DELAY_MS more on the network.
 */
async function writeDelayedCatalog(dir: string): Promise<void> {
  const w = await BundleWriter.create(dir, {
    window: { from: new Date(from), to: new Date(from + 20 * 60_000) },
  });
  for (let k = 0; k < 20 * 40; k++) {
    const t = from + k * 1500;
    const jitter = ((k * 7919) % 13) / 20;
    const delay = t >= incidentAt ? DELAY_MS : 0;
    const trace = `t${k}`;
    let n = 0;
    const span = async (
      parent: string | undefined,
      component: string,
      operation: string,
      start: number,
      durationMs: number,
    ): Promise<string> => {
      const id = `${trace}-${(n += 1)}`;
      await w.addSpan({
        trace,
        span: id,
        ...(parent ? { parent } : {}),
        component,
        pod: `${component}-0`,
        operation,
        start: stamp(start),
        durationMs,
      });
      return id;
    };
    /** A call: the caller's client span, the callee's server span inside it after half the wire. */
    const call = async (parent: string, caller: string, callee: string, at: number, work: number) => {
      const wire = 0.4 + jitter + (callee === 'catalog' ? delay : 0);
      const client = await span(parent, caller, `${callee}/Get`, at, work + wire);
      const server = await span(client, callee, 'Get', at + wire / 2, work);
      return { server, took: work + wire };
    };
    const root = await span(undefined, 'frontend', 'GET /', t, 60 + delay * 2);
    const cart = await call(root, 'frontend', 'cart', t + 0.2, 2 + jitter);
    const cat = await call(root, 'frontend', 'catalog', t + 0.4 + cart.took, 1.5 + jitter);
    const rec = await call(root, 'frontend', 'recommend', t + 0.6 + cart.took + cat.took, 6 + delay + jitter);
    await call(rec.server, 'recommend', 'catalog', t + 1 + cart.took + cat.took, 1.5 + jitter);
  }
  await w.finish();
}

describe.skipIf(!browserReady)('hindsight serve shows a slow call edge from spans, in chromium', () => {
  let tmp: string;
  let browser: Browser;
  let served: Served;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-serve-spans-'));
    await mkdir(artifacts, { recursive: true });
    const bundle = path.join(tmp, 'catalog-delayed');
    await writeDelayedCatalog(bundle);
    [served, browser] = await Promise.all([
      serve(bundle, ['--incident-at', new Date(incidentAt).toISOString()]),
      launch(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await stop(served);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function open(url: string, width: number): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 800 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    return page;
  }

  it('draws the calls around the delayed callee, the slowed edges in red with before and after', async () => {
    // One page, seen wide and then narrow (the drawing shrinks, and scrolls sideways past 60%).
    const page = await open(`${served.url}#open=finding:latency:edges:catalog`, 1280);
    for (const width of [1280, 420]) {
      await page.setViewportSize({ width, height: 800 });
      const graph = page.getByTestId('call-graph');
      await graph.waitFor({ timeout: 30_000 });
      // Both callers' calls into catalog slowed; the calls into cart did not.
      const moved = graph.locator('.edge.moved');
      const ends = await moved.evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-caller')} -> ${e.getAttribute('data-callee')}`).sort(),
      );
      expect(ends).toEqual(['frontend -> catalog', 'recommend -> catalog']);
      expect(await graph.locator('.edge:not(.moved)[data-callee=cart]').count()).toBe(1);
      expect(await graph.locator('g.node.culprit').getAttribute('data-node')).toBe('catalog');
      // Each slowed edge says by how much: about DELAY_MS more than the fraction of a ms it took.
      const labels = await graph.getByTestId('moved-edge-label').allTextContents();
      expect(labels).toHaveLength(2);
      for (const l of labels) {
        const m = /^([\d.]+) → ([\d.]+) ms$/.exec(l);
        expect(m, l).not.toBeNull();
        expect(Number(m?.[2]) - Number(m?.[1])).toBeGreaterThan(DELAY_MS * 0.8);
      }
      // Nodes and labels apart, all inside the drawing.
      const svg = (await graph.boundingBox()) as NonNullable<Awaited<ReturnType<typeof graph.boundingBox>>>;
      const parts = [
        ...(await boxes(page, '[data-testid=call-graph] g.node')),
        ...(await boxes(page, '[data-testid=call-graph] [data-testid=moved-edge-label]')),
      ];
      expect(overlaps(parts)).toEqual([]);
      expect(parts.every((b) => inside(b, svg, 1))).toBe(true);
      // The duration chart: the calls as the callers waited and as the callee served them.
      const chart = page.getByTestId('duration-chart');
      await chart.locator('canvas').waitFor();
      expect(await chart.locator('.u-legend').textContent()).toMatch(
        /from frontend: as the caller waited.*from recommend: in catalog/,
      );
      expect(await page.getByTestId('before-after').textContent()).toMatch(
        /frontend → catalog [\d.]+ → [\d.]+ ms/,
      );
      expect(overlaps(await boxes(page, '[data-testid=duration-chart] [data-testid=marker-label]'))).toEqual(
        [],
      );
      await graph.scrollIntoViewIfNeeded();
      await page.screenshot({
        path: path.join(artifacts, `10-slow-edge-${width}.png`),
        fullPage: width < 900,
      });
    }
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
