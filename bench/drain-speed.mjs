// Speed of @hindsight/drain: lines per second on one thread, on the message bodies of the eight
// Loghub-2k datasets concatenated and repeated to N lines, beside the floor (the time to only read
// the same file in 1 MiB chunks and split it into lines and space-separated tokens, in the same kind of process), with
// the peak RSS of each run. Each measurement runs in a fresh child process, so RSS is its own.
//
// Run: npx tsc -b packages/drain && node bench/drain-speed.mjs [--lines 2000000] [--corpus repeated|varied]
import {
  readFileSync,
  writeFileSync,
  existsSync,
  mkdtempSync,
  rmSync,
  openSync,
  readSync,
  closeSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemplateMiner, parseLogFormat } from '@hindsight/drain';

const self = fileURLToPath(import.meta.url);
const here = dirname(self);
const dataDir = process.env.LOGHUB_2K ?? join(here, '..', '..', 'shared', 'data', 'loghub-2k');
const args = process.argv.slice(2);
const argOf = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function readLines(file) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Streams a file's lines through `each` in 1 MiB chunks, so memory stays flat. */
function eachLine(file, each) {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let rest = '';
  let n = 0;
  for (;;) {
    const got = readSync(fd, buf, 0, buf.length, null);
    if (got === 0) break;
    const lines = (rest + buf.toString('utf8', 0, got)).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      each(line);
      n++;
    }
  }
  if (rest !== '') {
    each(rest);
    n++;
  }
  closeSync(fd);
  return n;
}

const mode = argOf('--mode');
if (mode !== undefined) {
  // Child: one measurement on one file.
  const file = argOf('--file');
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let tokens = 0;
  let templates = 0;
  let lines = 0;
  if (mode === 'floor') {
    lines = eachLine(file, (line) => {
      tokens += line.split(' ').length;
    });
  } else {
    const miner = new TemplateMiner();
    lines = eachLine(file, (line) => miner.add(line));
    templates = miner.stats().templates;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ mode, lines, seconds, cpuSeconds, rssMb, tokens, templates }));
  process.exit(0);
}

if (!existsSync(join(dataDir, 'settings.json'))) {
  console.error(`Loghub-2k data not found at ${dataDir} (set LOGHUB_2K)`);
  process.exit(2);
}
const settings = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'));
const bodies = [];
for (const ds of Object.values(settings.datasets)) {
  const fmt = parseLogFormat(ds.log_format);
  if (!fmt.ok) throw new Error(fmt.error);
  for (const line of readLines(join(dataDir, ds.log_file)))
    bodies.push(fmt.parser.parse(line)?.content ?? line);
}

const target = Number(argOf('--lines') ?? 2_000_000);
const dir = mkdtempSync(join(tmpdir(), 'drain-speed-'));

// "repeated": the bodies as they are, repeated. "varied": every repetition shifts each number
// (12 -> 12+rep), so numeric tokens are new on every pass and no cache sees them twice.
function corpus(n, varied) {
  const reps = n / bodies.length;
  const chunks = [];
  for (let r = 0; r < reps; r++) {
    chunks.push(
      varied && r > 0
        ? bodies.map((b) => b.replace(/(?<![A-Za-z])\d+/g, (d) => String(Number(d) + r))).join('\n')
        : bodies.join('\n'),
    );
  }
  return chunks.join('\n') + '\n';
}

try {
  const sizes = [target / 4, target / 2, target].map((n) => Math.ceil(n / bodies.length) * bodies.length);
  const results = [];
  const only = argOf('--corpus'); // 'repeated' or 'varied': run just that one
  for (const varied of [false, true].filter(
    (v) => only === undefined || only === (v ? 'varied' : 'repeated'),
  )) {
    for (const n of sizes) {
      const file = join(dir, `bodies-${n}.log`);
      writeFileSync(file, corpus(n, varied));
      for (const m of ['floor', 'mine']) {
        const out = execFileSync(process.execPath, [self, '--mode', m, '--file', file], { encoding: 'utf8' });
        results.push({ corpus: varied ? 'varied' : 'repeated', ...JSON.parse(out) });
      }
      rmSync(file);
    }
  }
  console.log(
    `node ${process.version}, one thread; ${bodies.length} distinct bodies; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    '| Corpus | Lines | Floor, wall (lines/s) | Mine, wall (lines/s) | Floor, per CPU s | Mine, per CPU s | Mine / floor (CPU time) | Peak RSS floor | Peak RSS mine | Templates |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (let i = 0; i < results.length; i += 2) {
    const f = results[i];
    const m = results[i + 1];
    const rate = (lines, s) => Math.round(lines / s).toLocaleString('en-US');
    console.log(
      `| ${m.corpus} | ${m.lines.toLocaleString('en-US')} | ${rate(f.lines, f.seconds)} | ${rate(m.lines, m.seconds)} | ${rate(f.lines, f.cpuSeconds)} | ${rate(m.lines, m.cpuSeconds)} | ${(m.cpuSeconds / f.cpuSeconds).toFixed(2)}x | ${f.rssMb.toFixed(0)} MB | ${m.rssMb.toFixed(0)} MB | ${m.templates} |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
