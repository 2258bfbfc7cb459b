import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BundleWriter, formatUnixNanos } from '@hindsight/core';
import { investigate, type Finding, type Report } from '../index.js';

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-latency-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const baseFrom = Date.parse('2026-03-01T09:00:00Z');
const from = Date.parse('2026-03-01T10:00:00Z');
const to = from + 20 * 60_000;
const incidentAt = from + 10 * 60_000;

/** How the fault changes one call into `catalog`: extra ms on the wire, and in its own work. */
interface Fault {
  network: number;
  work: number;
}

function stamp(ms: number): string {
  return formatUnixNanos(`${Math.round(ms * 1e6)}`) as string;
}

/**
 * One request: frontend serves it, calls cart, catalog, and recommend, which calls catalog too.
 * A call is a client span in the caller with the callee's server span as its one child.
 */
async function request(
  w: BundleWriter,
  trace: string,
  t: number,
  jitter: number,
  fault: Fault,
  untraced: boolean,
): Promise<void> {
  let n = 0;
  const id = (): string => `${trace}-${(n += 1)}`;
  const root = id();
  let cursor = t + 0.2;
  const spans: Parameters<BundleWriter['addSpan']>[0][] = [];
  const call = (
    caller: string,
    parent: string,
    callee: string,
    op: string,
    work: number,
    slow: Fault | undefined,
  ): number => {
    const client = id();
    const server = id();
    const wire = 0.4 + jitter + (slow ? slow.network : 0);
    const took = work + (slow ? slow.work : 0);
    const start = cursor;
    spans.push({
      trace,
      span: client,
      parent,
      component: caller,
      operation: `${callee}/${op}`,
      start: stamp(start),
      durationMs: took + wire,
    });
    spans.push({
      trace,
      span: server,
      parent: client,
      component: callee,
      pod: `${callee}-0`,
      operation: op,
      start: stamp(start + wire / 2),
      durationMs: took,
    });
    return took + wire;
  };
  cursor += call('frontend', root, 'cart', 'GetCart', 2 + jitter, undefined);
  cursor += call('frontend', root, 'catalog', 'GetProduct', 1.5 + jitter, fault);
  // recommend serves its part: a call into catalog and its own 3 ms of work.
  const recClient = id();
  const recServer = id();
  const recStart = cursor;
  cursor += 0.2;
  const saved = cursor;
  const inner = call('recommend', recServer, 'catalog', 'GetProduct', 1.5 + jitter, fault);
  cursor = saved;
  const recWork = 3 + jitter;
  spans.push({
    trace,
    span: recClient,
    parent: root,
    component: 'frontend',
    operation: 'recommend/List',
    start: stamp(recStart),
    durationMs: inner + recWork + 0.6,
  });
  spans.push({
    trace,
    span: recServer,
    parent: recClient,
    component: 'recommend',
    pod: 'recommend-0',
    operation: 'List',
    start: stamp(recStart + 0.2),
    durationMs: inner + recWork,
  });
  cursor = recStart + inner + recWork + 0.6;
  spans.unshift({
    trace,
    span: root,
    component: 'frontend',
    pod: 'frontend-0',
    operation: 'GET /',
    start: stamp(t),
    durationMs: cursor - t + 1,
  });
  // An untraced callee leaves its callers' client spans as leaves.
  for (const s of spans) if (!(untraced && s.component === 'catalog')) await w.addSpan(s);
}

/** Caller-to-callee latency series, one point a minute, the calls into catalog `factor` times slower after the incident. */
async function edgeSeries(w: BundleWriter, factor: number, through = 1): Promise<void> {
  const edges: Array<[string, string, number]> = [
    ['frontend', 'catalog', factor],
    ['recommend', 'catalog', factor],
    ['frontend', 'recommend', through],
    ['frontend', 'cart', 1],
  ];
  for (const [caller, callee, f] of edges) {
    const points: Array<[number, number]> = [];
    for (let m = 0; m < 20; m++) {
      const t = from + m * 60_000 + 5_000;
      points.push([t, (0.004 + (m % 3) * 0.0002) * (t >= incidentAt ? f : 1)]);
    }
    await w.addSeries({
      name: 'source_50',
      labels: { source: 'edges', component: callee, caller, callee },
      kind: 'gauge',
      unit: 's',
      points,
    });
  }
}

