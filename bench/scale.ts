// How investigate's cost grows with the pods of a namespace: time and peak memory at 10, 100 and
// 1,000 pods of synthetic data (the story scenario's shop pods; requests per second grow with the
// pods, 0.2 per pod, so each pod logs about as much at every size). Each size runs in a child
// process of its own, so one size's peak memory is not another's.
// Run: npm run bench:scale   (HINDSIGHT_BENCH_SCALE_PODS=10,100 to choose the sizes)
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { investigate, storyScenario, writeSyntheticBundle } from '@hindsight/investigate';

interface Figures {
  pods: number;
  lines: number;
  logFiles: number;
  writeSeconds: number;
  seconds: number;
  baselineMb: number;
  peakMb: number;
  top: string;
}

async function one(pods: number): Promise<Figures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `hs-bench-scale-${pods}-`));
  try {
    const t0 = performance.now();
    const { lines } = await writeSyntheticBundle(
      dir,
      storyScenario({ seed: 42, durationMin: 20, shopPods: pods, rps: Math.max(2, pods * 0.2) }),
    );
    const writeSeconds = (performance.now() - t0) / 1000;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const t1 = performance.now();
    const report = await investigate(dir, { top: 3 });
    const seconds = (performance.now() - t1) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    return {
      pods,
      lines,
      logFiles: report.stats.logFiles,
      writeSeconds,
      seconds,
      baselineMb: baseline / 2 ** 20,
      peakMb: peak / 2 ** 20,
      top: report.hypotheses[0]?.title ?? 'none',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const arg = process.argv[2];
if (arg) {
  console.log(JSON.stringify(await one(Number(arg))));
} else {
  const sizes = (process.env['HINDSIGHT_BENCH_SCALE_PODS'] ?? '10,100,1000').split(',').map(Number);
  const self = fileURLToPath(import.meta.url);
  console.log(
    '| pods | log files | log lines | investigate | lines/s | RSS before / peak | top hypothesis |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const pods of sizes) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, String(pods)], { encoding: 'utf8' });
    const f = JSON.parse(out.trim().split('\n').at(-1) as string) as Figures;
    console.log(
      `| ${f.pods} | ${f.logFiles} | ${f.lines.toLocaleString('en')} | ${f.seconds.toFixed(1)} s | ${Math.round(f.lines / f.seconds).toLocaleString('en')} | ${f.baselineMb.toFixed(0)} / ${f.peakMb.toFixed(0)} MB (+${(f.peakMb - f.baselineMb).toFixed(0)}) | ${f.top} |`,
    );
  }
  console.log(
    `machine: ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg()[0]?.toFixed(1)}`,
  );
}
