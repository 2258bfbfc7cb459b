import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HindsightError } from '@hindsight/core';
import { emptyBucket, latency, type Bucket } from './traffic-buckets.js';

/** Options of {@link runTraffic}. Counts and time are bounded so a mistake cannot run away. */
export interface TrafficOptions {
  /** nginx's URL (`lab status --json` nginxUrl). Only loopback URLs are accepted. */
  baseUrl: string;
  /** Concurrent users, each its own session (1..500). */
  users: number;
  /** How long to run, in ms (at most one hour). */
  durationMs: number;
  /** Stop after this many requests in all (default: users x seconds x 100). */
  maxRequests?: number;
  /** Pause between a user's requests, ms (default 0: as fast as answers come). */
  thinkMs?: number;
  /** Where to write one JSON line per second; the summary goes beside it as .summary.json. */
  out?: string;
  signal?: AbortSignal;
  /** Called once per second with that second's figures. */
  onSecond?: (s: TrafficSecond) => void;
}

/** What happened in one second, as seen by the users: the ground truth an investigation is scored on. */
export interface TrafficSecond {
  /** Start of the second, RFC 3339. */
  t: string;
  requests: number;
  /** Answers 5xx, timeouts and connection failures. */
  errors: number;
  status: Record<string, number>;
  logins: number;
  flowsCompleted: number;
  /** Requests that carried a valid session cookie and were answered as logged out or with a cart or order the session had lost. */
  sessionsLost: number;
  lostAs: { loggedOut: number; cartEmptied: number; orderForgotten: number };
  checkoutsStarted: number;
  checkoutsConfirmed: number;
  /**
   * Orders started and then left behind, pending or paid: the flow was cut before confirm by a lost
   * session or by an error (a 5xx, a timeout, a connection cut), and the user went on with a new
   * login. The shop's sweeper must release or complete each of them.
   */
  checkoutsStuck: number;
  /**
   * Checkout starts answered 5xx or not at all: each may have committed an order the user never
   * learnt of (a session write failing after COMMIT), so the orders left behind are between
   * checkoutsStuck and checkoutsStuck + checkoutStartsCut.
   */
  checkoutStartsCut: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

/** Totals of a run. */
export interface TrafficSummary {
  baseUrl: string;
  users: number;
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  requests: number;
  errors: number;
  logins: number;
  flowsCompleted: number;
  sessionsLost: number;
  lostAs: TrafficSecond['lostAs'];
  checkoutsStarted: number;
  checkoutsConfirmed: number;
  checkoutsStuck: number;
  checkoutStartsCut: number;
  /** Checkouts cut by the end of the run: neither stuck nor done. */
  checkoutsInFlightAtEnd: number;
  latencyMs: TrafficSecond['latencyMs'];
  /** The first sessions lost, with when, who and at which step (at most 100). */
  lost: {
    t: string;
    user: string;
    step: string;
    kind: keyof TrafficSecond['lostAs'];
    status: number;
    code?: string;
  }[];
  /** Where the per-second lines are, when written. */
  out?: string;
}

/** Seeded users of the shop (stack/shop db.ts): shopper01..shopper20, each password `<name>-password`. */
const USERS = Array.from({ length: 20 }, (_, i) => `shopper${String(i + 1).padStart(2, '0')}`);

class Lost extends Error {
  constructor(
    readonly kind: keyof TrafficSecond['lostAs'],
    readonly step: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(`session lost at ${step}`);
  }
}

class Failed extends Error {}

/**
 * Drives real user flows through nginx: log in, look at products, add to the cart (checking the
 * cart the shop answers holds what was added), start a checkout, pay, confirm; then again on the
 * same session, and a fresh login every few flows. Each user keeps its own cookie jar. Counts, per
 * second, every request, error and latency and, as ground truth, every session lost mid-flow (a
 * valid cookie answered as logged out, a cart emptied, an order forgotten) and every checkout left
 * behind by a lost session or an error. Resolves to the totals; writes JSON lines when `out` is given.
 */
export async function runTraffic(o: TrafficOptions): Promise<TrafficSummary> {
  const url = new URL(o.baseUrl);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new HindsightError('HINDSIGHT_USAGE', 'traffic only goes to loopback addresses', o.baseUrl);
  }
  if (!(o.users >= 1 && o.users <= 500))
    throw new HindsightError('HINDSIGHT_USAGE', 'users must be between 1 and 500', '--users');
  if (!(o.durationMs > 0 && o.durationMs <= 3_600_000))
    throw new HindsightError('HINDSIGHT_USAGE', 'duration must be between 1 ms and 1 h', '--duration');
  const maxRequests = o.maxRequests ?? Math.ceil(o.users * (o.durationMs / 1000) * 100);
  const started = Date.now();
  const deadline = started + o.durationMs;
  const buckets = new Map<number, Bucket>();
  const bucket = (t = Date.now()) => {
    const k = Math.floor(t / 1000);
    let b = buckets.get(k);
    if (!b) buckets.set(k, (b = emptyBucket()));
    return b;
  };
  const all: number[] = [];
  const lost: TrafficSummary['lost'] = [];
  let requests = 0;
  let inFlightCheckouts = 0;
  const stream = o.out
    ? (await mkdir(dirname(o.out), { recursive: true }), createWriteStream(o.out))
    : undefined;
  let flushed = Math.floor(started / 1000) - 1;
  const flush = (upTo: number) => {
    for (let k = flushed + 1; k < upTo; k++) {
      const b = buckets.get(k) ?? emptyBucket();
      const sec: TrafficSecond = {
        t: new Date(k * 1000).toISOString(),
        requests: b.requests,
        errors: b.errors,
        status: b.status,
        logins: b.logins,
        flowsCompleted: b.flowsCompleted,
        sessionsLost: b.lostAs.loggedOut + b.lostAs.cartEmptied + b.lostAs.orderForgotten,
        lostAs: b.lostAs,
        checkoutsStarted: b.checkoutsStarted,
        checkoutsConfirmed: b.checkoutsConfirmed,
        checkoutsStuck: b.checkoutsStuck,
        checkoutStartsCut: b.checkoutStartsCut,
        latencyMs: latency(b.latencies),
      };
      stream?.write(`${JSON.stringify(sec)}\n`);
      o.onSecond?.(sec);
      flushed = k;
    }
  };
  const ticker = setInterval(() => flush(Math.floor(Date.now() / 1000)), 250);
  const done = () => Date.now() >= deadline || requests >= maxRequests || o.signal?.aborted === true;

