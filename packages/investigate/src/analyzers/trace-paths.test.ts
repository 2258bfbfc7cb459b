import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleWriter, type LogSink } from '@hindsight/core';
import { investigate } from '../index.js';

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

const base = Date.parse('2026-03-02T08:00:00Z');
const from = Date.parse('2026-03-02T10:00:00Z');
const to = Date.parse('2026-03-02T10:20:00Z');
const incident = Date.parse('2026-03-02T10:10:00Z');
const checkoutPod = 'checkout-6d4f8b7c9d-abcde';
const paymentPod = 'payment-7f9c6b5d4e-fghij';

function traceId(i: number): string {
  return i.toString(16).padStart(32, '0');
}

/** One request: checkout logs two statements, then payment two (or, when failing, an error instead of the last). */
async function request(
  logs: { checkout: LogSink; payment: LogSink },
  t: number,
  id: string,
  how: { paymentFails?: boolean; checkoutSkips?: boolean },
): Promise<void> {
  await logs.checkout.write(t, `INFO  c.s.CheckoutService#10 TraceID: ${id} [checkout][start]`);
  if (!how.checkoutSkips)
    await logs.checkout.write(
      t + 5,
      `INFO  c.s.CheckoutService#20 TraceID: ${id} [checkout][stock reserved]`,
    );
  await logs.payment.write(t + 10, `INFO  p.s.PaymentService#30 TraceID: ${id} [pay][charging card]`);
  if (how.paymentFails) {
    await logs.payment.write(
      t + 12,
      `ERROR p.s.PaymentService#35 TraceID: ${id} [pay][gateway refused the card]`,
    );
  } else {
    await logs.payment.write(t + 15, `INFO  p.s.PaymentService#40 TraceID: ${id} [pay][receipt sent]`);
  }
}

/**
 * A baseline minute of normal requests two hours before the window; in the window, requests every
 * 5 s. From 10:02 to 10:04 checkout skips a statement (an earlier episode that recovers), and from
 * 10:10 payment answers with an error where it used to send a receipt.
 */
async function writeBundle(withBaseline: boolean): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'hs-trace-paths-')), 'bundle');
  temps.push(path.dirname(dir));
  const w = await BundleWriter.create(dir, { window: { from: new Date(from), to: new Date(to) } });
  const logs = {
    checkout: await w.openLog({ namespace: 'shop', pod: checkoutPod, container: 'app', previous: false }),
    payment: await w.openLog({ namespace: 'shop', pod: paymentPod, container: 'app', previous: false }),
  };
  let n = 0;
  if (withBaseline) {
    w.setBaseline({ from: new Date(base), to: new Date(base + 60_000) });
    for (let t = base; t < base + 60_000; t += 1500) await request(logs, t, traceId(++n), {});
  }
  for (let t = from; t < to; t += 5000) {
    const earlier = t >= from + 120_000 && t < from + 240_000;
    await request(logs, t, traceId(++n), { checkoutSkips: earlier, paymentFails: t >= incident });
    if (earlier) await logs.checkout.write(t + 20, 'ERROR c.s.StockCache#77 stock cache refresh failed');
  }
  await w.finish();
  return dir;
}

describe('trace-paths: request paths against the baseline', () => {
  it('ranks first the component whose requests now end in an error where the baseline went on', async () => {
    const report = await investigate(await writeBundle(true), { incidentAt: incident, now: new Date(0) });
    const departures = report.findings.filter((f) => f.analyzer === 'trace-paths');
    const payment = departures.find((f) => f.component === 'payment');
    expect(payment).toMatchObject({ baseline: true, userFacing: true, pod: paymentPod });
    expect(payment?.title).toContain('after "at p.s.PaymentService#30" came');
    expect(payment?.title).toContain('(120 of 120 times; the baseline went elsewhere all 40 times)');
    expect(Math.abs((payment?.time ?? 0) - incident)).toBeLessThan(1000);
    // The checkout episode ended minutes before the incident: it did not cause it, nor did the
    // errors logged meanwhile.
    expect(report.findings.filter((f) => f.component === 'checkout')).toEqual([]);
    expect(report.verdict).toBe('component');
    expect(report.summary).toContain(
      '(the first departure from the baseline since a minute before the incident time)',
    );
    expect(report.hypotheses[0]?.cause).toMatchObject({ type: 'component', component: 'payment' });
  });

  it('reports each episode when no incident time is given, the earlier one in checkout included', async () => {
    const report = await investigate(await writeBundle(true), { now: new Date(0) });
    const departures = report.findings.filter((f) => f.analyzer === 'trace-paths');
    const checkout = departures.find((f) => f.component === 'checkout');
    expect(checkout?.title).toContain(
      'after "at c.s.CheckoutService#10" came "(end of its part of the request)"',
    );
    // A request cut short where the baseline always went on failed its caller, as an error would.
    expect(checkout?.userFacing).toBe(true);
    expect(checkout?.time).toBe(from + 120_000);
    expect(checkout?.end).toBe(from + 235_000);
    expect(departures.some((f) => f.component === 'payment')).toBe(true);
    const cacheErrors = report.findings.find((f) => f.title.includes('stock cache refresh failed'));
    expect(cacheErrors).toMatchObject({
      analyzer: 'log-patterns',
      component: 'checkout',
      end: from + 235_020,
    });
  });

  it('finds nothing without a baseline: the window alone does not say which path is normal', async () => {
    const report = await investigate(await writeBundle(false), { incidentAt: incident, now: new Date(0) });
    expect(report.findings.filter((f) => f.analyzer === 'trace-paths')).toEqual([]);
  });
});