/** The callers' own latency metrics, which rise with catalog's delay: what a bystander shows. */
async function callerSeries(w: BundleWriter): Promise<void> {
  for (const caller of ['frontend', 'recommend'])
    for (const name of [
      'latency_p50',
      'latency_p90',
      'latency_p99',
      'request_duration_p50',
      'request_duration_p99',
    ]) {
      const points: Array<[number, number]> = [];
      for (let m = 0; m < 20; m++) {
        const t = from + m * 60_000 + 5_000;
        points.push([t, (0.01 + (m % 3) * 0.0005) * (t >= incidentAt - 60_000 ? 30 : 1)]);
      }
      await w.addSeries({
        name,
        labels: { component: caller, pod: `${caller}-0` },
        kind: 'gauge',
        unit: 's',
        points,
      });
    }
}

/** How the bundle is made: an untraced callee, the callers' own latency metrics, a baseline. */
interface Shape {
  untraced?: boolean;
  callerMetrics?: boolean;
  baseline?: boolean;
}

async function writeDelayBundle(dir: string, fault: Fault, shape: Shape = {}): Promise<void> {
  const { untraced = false, callerMetrics = false, baseline = true } = shape;
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  let k = 0;
  const minute = async (m0: number, f: Fault): Promise<void> => {
    for (let i = 0; i < 40; i++) {
      k += 1;
      await request(w, `tr${k}`, m0 + i * 1500, ((k * 7919) % 13) / 20, f, untraced);
    }
  };
  const none = { network: 0, work: 0 };
  if (baseline) for (let m = 0; m < 3; m++) await minute(baseFrom + m * 60_000, none);
  for (let m = 0; m < 20; m++) {
    const t = from + m * 60_000;
    await minute(t, t >= incidentAt ? fault : none);
  }
  if (untraced) await edgeSeries(w, 10);
  if (callerMetrics) await callerSeries(w);
  if (baseline)
    w.setBaseline({ from: new Date(baseFrom), to: new Date(baseFrom + 3 * 60_000), note: 'fault-free' });
  await w.finish();
}

/**
 * Requests into frontend, which calls cart; one request in twenty also calls `rare`, from frontend
 * or from cart in turn: too few calls per caller for a median, enough together.
 */
async function writeRareBundle(dir: string, delayMs: number): Promise<void> {
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  let k = 0;
  const minute = async (m0: number, delay: number): Promise<void> => {
    for (let i = 0; i < 40; i++) {
      k += 1;
      const t = m0 + i * 1500;
      const j = ((k * 7919) % 13) / 20;
      const trace = `r${k}`;
      const add = (
        span: string,
        parent: string | undefined,
        component: string,
        op: string,
        s: number,
        d: number,
      ) =>
        w.addSpan({
          trace,
          span,
          ...(parent ? { parent } : {}),
          component,
          operation: op,
          start: stamp(s),
          durationMs: d,
        });
      const rare = k % 20 === 0;
      const wait = rare ? 1.2 + j + delay : 0;
      await add(`${trace}-root`, undefined, 'frontend', 'GET /', t, 6 + j + wait);
      await add(
        `${trace}-cc`,
        `${trace}-root`,
        'frontend',
        'cart/Get',
        t + 0.5,
        3 + j + (k % 40 === 0 ? wait : 0),
      );
      await add(`${trace}-cs`, `${trace}-cc`, 'cart', 'Get', t + 0.7, 2.4 + j + (k % 40 === 0 ? wait : 0));
      if (!rare) continue;
      // Every other rare call is made by cart, inside its server span; the others by frontend.
      const byCart = k % 40 === 0;
      const caller = byCart ? 'cart' : 'frontend';
      const parent = byCart ? `${trace}-cs` : `${trace}-root`;
      const at = byCart ? t + 1 : t + 4;
      await add(`${trace}-rc`, parent, caller, 'rare/Find', at, 1.2 + j + delay);
      await add(`${trace}-rs`, `${trace}-rc`, 'rare', 'Find', at + 0.3, 0.6 + j);
    }
  };
  for (let m = 0; m < 3; m++) await minute(baseFrom + m * 60_000, 0);
  // The spans end three minutes after the incident, as Nezha's span files do.
  for (let m = 0; m < 13; m++) {
    const t = from + m * 60_000;
    await minute(t, t >= incidentAt ? delayMs : 0);
  }
  w.setBaseline({ from: new Date(baseFrom), to: new Date(baseFrom + 3 * 60_000), note: 'fault-free' });
  await w.finish();
}

