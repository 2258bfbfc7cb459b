import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { storyScenario, writeSyntheticBundle } from '@hindsight/investigate';
import { hindsight, repoRoot } from './helpers.js';
import { boxes, browserReady, inside, launch, overlaps, serve, stop, ticks, type Served } from './browser.js';

const artifacts = path.join(repoRoot, 'test-artifacts', 'serve');
// The story's fixture bundles (test/fixtures/generate.ts); a synthetic story when they are absent.
const fixture = path.join(repoRoot, 'test/fixtures/redis-replicas-2-to-6.tar.gz');
// A real Kubernetes support bundle, where one pod is still crash-looping when it was collected.
const supportBundle = path.resolve(repoRoot, '../shared/data/k8s-support-bundles/support-bundle.tar.gz');
if (!existsSync(supportBundle)) console.warn(`skipping the support-bundle view: ${supportBundle} is absent`);

describe.skipIf(!browserReady)('hindsight serve in chromium', () => {
  let tmp: string;
  let browser: Browser;
  let story: Served;
  let imported: Served | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-serve-'));
    await mkdir(artifacts, { recursive: true });
    let bundle = fixture;
    if (!existsSync(fixture)) {
      bundle = path.join(tmp, 'redis-replicas-2-to-6');
      await writeSyntheticBundle(bundle, storyScenario());
    }
    [story, browser] = await Promise.all([serve(bundle), launch()]);
    if (existsSync(supportBundle)) {
      const out = path.join(tmp, 'support-bundle');
      const r = await hindsight(['import', 'support-bundle', supportBundle, '--out-dir', out]);
      if (r.code !== 0) throw new Error(`hindsight import support-bundle failed: ${r.stderr}`);
      imported = await serve(out);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([stop(story), stop(imported)]);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function open(
    url: string,
    colorScheme: 'light' | 'dark' = 'light',
    viewport = { width: 1280, height: 800 },
  ): Promise<Page> {
    const page = await browser.newPage({ viewport, colorScheme });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(url);
    return page;
  }

  it('shows the replicaCount change as the top hypothesis, with its causal chain and next step', async () => {
    const page = await open(story.url);
    const title = page.getByTestId('hypothesis-title');
    await title.waitFor({ timeout: 30_000 });
    expect(await title.textContent()).toMatch(/^#1 .*redis\.replica\.replicaCount/);
    expect(await page.getByTestId('diff').first().textContent()).toMatch(/replicaCount\s*2\s*6/);
    const chain = page.getByTestId('chain').locator('li');
    expect(await chain.count()).toBeGreaterThan(1);
    expect(await chain.first().textContent()).toMatch(/cause/);
    // The timeline has a time axis (UTC), and no lane's line runs through its label.
    const lanes = page.locator('svg.lanes').first();
    const ticks = await lanes.locator('text.tick').allTextContents();
    expect(ticks).toContain('UTC');
    expect(ticks.filter((t) => /^\d\d[:-]\d\d$/.test(t)).length).toBeGreaterThan(1);
    // (Evaluated in the page from text: the tests' TypeScript has no DOM types.)
    const crossed = await page.evaluate(`(() => {
      const svg = document.querySelector('svg.lanes');
      const lines = [...svg.querySelectorAll('line.lane')];
      return [...svg.querySelectorAll('text:not(.tick)')].filter((t, i) => {
        const box = t.getBBox();
        return box.x + box.width > Number(lines[i]?.getAttribute('x1'));
      }).length;
    })()`);
    expect(crossed).toBe(0);
    // The axis' labels stay inside the drawing and apart from each other.
    const svgBox = (await lanes.boundingBox()) as NonNullable<Awaited<ReturnType<typeof lanes.boundingBox>>>;
    const tickBoxes = await boxes(page, 'svg.lanes text.tick');
    expect(tickBoxes.every((b) => inside(b, svgBox))).toBe(true);
    expect(overlaps(tickBoxes)).toEqual([]);
    expect(await page.getByTestId('next-step').textContent()).toMatch(/helm rollback shop|replicaCount/);
    // The commands, one a line, as the terminal prints them: runnable as shown.
    expect((await page.getByTestId('next-commands').textContent())?.split('\n')[0]).toMatch(
      /^helm rollback shop \d+ -n \S+$/,
    );
    // Nothing was still broken when the story's bundle was collected: no block at all.
    expect(await page.getByTestId('at-collection').count()).toBe(0);
    await page.screenshot({ path: path.join(artifacts, '1-top-hypothesis.png') });
    await page.close();
  });

  it("opens the top hypothesis' chart in view, its change labels apart, zooms it, and keeps the view in the URL", async () => {
    // Wide, the detail column stands beside the lists; narrow, it is below them and must be scrolled to.
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 420, height: 800 },
    ]) {
      const page = await open(story.url, 'light', viewport);
      const link = page.getByTestId('open-chart').first();
      await link.scrollIntoViewIfNeeded();
      await link.click();
      const chart = page.getByTestId('series-chart');
      await chart.locator('canvas').waitFor();
      expect(page.url()).toMatch(/#open=series%3A/);
      await expect.poll(() => page.locator('#detail').getAttribute('aria-busy')).toBe(null);
      // The chart is on screen, below the sticky header where there is one.
      const view = { x: 0, y: 0, ...viewport };
      const box = (await chart.boundingBox()) as NonNullable<Awaited<ReturnType<typeof chart.boundingBox>>>;
      const header = await page.locator('header.top').boundingBox();
      expect(inside(box, view), `${viewport.width} px: chart at ${JSON.stringify(box)}`).toBe(true);
      if (viewport.width > 900)
        expect(box.y).toBeGreaterThanOrEqual((header?.y ?? 0) + (header?.height ?? 0));
      // The story's three changes label their lines; none covers another, and each is in the plot.
      const labels = await boxes(page, '[data-testid=series-chart] [data-testid=marker-label]');
      expect(labels.length).toBeGreaterThanOrEqual(3);
      expect(overlaps(labels)).toEqual([]);
      const plot = await chart.locator('.u-over').boundingBox();
      expect(labels.every((l) => plot && inside(l, plot))).toBe(true);
      // The cause is drawn strong, and named.
      expect(await chart.locator('.marker-label.strong').textContent()).toMatch(/shop r6/);
      // A legend names the line; the ticks never repeat, in 24-hour UTC.
      expect(await chart.locator('.u-legend').textContent()).toMatch(/time \(UTC\).*redis/);
      const t = await ticks(page, '[data-testid=series-chart]');
      expect(t.x.length).toBeGreaterThan(2);
      expect(new Set(t.x).size).toBe(t.x.length);
      expect(new Set(t.y).size).toBe(t.y.length);
      expect(t.x.every((x) => /^\d\d:\d\d$/.test(x))).toBe(true);
      await page.screenshot({ path: path.join(artifacts, `2-series-chart-${viewport.width}.png`) });
      if (viewport.width < 900) {
        await page.close();
        continue;
      }
      await page.getByRole('button', { name: 'Zoom in' }).click();
      await expect.poll(() => page.url()).toMatch(/from=\d+&to=\d+/);
      // Zoomed to half the window, the ticks are still distinct and the labels still apart.
      const z = await ticks(page, '[data-testid=series-chart]');
      expect(new Set(z.x).size).toBe(z.x.length);
      expect(overlaps(await boxes(page, '[data-testid=series-chart] [data-testid=marker-label]'))).toEqual(
        [],
      );
      // A shared URL opens the same zoomed chart.
      const shared = await open(page.url());
      await shared.getByTestId('series-chart').locator('canvas').waitFor();
      expect(shared.url()).toBe(page.url());
      await shared.close();
      await page.close();
    }
  });

  it("opens a template's lines with their pods from the keyboard", async () => {
    const page = await open(story.url);
    await page.getByTestId('templates').waitFor();
    const item = page.getByTestId('templates').locator('li').filter({ hasText: 'session' }).first();
    await item.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('template-text').waitFor();
    expect(await page.getByTestId('template-text').textContent()).toMatch(/session/);
    // Focus stays on the entry opened, so the keyboard user keeps their place in the list.
    expect(await page.locator(':focus').textContent()).toMatch(/session/);
    const lines = page.getByTestId('lines').locator('tbody tr');
    await lines.first().waitFor();
    expect(await lines.count()).toBeGreaterThan(0);
    expect(await lines.first().locator('td').nth(1).textContent()).toMatch(/^shop-/);
    await page.getByTestId('template-chart').locator('canvas').waitFor();
    await page.screenshot({ path: path.join(artifacts, '3-template-lines.png') });
    await page.close();
  });

  it('filters by component and is legible in the dark', async () => {
    const page = await open(story.url, 'dark');
    await page.getByTestId('hypothesis-title').waitFor();
    await page.selectOption('#f-component', 'redis');
    await expect.poll(() => page.url()).toMatch(/component=redis/);
    // The list is drawn again once the filtered data is in: until then it shows every component.
    const components = (): Promise<string[]> =>
      page.getByTestId('templates').locator('li .muted').allTextContents();
    await expect.poll(async () => new Set(await components())).toEqual(new Set(['redis']));
    await page.screenshot({ path: path.join(artifacts, '4-dark-redis.png') });
    await page.close();
  });

  it.skipIf(!existsSync(supportBundle))(
    'shows what was still failing at collection, opens its evidence, and narrows with the component filter',
    async () => {
      const page = await open((imported as Served).url);
      const block = page.getByTestId('at-collection');
      await block.waitFor({ timeout: 30_000 });
      // The bundle's window ends at 16:44:43 UTC; static-hi was backing off from 16:43:09.
      expect(await block.getByRole('heading').textContent()).toBe('Still failing at collection (16:44 UTC)');
      const row = page.getByTestId('at-collection-list').locator('li').filter({ hasText: 'Pod/static-hi' });
      expect(await row.count()).toBe(1);
      expect(await row.textContent()).toMatch(
        /crash-looping.*Pod\/static-hi.*since 16:43:09.*Back-off restarting failed container/,
      );
      await page.screenshot({ path: path.join(artifacts, '6-still-failing.png') });
      // Enter on the row opens the finding behind it, and the keyboard keeps its place.
      await row.focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => page.url()).toMatch(/#open=finding%3Ak8s%3APod%2Fstatic-hi%3ABackOff/);
      await page.locator('#detail h2').filter({ hasText: 'static-hi crash-looping' }).waitFor();
      expect(await page.locator(':focus').textContent()).toMatch(/Pod\/static-hi/);
      expect(await row.getAttribute('aria-current')).toBe('true');
      await page.screenshot({ path: path.join(artifacts, '7-still-failing-opened.png') });
      // Another component's view leaves the entry out, and says there is one outside it.
      await page.selectOption('#f-component', 'nginx');
      await expect.poll(() => page.url()).toMatch(/component=nginx/);
      await expect.poll(() => block.textContent()).toMatch(/None in this view; 1 outside the filter/);
      expect(await page.getByTestId('at-collection-list').locator('li').count()).toBe(0);
      await page.selectOption('#f-component', 'static-hi');
      await expect.poll(() => page.url()).toMatch(/component=static-hi/);
      await row.waitFor();
      await page.close();
      const dark = await open((imported as Served).url, 'dark');
      await dark.getByTestId('at-collection').waitFor({ timeout: 30_000 });
      await dark.screenshot({ path: path.join(artifacts, '8-still-failing-dark.png') });
      await dark.close();
    },
  );

  it("draws the HTML report's charts with uPlot: a UTC time axis, a legend naming the series, offline", async () => {
    const html = path.join(tmp, 'report.html');
    const r = await hindsight(['investigate', fixture, '--html', html]);
    expect(r.code, r.stderr).toBe(0);
    const page = await open(`file://${html}`);
    const charts = page.locator('div.chart');
    const n = await charts.count();
    expect(n).toBeGreaterThan(0);
    await expect.poll(() => page.locator('div.chart .uplot canvas').count()).toBe(n);
    const legend = await page.locator('div.chart .u-legend').first().textContent();
    expect(legend).toMatch(/time \(UTC\)/);
    expect(legend).toMatch(/redis|session|shop/);
    // 24-hour UTC ticks that never repeat, and a key saying what the vertical lines are.
    const t = await ticks(page, 'div.chart');
    expect(t.x.every((x) => /^\d\d:\d\d$/.test(x))).toBe(true);
    expect(new Set(t.x).size).toBe(t.x.length);
    expect(new Set(t.y).size).toBe(t.y.length);
    expect(await page.locator('div.chart .key').first().textContent()).toMatch(/the cause.*other changes/);
    await page.screenshot({ path: path.join(artifacts, '9-html-report.png'), fullPage: false });
    await page.close();
  });

  it('stops cleanly on Ctrl-C, and no page threw', async () => {
    expect(pageErrors).toEqual([]);
    expect(await stop(story)).toBe(0);
  });
});