  const user = async (index: number) => {
    const name = USERS[index % USERS.length]!;
    let cookie: string | undefined;
    const call = async (
      method: string,
      path: string,
      step: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      requests++;
      const t0 = performance.now();
      let res: Response;
      let text: string;
      try {
        res = await fetch(new URL(path, url), {
          method,
          headers: {
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(cookie ? { cookie } : {}),
            'user-agent': 'hindsight-lab-traffic',
            ...headers,
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(35_000),
        });
        text = await res.text();
      } catch (err) {
        const b = bucket();
        b.requests++;
        b.errors++;
        b.status.error = (b.status.error ?? 0) + 1;
        throw new Failed(`${step}: ${(err as Error).message}`);
      }
      const ms = performance.now() - t0;
      const b = bucket();
      b.requests++;
      b.latencies.push(ms);
      all.push(ms);
      b.status[String(res.status)] = (b.status[String(res.status)] ?? 0) + 1;
      if (res.status >= 500) b.errors++;
      for (const c of res.headers.getSetCookie()) {
        const m = /^shop_sid=([^;]*)/.exec(c);
        if (m)
          cookie = m[1] && !/max-age=0|expires=thu, 01 jan 1970/i.test(c) ? `shop_sid=${m[1]}` : undefined;
      }
      let json: { error?: { code?: string } } & Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as typeof json;
      } catch {
        json = {};
      }
      return { status: res.status, json, code: json.error?.code };
    };
    const lose = (e: Lost, orderPending: boolean) => {
      const b = bucket();
      b.lostAs[e.kind]++;
      if (orderPending) b.checkoutsStuck++;
      if (lost.length < 100)
        lost.push({
          t: new Date().toISOString(),
          user: name,
          step: e.step,
          kind: e.kind,
          status: e.status,
          ...(e.code ? { code: e.code } : {}),
        });
    };
    // With a valid cookie, a 401 is a lost session; a 5xx is an error (the user sees it), not a loss.
    const authed = async (
      method: string,
      path: string,
      step: string,
      body?: unknown,
      headers?: Record<string, string>,
    ) => {
      const r = await call(method, path, step, body, headers);
      if (r.status === 401) throw new Lost('loggedOut', step, r.status, r.code);
      if (r.status >= 500) throw new Failed(`${step}: ${r.status}`);
      return r;
    };
    let skus: string[] = [];
    while (!done()) {
      cookie = undefined;
      const login = await call('POST', '/login', 'login', {
        username: name,
        password: `${name}-password`,
      }).catch(() => undefined);
      if (!login || login.status !== 200 || !cookie) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      bucket().logins++;
      for (let flow = 0; flow < 3 && !done(); flow++) {
        let orderPending = false;
        try {
          if (skus.length === 0) {
            const p = await authed('GET', '/products', 'products');
            skus = ((p.json.products as { sku: string }[] | undefined) ?? []).map((x) => x.sku);
          }
          const want = new Map<string, number>();
          const items = 1 + Math.floor(Math.random() * 3);
          for (let i = 0; i < items && !done(); i++) {
            const sku = skus[Math.floor(Math.random() * skus.length)]!;
            want.set(sku, (want.get(sku) ?? 0) + 1);
            const r = await authed('POST', '/cart/items', 'cart', { sku, qty: 1 });
            if (r.status !== 200) throw new Failed(`cart: ${r.status} ${r.code ?? ''}`);
            const have = new Map(
              ((r.json.items as { sku: string; qty: number }[] | undefined) ?? []).map((x) => [x.sku, x.qty]),
            );
            if ([...want].some(([s, q]) => (have.get(s) ?? 0) < q))
              throw new Lost('cartEmptied', 'cart', r.status);
            if (o.thinkMs) await new Promise((res) => setTimeout(res, o.thinkMs));
          }
          if (done()) break;
          const cart = await authed('GET', '/cart', 'cart-view');
          const have = new Map(
            ((cart.json.items as { sku: string; qty: number }[] | undefined) ?? []).map((x) => [
              x.sku,
              x.qty,
            ]),
          );
          if ([...want].some(([s, q]) => (have.get(s) ?? 0) < q))
            throw new Lost('cartEmptied', 'cart-view', cart.status);
          const start = await authed('POST', '/checkout/start', 'checkout-start').catch((err: unknown) => {
            if (err instanceof Failed) bucket().checkoutStartsCut++;
            throw err;
          });
          if (start.status === 409 && start.code === 'SHOP_CART_EMPTY')
            throw new Lost('cartEmptied', 'checkout-start', 409, start.code);
          if (start.status !== 200) throw new Failed(`checkout-start: ${start.status} ${start.code ?? ''}`);
          orderPending = true;
          inFlightCheckouts++;
          bucket().checkoutsStarted++;
          const key = randomBytes(12).toString('hex');
          const pay = await authed(
            'POST',
            '/checkout/pay',
            'checkout-pay',
            { idempotencyKey: key },
            { 'idempotency-key': key },
          );
          if (pay.status === 409 && pay.code === 'SHOP_NO_PENDING_ORDER')
            throw new Lost('orderForgotten', 'checkout-pay', 409, pay.code);
          if (pay.status !== 200) throw new Failed(`checkout-pay: ${pay.status} ${pay.code ?? ''}`);
          const confirm = await authed('POST', '/checkout/confirm', 'checkout-confirm');
          if (
            confirm.status === 409 &&
            (confirm.code === 'SHOP_NO_PENDING_ORDER' || confirm.code === 'SHOP_ORDER_NOT_PAID')
          ) {
            throw new Lost('orderForgotten', 'checkout-confirm', 409, confirm.code);
          }
          if (confirm.status !== 200)
            throw new Failed(`checkout-confirm: ${confirm.status} ${confirm.code ?? ''}`);
          orderPending = false;
          inFlightCheckouts--;
          const b = bucket();
          b.checkoutsConfirmed++;
          b.flowsCompleted++;
        } catch (err) {
          if (orderPending) inFlightCheckouts--;
          if (err instanceof Lost) {
            lose(err, orderPending);
            break; // the user logs in again
          }
          // An error: the user starts over with a new login, as a real one would after a failure,
          // and the order started is left behind, as much as one a lost session strands.
          if (orderPending) bucket().checkoutsStuck++;
          break;
        }
      }
    }
  };

