// Speed of @hindsight/drain on long, fresh lines: the bench corpus of the issue "the template miner
// on logs it has never seen" (long, varied message bodies whose numbers never repeat), beside the
// read-and-split floor measured in the same process on the same file.
//
// The corpus is built deterministically from the 16,000 Loghub-2k message bodies (the eight dev
// systems), so it needs no other data:
// - each body gets one of eight tails (picked by the body's index, so a body always has the same
//   tail shape and the number of templates stays bounded): request and trace ids, UUIDs, IPv4 with
//   ports, paths with ids, ISO times, durations, sizes, key=value pairs; lines are then about 2.5
//   times as long as the bodies (mean length printed);
// - "fresh": every standalone number of the body is moved by a million times the repetition, and
//   the tail's values come from a generator seeded by the line's number, so no line and no value
//   with a digit is ever seen twice;
// - "repeated": the same 16,000 long lines over and over (tail values seeded by the body's index).
//
// Each corpus is written to a temporary file and read back in 1 MiB chunks; the floor reads and
// splits it into lines and space-separated tokens; the miner reads it the same way and mines each
// line. Floor and miner alternate (floor, mine, floor, mine) in one process; the best CPU time of
// each is kept. RSS is sampled at each tenth of the last mining pass (memory flat: the second half
// should not grow).
//
// Run: npx tsc -b packages/drain && node bench/drain-long.mjs [--lines 1000000] [--corpus fresh|repeated]
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemplateMiner, parseLogFormat } from '@hindsight/drain';

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.LOGHUB_2K ?? join(here, '..', '..', 'shared', 'data', 'loghub-2k');
const args = process.argv.slice(2);
const argOf = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!existsSync(join(dataDir, 'settings.json'))) {
  console.error(`Loghub-2k data not found at ${dataDir} (set LOGHUB_2K)`);
  process.exit(2);
}

const settings = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'));
const bodies = [];
for (const ds of Object.values(settings.datasets)) {
  const fmt = parseLogFormat(ds.log_format);
  if (!fmt.ok) throw new Error(fmt.error);
  const text = readFileSync(join(dataDir, ds.log_file), 'utf8').split(/\r?\n/);
  if (text.at(-1) === '') text.pop();
  for (const line of text) bodies.push(fmt.parser.parse(line)?.content ?? line);
}

/** A small deterministic generator (xorshift32), so the corpus is the same on every machine. */
function generator(seed) {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const hex = (g, n) => {
  let s = '';
  while (s.length < n) s += g().toString(16).padStart(8, '0');
  return s.slice(0, n);
};
const ip = (g) => `10.${g() % 256}.${g() % 256}.${g() % 256}`;
const uuid = (g) => `${hex(g, 8)}-${hex(g, 4)}-4${hex(g, 3)}-a${hex(g, 3)}-${hex(g, 12)}`;
const iso = (g) => new Date(1.7e12 + (g() % 1e9) * 1000).toISOString();
const TAILS = [
  (g) => `request_id=${hex(g, 16)} user=${USERS[g() % 8]} latency=${g() % 5000}ms`,
  (g) => `trace=${uuid(g)} span=${hex(g, 8)} peer=${ip(g)}:${1024 + (g() % 60000)}`,
  (g) =>
    `path=/api/v2/orders/${g() % 1e6}/items/${g() % 1e4} status=${200 + (g() % 4) * 100} bytes=${g() % 1e6}`,
  (g) =>
    `client ${ip(g)}:${g() % 65536} -> ${ip(g)}:${g() % 65536} took ${g() % 900} ms (attempt ${1 + (g() % 5)} of 5)`,
  (g) => `[worker-${g() % 64}] job ${g()} queued at ${iso(g)} on node-${g() % 500}.cluster.local`,
  (g) => `session=${hex(g, 32)} cart_items=${g() % 40} total=${(g() % 100000) / 100} currency=EUR`,
  (g) => `file=/var/lib/app/data/${hex(g, 8)}/${g() % 1e5}.db offset=${g()} size=${g() % 1e7}`,
  (g) =>
    `retry ${1 + (g() % 3)}/3 after ${g() % 2000}ms: upstream ${ip(g)}:${g() % 65536} returned ${500 + (g() % 4)}`,
];

/** Line `k` of a corpus. */
function lineAt(k, fresh) {
  const b = k % bodies.length;
  const rep = Math.floor(k / bodies.length);
  const body = fresh
    ? bodies[b].replace(/(?<![A-Za-z])\d+/g, (d) => String(Number(d) + rep * 1_000_000))
    : bodies[b];
  return `${body} ${TAILS[b % TAILS.length](generator(fresh ? k + 1 : b + 1))}`;
}

/** Writes a corpus of `n` lines to `file`, 4,096 lines per write. */
function writeCorpus(file, n, fresh) {
  const fd = openSync(file, 'w');
  let chars = 0;
  for (let k = 0; k < n;) {
    const chunk = [];
    for (let j = 0; j < 4096 && k < n; j++, k++) chunk.push(lineAt(k, fresh));
    const text = `${chunk.join('\n')}\n`;
    chars += text.length;
    writeSync(fd, text);
  }
  closeSync(fd);
  return chars / n - 1;
}

/** Streams a file's lines through `each` in 1 MiB chunks; returns the number of lines. */
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
      each(line, n);
      n++;
    }
  }
  if (rest !== '') each(rest, n++);
  closeSync(fd);
  return n;
}

