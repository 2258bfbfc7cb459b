// What the browser tests share: Debian's chromium driven by playwright-core, the built `hindsight
// serve` on a free port, and the geometry checks that say whether a page holds up.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bin, repoRoot } from './helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
// The flags keep it off the network: without the background-networking ones it keeps trying to
// reach Google's services.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether the browser tests can run here: chromium installed and the web app built. */
export const browserReady =
  existsSync(CHROMIUM) && existsSync(path.join(repoRoot, 'packages/web/dist/app/index.html'));

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Starts the built `hindsight serve` on a free port and resolves once it prints its URL. */
export function serve(bundle: string, args: string[] = []): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', bundle, '--port', '0', ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) resolve({ child, url: m[0], stderr: () => err });
    });
    child.once('exit', (code) => reject(new Error(`hindsight serve exited with ${code}: ${err}`)));
  });
}

/** Stops a served bundle with Ctrl-C and gives its exit code. */
export async function stop(s: Served | undefined): Promise<number | null> {
  if (!s || s.child.exitCode !== null) return s?.child.exitCode ?? null;
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  s.child.kill('SIGINT');
  return exited;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The boxes (page pixels) of every element a selector finds. */
export async function boxes(page: Page, selector: string): Promise<Box[]> {
  const found = await page.locator(selector).all();
  const out: Box[] = [];
  for (const el of found) {
    const b = await el.boundingBox();
    if (b) out.push(b);
  }
  return out;
}

/** The pairs of boxes that overlap (touching edges do not), as indices. */
export function overlaps(list: Box[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  list.forEach((a, i) =>
    list.slice(i + 1).forEach((b, k) => {
      const apart =
        a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      if (!apart) out.push([i, i + 1 + k]);
    }),
  );
  return out;
}

/** Whether a box lies inside another (a label inside its chart, a chart inside the viewport). */
export function inside(inner: Box, outer: Box, slack = 0.5): boolean {
  return (
    inner.x >= outer.x - slack &&
    inner.y >= outer.y - slack &&
    inner.x + inner.width <= outer.x + outer.width + slack &&
    inner.y + inner.height <= outer.y + outer.height + slack
  );
}

/** The tick labels a chart drew on its canvas, which it keeps as `data-x-ticks` and `data-y-ticks`. */
export async function ticks(page: Page, chart: string): Promise<{ x: string[]; y: string[] }> {
  const el = page.locator(chart).first();
  const read = async (a: string): Promise<string[]> => JSON.parse((await el.getAttribute(a)) ?? '[]');
  return { x: await read('data-x-ticks'), y: await read('data-y-ticks') };
}
