// What redaction costs per log line: every line a bundle writer writes (and every string of a
// report) passes `Redactor.text`. Prints lines per second on the Loghub 2k corpus (16 systems,
// 32,000 real lines) and on a secret-dense corpus (the planted lines of test/fixtures/secrets),
// for: a plain copy of each line (the floor), the redactor before issue #16 (4 regexes, no
// catalogue; kept below only as a speed reference), and the catalogue with and without its cheap
// pre-check. Also how many Loghub lines the catalogue changes, and which kinds.
// Run: node --import tsx bench/redact.ts   (needs ../shared/data/loghub-2k; HINDSIGHT_BENCH_ROUNDS=20)
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REDACTED, Redactor, secretRules } from '@hindsight/core';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const loghub = path.resolve(repo, '../shared/data/loghub-2k');
const rounds = Number(process.env['HINDSIGHT_BENCH_ROUNDS'] ?? 20);

// The redactor before issue #16, as it was in packages/core/src/redact.ts (commit bac3f7f).
const OLD_URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/:@]*):([^\s/@]*)@/gi;
const OLD_URL_USER_ONLY = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/:@]+)@/gi;
const OLD_INLINE =
  /\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization)(["']?\s*[=:]\s*["']?)(?!\[REDACTED\])([^\s"',;&]+)/gi;
const OLD_QUERY = /([?&](?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth)=)([^&\s#]+)/gi;
function oldRedactText(text: string): string {
  if (text.length === 0) return text;
  let out = text;
  if (out.includes('://')) {
    out = out.replace(OLD_URL_CREDENTIALS, (_m, s: string, u: string) => `${s}${u}:${REDACTED}@`);
    out = out.replace(OLD_URL_USER_ONLY, (_m, s: string) => `${s}${REDACTED}@`);
  }
  if (out.includes('=') || out.includes(':')) {
    out = out.replace(OLD_QUERY, (_m, h: string) => `${h}${REDACTED}`);
    out = out.replace(OLD_INLINE, (_m, k: string, sep: string) => `${k}${sep}${REDACTED}`);
  }
  return out;
}

// The catalogue without its pre-check: every rule run on every line, to show what the check saves.
function everyRule(text: string): string {
  let out = text;
  for (const rule of secretRules) out = out.replace(rule.pattern, (m) => m);
  return out;
}

async function loghubLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const system of (await readdir(loghub)).sort()) {
    const file = path.join(loghub, system, `${system}_2k.log`);
    if (!existsSync(file)) continue;
    lines.push(...(await readFile(file, 'utf8')).split('\n').filter((l) => l.length > 0));
  }
  return lines;
}

function rate(lines: string[], f: (s: string) => string): number {
  let sink = 0;
  for (const l of lines) sink += f(l).length; // warm-up
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const l of lines) sink += f(l).length;
  const s = (performance.now() - start) / 1000;
  if (sink < 0) console.log(sink);
  return (lines.length * rounds) / s;
}

if (!existsSync(loghub)) {
  console.log(`skipped: ${loghub} is absent`);
} else {
  const corpus = await loghubLines();
  const planted = (
    JSON.parse(await readFile(path.join(repo, 'test/fixtures/secrets/planted.json'), 'utf8')) as {
      logs: string[];
    }
  ).logs;
  const dense = Array.from({ length: 2000 }, (_, i) => planted[i % planted.length] as string);
  const redactor = new Redactor();
  const changed = corpus.filter((l) => redactor.text(l) !== l).length;
  console.log(
    `Loghub 2k: ${corpus.length} lines; the catalogue changes ${changed} of them: ${JSON.stringify(redactor.counts())}`,
  );
  const fresh = (): ((s: string) => string) => {
    const r = new Redactor();
    return (s) => r.text(s);
  };
  const rows: Array<[string, (s: string) => string]> = [
    ['plain copy (floor)', (s) => s.slice(0)],
    ['before #16 (4 regexes)', oldRedactText],
    ['catalogue, no pre-check', everyRule],
    ['catalogue (Redactor.text)', fresh()],
  ];
  console.log(`${'lines/s'.padStart(36)}  Loghub 2k   secret-dense`);
  for (const [name, f] of rows) {
    const a = rate(corpus, f);
    const b = rate(dense, f);
    console.log(
      `${name.padEnd(28)} ${(a / 1e6).toFixed(2).padStart(9)} M  ${(b / 1e6).toFixed(3).padStart(9)} M`,
    );
  }
}