function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const extra = fn();
  const cpu = process.cpuUsage(c0);
  return { cpu: (cpu.user + cpu.system) / 1e6, wall: Number(process.hrtime.bigint() - t0) / 1e9, ...extra };
}

function floorPass(file) {
  let tokens = 0;
  const lines = eachLine(file, (line) => {
    tokens += line.split(' ').length;
  });
  return { lines, tokens };
}

function minePass(file, n) {
  const miner = new TemplateMiner();
  const rss = [];
  const every = Math.max(1, Math.floor(n / 10));
  const lines = eachLine(file, (line, i) => {
    miner.add(line);
    if ((i + 1) % every === 0) rss.push(process.memoryUsage().rss / 2 ** 20);
  });
  return { lines, templates: miner.stats().templates, rss };
}

const n = Number(argOf('--lines') ?? 1_000_000);
const only = argOf('--corpus');
const dir = mkdtempSync(join(tmpdir(), 'drain-long-'));
const rate = (lines, s) => Math.round(lines / s).toLocaleString('en-US');
try {
  const rows = [];
  for (const fresh of [true, false]) {
    const name = fresh ? 'fresh' : 'repeated';
    if (only !== undefined && only !== name) continue;
    const file = join(dir, `${name}.log`);
    const meanLength = writeCorpus(file, n, fresh);
    const floors = [];
    const mines = [];
    for (let round = 0; round < 2; round++) {
      floors.push(timed(() => floorPass(file)));
      mines.push(timed(() => minePass(file, n)));
    }
    const f = floors.reduce((a, b) => (b.cpu < a.cpu ? b : a));
    const m = mines.reduce((a, b) => (b.cpu < a.cpu ? b : a));
    const last = mines.at(-1).rss;
    rows.push({ name, meanLength, f, m, last });
    rmSync(file);
  }
  console.log(
    `node ${process.version}, one thread, ${n.toLocaleString('en-US')} lines per corpus; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    '| Corpus | Mean line (chars) | Floor, per CPU s | Mine, per CPU s | Mine, wall (lines/s) | Mine / floor (CPU time) | RSS at each tenth of the last pass (MB) | Templates |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.meanLength.toFixed(0)} | ${rate(r.f.lines, r.f.cpu)} | ${rate(r.m.lines, r.m.cpu)} | ${rate(r.m.lines, r.m.wall)} | ${(r.m.cpu / r.f.cpu).toFixed(2)}x | ${r.last.map((x) => x.toFixed(0)).join(' ')} | ${r.m.templates} |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
