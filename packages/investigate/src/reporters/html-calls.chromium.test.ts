import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reporters, type Finding, type Report, type SeriesEvidence } from '../index.js';

// Debian's chromium, as the end-to-end browser tests use it, kept off the network.
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];

const from = Date.parse('2026-03-01T10:00:00Z');
const at = from + 6 * 60_000;

function edge(caller: string, callee: string, before: number, after: number, unit = 'ms'): SeriesEvidence {
  const points: Array<[number, number]> = [];
  for (let t = from; t < from + 12 * 60_000; t += 30_000) points.push([t, t < at ? before : after]);
  return {
    type: 'series',
    name: 'time outside the server span',
    labels: { caller, callee },
    unit,
    points,
    before,
    after,
  };
}

/**
 * A report as the latency analyzer writes one for a busy callee: seven callers (names as long as
 * Train Ticket's, one longer than a node holds), some only waiting through calls the report does
 * not name, two callees, and the callee's own work slowed too.
 */
function busyReport(): Report {
  const callers = [
    'ts-admin-basic-info-service-with-a-long-name',
    'ts-travel-plan-service',
    'ts-preserve-service',
    'ts-order-service',
    'frontend',
  ];
  const base = {
    analyzer: 'latency',
    kind: 'anomaly' as const,
    component: 'ts-station-service',
    time: at,
    strength: 1,
    direction: 'up' as const,
  };
  const edges: Finding = {
    ...base,
    id: 'latency:edges:ts-station-service',
    signal: 'latency:edges:ts-station-service',
    title: 'calls into ts-station-service slowed',
    bystanders: ['frontend', 'ts-gateway-service', 'ts-ui-dashboard'],
    evidence: [
      ...callers.map((c, i) => edge(c, 'ts-station-service', 0.7 + i, 40.7 + i * 100)),
      edge('ts-station-service', 'ts-station-db-proxy', 0.004, 0.09, 's'),
      edge('ts-station-service', 'mysql', 2, 1200),
    ],
  };
  const self: Finding = {
    ...base,
    id: 'latency:self:ts-station-service',
    signal: 'latency:self:ts-station-service',
    title: "ts-station-service's own work slowed",
    evidence: [
      {
        ...edge('x', 'y', 1.5, 31.5),
        name: 'span_self_time_ms',
        labels: { component: 'ts-station-service' },
      },
    ],
  };
  return {
    schema: 'hindsight-report',
    version: 1,
    bundle: 'busy',
    window: { from: new Date(from).toISOString(), to: new Date(from + 12 * 60_000).toISOString() },
    generatedAt: new Date(from + 13 * 60_000).toISOString(),
    verdict: 'component',
    summary: 'calls into ts-station-service slowed',
    hypotheses: [
      {
        rank: 1,
        score: 0.8,
        weight: 1,
        title: 'ts-station-service',
        time: at,
        cause: { type: 'component', component: 'ts-station-service', firstSignal: edges.id },
        chain: [{ role: 'cause', time: at, title: edges.title, findingId: edges.id }],
        explains: [edges.id, self.id],
        nextStep: 'look at ts-station-service',
        reasons: [],
      },
    ],
    findings: [edges, self],
    warnings: [],
    stats: { logLines: 0, logFiles: 0, templates: 0, series: 0, changes: 0, events: 0, durationMs: 1 },
  };
}

interface Box {
  text: string;
  kind: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

// Evaluated in the page from text (the tests' TypeScript has no DOM types): every text of the
// graph with its box and the box of what holds it (a node's rect, or none for an edge's label).
const MEASURE = `(() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
  const svg = document.querySelector('svg.calls');
  const view = svg.viewBox.baseVal.width;
  const texts = [...svg.querySelectorAll('text')].map((t) => {
    const rect = t.closest('g.node')?.querySelector('rect');
    return { text: t.textContent, kind: t.getAttribute('class') || 'name', ...box(t), rect: rect ? box(rect) : null };
  });
  const rects = [...svg.querySelectorAll('g.node rect')].map(box);
  return { scale: svg.getBoundingClientRect().width / view, texts, rects };
})()`;

const apart = (a: Omit<Box, 'text' | 'kind'>, b: Omit<Box, 'text' | 'kind'>): boolean =>
  a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
const within = (a: Omit<Box, 'text' | 'kind'>, b: Omit<Box, 'text' | 'kind'>): boolean =>
  a.x >= b.x - 0.5 && a.y >= b.y - 0.5 && a.x + a.w <= b.x + b.w + 0.5 && a.y + a.h <= b.y + b.h + 0.5;

describe.skipIf(!existsSync(CHROMIUM))('the HTML report call graph in chromium', () => {
  let tmp: string;
  let browser: Browser;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-html-calls-chromium-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('keeps every label apart, inside its node, and legible at 1280 and 420 px', async () => {
    const file = path.join(tmp, 'report.html');
    await writeFile(file, reporters.html.render(busyReport()));
    for (const width of [1280, 420]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      await page.goto(`file://${file}`);
      const m = (await page.evaluate(MEASURE)) as {
        scale: number;
        texts: Array<Box & { rect: Omit<Box, 'text' | 'kind'> | null }>;
        rects: Array<Omit<Box, 'text' | 'kind'>>;
      };
      await page.close();
      const labels = m.texts.filter((t) => t.kind === 'edge-label');
      // Seven slowed edges (five in, two out) and the own-work line, each labelled.
      expect(labels.length, `${width} px`).toBe(7);
      expect(m.texts.some((t) => t.kind === 'sub' && /own work p50 1\.5 -> 31\.5 ms/.test(t.text))).toBe(
        true,
      );
      const clashes: string[] = [];
      m.texts.forEach((a, i) =>
        m.texts.slice(i + 1).forEach((b) => {
          if (!apart(a, b)) clashes.push(`${a.text} / ${b.text}`);
        }),
      );
      m.rects.forEach((a, i) =>
        m.rects.slice(i + 1).forEach((b, k) => {
          if (!apart(a, b)) clashes.push(`node ${i} / node ${i + 1 + k}`);
        }),
      );
      for (const t of m.texts) {
        if (t.rect && !within(t, t.rect)) clashes.push(`${t.text} outside its node`);
        if (!t.rect && m.rects.some((r) => !apart(t, r))) clashes.push(`${t.text} on a node`);
      }
      expect(clashes, `${width} px`).toEqual([]);
      // Shrunk no further than 70% (12-unit text at 8.4 px); past that the figure scrolls.
      expect(m.scale, `${width} px`).toBeGreaterThanOrEqual(0.69);
    }
  });
});