function latencyFindings(report: Report): Finding[] {
  return report.findings.filter((f) => f.analyzer === 'latency');
}

describe('latency along the call graph', () => {
  it('ranks a callee delayed on the network first, and names its callers as bystanders', async () => {
    await writeDelayBundle(tmp, { network: 40, work: 0 });
    const report = await investigate(tmp, { incidentAt });
    const first = report.hypotheses[0]?.cause;
    expect(first).toMatchObject({ type: 'component', component: 'catalog' });
    const found = latencyFindings(report);
    expect(found.map((f) => f.component)).toEqual(['catalog']);
    const [catalog] = found as [Finding];
    expect(catalog.title).toMatch(/calls into catalog slowed: 2 of 2 callers saw it/);
    expect(catalog.title).toMatch(/frontend, recommend only waited on it/);
    expect(catalog.baseline).toBe(true);
    expect(Math.abs(catalog.time - incidentAt)).toBeLessThanOrEqual(60_000);
    expect(catalog.evidence.some((e) => e.type === 'series' && (e.after ?? 0) > 40)).toBe(true);
    expect(catalog.evidence.some((e) => e.type === 'lines' && e.lines.length > 0)).toBe(true);
  });

  it("lists the callers as the callee's bystanders, and their own latency metrics do not outrank it", async () => {
    await writeDelayBundle(tmp, { network: 40, work: 0 }, { callerMetrics: true, baseline: false });
    const report = await investigate(tmp, { incidentAt });
    const components = report.hypotheses.map((h) => (h.cause.type === 'component' ? h.cause.component : ''));
    expect(components[0]).toBe('catalog');
    const catalog = latencyFindings(report).find((f) => f.component === 'catalog');
    expect(catalog?.bystanders).toEqual(['frontend', 'recommend']);
    // The callers' metrics moved, a minute before the calls did, and are still in the report.
    expect(report.findings.some((f) => f.component === 'frontend' && f.analyzer !== 'latency')).toBe(true);
    for (const caller of ['frontend', 'recommend']) {
      const h = report.hypotheses.find((x) => x.cause.type === 'component' && x.cause.component === caller);
      expect(h === undefined || h.score < (report.hypotheses[0]?.score ?? 0)).toBe(true);
    }
  });

  it("finds a rarely called callee delayed on the network from its callers' calls together", async () => {
    await writeRareBundle(tmp, 800);
    const report = await investigate(tmp, { incidentAt });
    expect(report.hypotheses[0]?.cause).toMatchObject({ type: 'component', component: 'rare' });
    const found = latencyFindings(report);
    expect(found.map((f) => f.component)).toEqual(['rare']);
    expect(found[0]?.title).toMatch(/2 callers' calls together/);
  });

  it('finds nothing in a rarely called callee that did not slow', async () => {
    await writeRareBundle(tmp, 0);
    const report = await investigate(tmp, { incidentAt });
    expect(latencyFindings(report)).toEqual([]);
  });

  it('blames a callee whose own work slowed, not the callers that waited on it', async () => {
    await writeDelayBundle(tmp, { network: 0, work: 30 });
    const report = await investigate(tmp, { incidentAt });
    expect(report.hypotheses[0]?.cause).toMatchObject({ type: 'component', component: 'catalog' });
    const found = latencyFindings(report);
    expect(found.map((f) => f.component)).toEqual(['catalog']);
    expect(found[0]?.title).toMatch(/catalog's own work slowed: self time of GetProduct/);
  });

  it('names a callee that answers at once, without its work, and not its callers', async () => {
    await writeDelayBundle(tmp, { network: 0, work: -1.45 });
    const report = await investigate(tmp, { incidentAt });
    const found = latencyFindings(report);
    expect(found.map((f) => f.component)).toEqual(['catalog']);
    expect(found[0]?.title).toMatch(/catalog answers without its work: GetProduct took/);
    expect(found[0]?.direction).toBe('down');
  });

  it('finds nothing when no call slowed', async () => {
    await writeDelayBundle(tmp, { network: 0, work: 0 });
    const report = await investigate(tmp, { incidentAt });
    expect(latencyFindings(report)).toEqual([]);
  });

  it('attributes caller-to-callee latency series the same way', async () => {
    const w = await BundleWriter.create(tmp, { window: { from: new Date(from), to: new Date(to) } });
    await edgeSeries(w, 8);
    await w.finish();
    const report = await investigate(tmp, { incidentAt });
    const found = latencyFindings(report);
    expect(found.map((f) => f.component)).toEqual(['catalog']);
    expect(found[0]?.title).toMatch(/recommend -> catalog source_50/);
    expect(report.hypotheses[0]?.cause).toMatchObject({ component: 'catalog' });
  });

  it('leaves a whole-call series into a caller of the slow callee to the callee', async () => {
    const w = await BundleWriter.create(tmp, { window: { from: new Date(from), to: new Date(to) } });
    // recommend waits on catalog, so the calls into recommend, measured whole, slow down too.
    await edgeSeries(w, 8, 3);
    await w.finish();
    const report = await investigate(tmp, { incidentAt });
    expect(latencyFindings(report).map((f) => f.component)).toEqual(['catalog']);
  });

  it("reads a wait on an untraced callee in its callers' spans as the callee's, not their own work", async () => {
    await writeDelayBundle(tmp, { network: 40, work: 0 }, { untraced: true });
    const report = await investigate(tmp, { incidentAt });
    const found = latencyFindings(report);
    expect(found.map((f) => f.component)).toEqual(['catalog']);
    expect(found[0]?.title).toMatch(/frontend, recommend only waited on it/);
    expect(report.hypotheses[0]?.cause).toMatchObject({ component: 'catalog' });
  });
});

describe('latency: the onset is the first call that took the new time', () => {
  it('dates a slowdown at its first slow call, not at noise earlier in the bucket, and credits the change between', async () => {
    const dir = path.join(tmp, 'bundle');
    const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
    // A provider call every 2 s: 50 ms, a few 100 ms calls from 10:09:50 (a neighbour's restart),
    // the change at 10:10:00, and from 10:10:06 every call takes 6 s.
    const change = (rev: number, t: number, diffPath: string) =>
      w.addChange({
        id: `helm:shop/shop:${rev}`,
        time: new Date(t).toISOString(),
        kind: 'helm',
        target: 'release/shop',
        namespace: 'shop',
        release: 'shop',
        fromRevision: rev - 1,
        toRevision: rev,
        diff: [{ path: diffPath, from: 1, to: 2 }],
      });
    await change(2, incidentAt - 20_000, 'redis.logLevel');
    await change(3, incidentAt, 'shop.payment.latencyMs');
    let k = 0;
    for (let t = from; t < to; t += 2000) {
      const noisy = t >= incidentAt - 10_000 && t < incidentAt && (t / 2000) % 2 === 0;
      const took = t >= incidentAt + 6000 ? 6000 + (k % 7) : noisy ? 100 : 50 + (k % 5);
      await w.addSpan({
        trace: `t${k}`,
        span: `s${k}`,
        component: 'shop',
        pod: 'shop-0',
        operation: 'payment provider',
        start: stamp(t),
        durationMs: took,
        kind: 'client',
      });
      k++;
    }
    await w.finish();
    const report = await investigate(dir, { now: new Date(0) });
    const slow = report.findings.find(
      (f) => f.analyzer === 'latency' && f.title.includes('payment provider'),
    );
    expect(slow?.time).toBe(incidentAt + 6000);
    const top = report.hypotheses[0];
    expect(top?.title).toContain('revision 2 -> 3');
    expect(top?.explains).toContain(slow?.id);
  });
});
