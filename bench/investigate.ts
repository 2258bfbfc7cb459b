// Time and peak memory of `investigate` on a bundle of 10 pods and 1 hour with at least 3 million
// log lines (the story: a log-level change, redis.replica.replicaCount 2 -> 6, a label change).
// The bundle is generated once (deterministic seed) and kept in the temp folder for later runs.
// Run: node --import tsx bench/investigate.ts [BUNDLE]   (HINDSIGHT_BENCH_RPS=300 by default;
// HINDSIGHT_BENCH_WORKERS=1 mines on one thread, 2 on two; the default chooses by size). A BUNDLE
// given is investigated instead (e.g. one bench:rca imported, with a baseline and trace ids).
// CPU time (all threads) is printed beside the wall time: on a shared machine it moves less.
import os from 'node:os';
import { investigate } from '@hindsight/investigate';
import { ensureLargeBundle, largeBundleDir as dir } from './large-bundle.js';

const workersEnv = process.env['HINDSIGHT_BENCH_WORKERS'];
const workers = workersEnv === '1' ? 1 : workersEnv === '2' ? 2 : undefined;

const given = process.argv[2];
const generated = given === undefined ? await ensureLargeBundle() : undefined;
if (generated)
  console.log(
    `generated ${generated.lines.toLocaleString('en')} log lines in ${generated.seconds.toFixed(1)} s into ${dir}`,
  );

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(0)} MB`;
const baseline = process.memoryUsage().rss;
let peak = baseline;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 50);
const started = performance.now();
const cpuBefore = process.cpuUsage();
const report = await investigate(given ?? dir, { top: 3, ...(workers ? { workers } : {}) });
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
const top = report.hypotheses[0];
console.log(`| figure | value |`);
console.log(`| --- | --- |`);
console.log(
  `| bundle | ${report.stats.logFiles} log files, ${report.stats.logLines.toLocaleString('en')} log lines, ${report.stats.series} series, ${report.stats.changes} changes |`,
);
console.log(
  `| investigate | ${seconds.toFixed(1)} s (${Math.round(report.stats.logLines / seconds).toLocaleString('en')} lines/s) |`,
);
console.log(`| CPU time (user + system) | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s |`);
console.log(`| RSS before / peak | ${mb(baseline)} / ${mb(peak)} (+${mb(peak - baseline)}) |`);
console.log(`| templates mined | ${report.stats.templates} |`);
console.log(`| top hypothesis | ${top ? `${top.title} (score ${top.score})` : 'none'} |`);
console.log(
  `| machine | ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg()[0]?.toFixed(1)} |`,
);
console.log(`| mining threads | ${workers ?? 'auto'} |`);
