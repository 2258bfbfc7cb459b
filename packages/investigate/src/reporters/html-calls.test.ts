import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleWriter, formatUnixNanos } from '@hindsight/core';
import { investigate, reporters, type Report } from '../index.js';

const baseFrom = Date.parse('2026-03-01T09:00:00Z');
const from = Date.parse('2026-03-01T10:00:00Z');
const to = from + 12 * 60_000;
const incidentAt = from + 6 * 60_000;

interface Names {
  front: string;
  rec: string;
  callee: string;
}

const stamp = (ms: number): string => formatUnixNanos(`${Math.round(ms * 1e6)}`) as string;

/**
 * Requests into `front`, which calls `callee` and `rec`, which calls `callee` too; each call a client
 * span with the callee's server span as its child. From the incident on, `delayMs` more on the wire
 * into `callee` (a network delay: the callee's own spans do not slow). Three fault-free minutes
 * before the window are its baseline.
 */
async function writeDelayBundle(dir: string, n: Names, delayMs: number): Promise<void> {
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  let k = 0;
  const request = async (t: number, delay: number): Promise<void> => {
    k += 1;
    const trace = `t${k}`;
    const j = ((k * 7919) % 13) / 20;
    const wire = 0.4 + j + delay;
    const add = (
      id: string,
      parent: string | undefined,
      component: string,
      op: string,
      s: number,
      d: number,
    ) =>
      w.addSpan({
        trace,
        span: `${trace}-${id}`,
        ...(parent ? { parent: `${trace}-${parent}` } : {}),
        component,
        operation: op,
        start: stamp(s),
        durationMs: d,
      });
    await add('root', undefined, n.front, 'GET /', t, 12 + j + 2 * wire);
    await add('fc', 'root', n.front, 'Get', t + 0.5, 1.5 + j + wire);
    await add('fs', 'fc', n.callee, 'Get', t + 0.5 + wire / 2, 1.5 + j);
    await add('rc', 'root', n.front, 'List', t + 4, 6 + j + wire);
    await add('rs', 'rc', n.rec, 'List', t + 4.3, 5 + j + wire);
    await add('rcc', 'rs', n.rec, 'Get', t + 4.5, 1.5 + j + wire);
    await add('rcs', 'rcc', n.callee, 'Get', t + 4.5 + wire / 2, 1.5 + j);
  };
  const minute = async (m0: number, delay: number): Promise<void> => {
    for (let i = 0; i < 20; i++) await request(m0 + i * 3000, delay);
  };
  for (let m = 0; m < 3; m++) await minute(baseFrom + m * 60_000, 0);
  for (let m = 0; m < 12; m++) {
    const t = from + m * 60_000;
    await minute(t, t >= incidentAt ? delayMs : 0);
  }
  w.setBaseline({ from: new Date(baseFrom), to: new Date(baseFrom + 3 * 60_000), note: 'fault-free' });
  await w.finish();
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-html-calls-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function reportOf(name: string, n: Names, delayMs: number): Promise<Report> {
  const dir = path.join(tmp, name);
  await writeDelayBundle(dir, n, delayMs);
  return investigate(dir, { incidentAt });
}

/** The call graph's SVG in an HTML report, or undefined. */
function graphOf(html: string): string | undefined {
  return /<svg class="calls"[\s\S]*?<\/svg>/.exec(html)?.[0];
}

/** The class of the node drawn for `name` (its `data-node`, escaped as the report writes it). */
function nodeClass(svg: string, escapedName: string): string | undefined {
  return new RegExp(
    `<g class="([^"]*)" data-node="${escapedName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`,
  ).exec(svg)?.[1];
}

const plain: Names = { front: 'frontend', rec: 'recommend', callee: 'catalog' };

describe('the HTML report draws the slow edge', () => {
  it("marks the delayed callee's edges moved with p50 before -> after, its callers as bystanders, and charts the calls", async () => {
    const report = await reportOf('plain', plain, 40);
    const html = reporters.html.render(report);
    const svg = graphOf(html);
    expect(svg, 'a call graph in the report').toBeDefined();
    const s = svg as string;
    expect(nodeClass(s, 'catalog')).toBe('node culprit');
    expect(nodeClass(s, 'frontend')).toBe('node bystander');
    expect(nodeClass(s, 'recommend')).toBe('node bystander');
    for (const caller of ['frontend', 'recommend']) {
      const edge = new RegExp(`<path class="([^"]*)"[^>]*data-caller="${caller}" data-callee="catalog"`).exec(
        s,
      );
      expect(edge?.[1], `${caller} -> catalog`).toBe('edge moved');
      const label = new RegExp(
        `<text class="edge-label"[^>]*data-caller="${caller}" data-callee="catalog">p50 ([\\d.]+) -&gt; ([\\d.]+) ms</text>`,
      ).exec(s);
      expect(label, `${caller} -> catalog labelled`).not.toBeNull();
      const [before, after] = [Number(label?.[1]), Number(label?.[2])];
      // The delay was 40 ms on a wire of under 2 ms.
      expect(after - before).toBeGreaterThan(30);
      expect(before).toBeLessThan(2);
    }
    // The calls' duration before and after: one chart, a line per caller, each with its level before.
    const specs = JSON.parse(
      /<script type="application\/json" id="hs-charts">(.*?)<\/script>/s.exec(html)?.[1] ?? '[]',
    ) as Array<{
      lines: Array<{ label: string; ys: Array<number | null>; ref?: number }>;
      xs: number[];
      mark?: number;
      markLabel?: string;
    }>;
    const chart = specs.find((c) => c.markLabel === 'slowed from here');
    expect(chart?.lines.map((l) => l.label).sort()).toEqual(['from frontend', 'from recommend']);
    const onset = (chart?.mark ?? 0) * 1000;
    expect(Math.abs(onset - incidentAt)).toBeLessThanOrEqual(60_000);
    for (const line of chart?.lines ?? []) {
      const after = line.ys.filter((y, i) => y !== null && (chart?.xs[i] ?? 0) * 1000 >= onset + 30_000);
      expect(Math.min(...(after as number[])) - (line.ref ?? Infinity)).toBeGreaterThan(30);
    }
    // Scales to the page by its viewBox; nothing fetched.
    expect(s).toMatch(/viewBox="0 0 \d+ \d+"/);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
  });

  it('escapes markup in service names everywhere in the graph, and redacts a secret in one', async () => {
    const hostile: Names = {
      front: 'front"><script>alert(1)</script>',
      rec: 'rec<img src=x onerror=alert(2)>',
      callee: 'cat<script>alert(3)</script>',
    };
    const report = await reportOf('hostile', hostile, 40);
    expect(report.findings.some((f) => f.analyzer === 'latency' && f.component === hostile.callee)).toBe(
      true,
    );
    const html = reporters.html.render(report);
    const s = graphOf(html) as string;
    expect(s).toBeDefined();
    expect(nodeClass(s, 'cat&lt;script&gt;alert(3)&lt;/script&gt;')).toBe('node culprit');
    expect(nodeClass(s, 'front&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;')).toBe('node bystander');
    expect(s).toContain('>cat&lt;script&gt;alert(3)&lt;/script&gt;</text>');
    for (const raw of ['<script>alert', '<img src=x', '"><script>']) expect(html).not.toContain(raw);
    // A secret in a name that reached a report (written by hand or by an older version) is redacted.
    const key = 'AKIAQWERTYUIOPASDFGH';
    const forged: Report = JSON.parse(JSON.stringify(report).split(hostile.callee).join(`cat-${key}`));
    const leaked = reporters.html.render(forged);
    expect(graphOf(leaked)).toBeDefined();
    expect(leaked).not.toContain(key);
  });

  it('draws an edge the report says was tested but did not slow grey, without a label', async () => {
    const report = await reportOf('unchanged', plain, 40);
    const f = report.findings.find((x) => x.analyzer === 'latency' && x.component === 'catalog');
    if (!f) throw new Error('the delayed catalog has a latency finding');
    // An edge's series without a before and after: a call the analyzer tested that did not move.
    f.evidence.push({
      type: 'series',
      name: 'time outside the server span',
      labels: { caller: 'cart', callee: 'catalog' },
      unit: 'ms',
      points: [],
    });
    const s = graphOf(reporters.html.render(report)) as string;
    expect(/<path class="([^"]*)"[^>]*data-caller="cart" data-callee="catalog"/.exec(s)?.[1]).toBe('edge');
    expect(s).not.toMatch(/class="edge-label"[^>]*data-caller="cart"/);
    expect(nodeClass(s, 'cart')).toBe('node');
    expect(/<path class="([^"]*)"[^>]*data-caller="frontend" data-callee="catalog"/.exec(s)?.[1]).toBe(
      'edge moved',
    );
  });

  it('has no graph when no latency finding is in the report', async () => {
    const report = await reportOf('quiet', plain, 0);
    expect(report.findings.filter((f) => f.analyzer === 'latency')).toEqual([]);
    const html = reporters.html.render(report);
    expect(graphOf(html)).toBeUndefined();
    expect(html).not.toContain('calls-fig');
  });
});
