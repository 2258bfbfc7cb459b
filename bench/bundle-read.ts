// Reading a 200 MB container log through the bundle reader keeps memory flat: the reader streams
// line by line. Prints the resident set size at each tenth of the file and the peak, against the
// RSS before reading (the baseline in this process) and the file's size.
// Run: npm run bench:bundle   (HINDSIGHT_BENCH_MB=200 by default)
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BundleWriter, openBundle } from '@hindsight/core';

const targetMb = Number(process.env['HINDSIGHT_BENCH_MB'] ?? 200);
const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

const tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-bench-read-'));
try {
  const dir = path.join(tmp, 'bundle');
  const from = Date.parse('2026-01-01T00:00:00Z');
  const w = await BundleWriter.create(dir, {
    window: { from: new Date(from), to: new Date(from + 3_600_000) },
  });
  const log = await w.openLog({ namespace: 'default', pod: 'shop-0', container: 'shop', previous: false });
  const templates = [
    (i: number) =>
      `{"level":30,"msg":"request completed","route":"/cart","status":200,"durationMs":${i % 97},"pod":"shop-0"}`,
    (i: number) =>
      `{"level":30,"msg":"session saved","node":"127.0.0.1:6379","sessionVersion":${i},"pod":"shop-0"}`,
    (i: number) => `GET /checkout/start 200 ${i % 13}ms user=${i % 500} order=${i}`,
  ];
  let i = 0;
  let bytes = 0;
  const writeStart = performance.now();
  while (bytes < targetMb * 1024 * 1024) {
    const line = templates[i % templates.length]!(i);
    bytes += line.length + 32;
    await log.write(from + Math.floor(i / 600), line);
    i++;
  }
  await w.finish();
  const file = path.join(dir, 'logs/default/shop-0/shop.log');
  const size = (await stat(file)).size;
  console.log(
    `wrote ${i.toLocaleString()} lines, ${mb(size)} in ${((performance.now() - writeStart) / 1000).toFixed(1)} s`,
  );

  global.gc?.();
  const baseline = process.memoryUsage().rss;
  const bundle = await openBundle(dir);
  const [ref] = await bundle.logs();
  let n = 0;
  let peak = baseline;
  const marks: string[] = [];
  const readStart = performance.now();
  for await (const _line of bundle.readLog(ref!)) {
    n++;
    if (n % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    if (n % Math.floor(i / 10) === 0) marks.push(mb(process.memoryUsage().rss));
  }
  const secs = (performance.now() - readStart) / 1000;
  console.log(
    `read ${n.toLocaleString()} lines in ${secs.toFixed(1)} s (${Math.round(n / secs).toLocaleString()} lines/s)`,
  );
  console.log(`RSS at each tenth: ${marks.join(', ')}`);
  console.log(
    `RSS before reading ${mb(baseline)}, peak while reading ${mb(peak)}: +${mb(peak - baseline)} for a ${mb(size)} file (ratio peak/baseline ${(peak / baseline).toFixed(2)})`,
  );
} finally {
  await rm(tmp, { recursive: true, force: true });
}