  await Promise.all(Array.from({ length: o.users }, (_, i) => user(i)));
  clearInterval(ticker);
  flush(Math.floor(Date.now() / 1000) + 1);
  const ended = Date.now();
  const totals = [...buckets.values()].reduce(
    (acc, b) => {
      acc.requests += b.requests;
      acc.errors += b.errors;
      acc.logins += b.logins;
      acc.flowsCompleted += b.flowsCompleted;
      acc.lostAs.loggedOut += b.lostAs.loggedOut;
      acc.lostAs.cartEmptied += b.lostAs.cartEmptied;
      acc.lostAs.orderForgotten += b.lostAs.orderForgotten;
      acc.checkoutsStarted += b.checkoutsStarted;
      acc.checkoutsConfirmed += b.checkoutsConfirmed;
      acc.checkoutsStuck += b.checkoutsStuck;
      acc.checkoutStartsCut += b.checkoutStartsCut;
      return acc;
    },
    { ...emptyBucket(), lostAs: { loggedOut: 0, cartEmptied: 0, orderForgotten: 0 } },
  );
  const summary: TrafficSummary = {
    baseUrl: o.baseUrl,
    users: o.users,
    startedAt: new Date(started).toISOString(),
    endedAt: new Date(ended).toISOString(),
    durationSeconds: Math.round((ended - started) / 100) / 10,
    requests: totals.requests,
    errors: totals.errors,
    logins: totals.logins,
    flowsCompleted: totals.flowsCompleted,
    sessionsLost: totals.lostAs.loggedOut + totals.lostAs.cartEmptied + totals.lostAs.orderForgotten,
    lostAs: totals.lostAs,
    checkoutsStarted: totals.checkoutsStarted,
    checkoutsConfirmed: totals.checkoutsConfirmed,
    checkoutsStuck: totals.checkoutsStuck,
    checkoutStartsCut: totals.checkoutStartsCut,
    checkoutsInFlightAtEnd: Math.max(0, inFlightCheckouts),
    latencyMs: latency(all),
    lost,
    ...(o.out ? { out: o.out } : {}),
  };
  if (stream) {
    await new Promise<void>((r) => stream.end(r));
    await writeFile(
      o.out!.replace(/\.jsonl$/, '') + '.summary.json',
      `${JSON.stringify(summary, null, 2)}\n`,
    );
  }
  return summary;
}
