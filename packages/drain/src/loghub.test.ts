import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TemplateMiner, parseLogFormat } from './index.js';

// Golden tests on real logs: the eight Loghub-2k samples with their corrected ground truth
// (Loghub-2.0, ISSTA 2024). One miner configuration, the defaults, for every system.
const dataDir = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '..',
  'shared',
  'data',
  'loghub-2k',
);
const present = existsSync(join(dataDir, 'settings.json'));
if (!present) console.warn(`skipping Loghub golden tests: no data at ${dataDir}`);

// Grouping accuracy floors: the figure measured with the defaults (bench/RESULTS.md), less 0.01.
const GA_FLOOR: Record<string, number> = {
  Apache: 0.99,
  BGL: 0.97,
  HDFS: 0.99,
  Hadoop: 0.98,
  HealthApp: 0.99,
  OpenSSH: 0.98,
  OpenStack: 0.87,
  Zookeeper: 0.97,
};

/** Minimal RFC 4180 reader: enough for the Loghub CSV files (quoted fields, doubled quotes). */
function readCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries((header ?? []).map((h, i) => [h, r[i] ?? ''])));
}

/** Mines a dataset and returns each line's final template, as the Loghub benchmark reads them. */
function mine(name: string, format: string): { templates: string[]; ids: string[]; truth: string[] } {
  const parser = parseLogFormat(format);
  if (!parser.ok) throw new Error(parser.error);
  const lines = readFileSync(join(dataDir, name, `${name}_2k.log`), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const miner = new TemplateMiner();
  const alias = new Map<string, string>();
  const seen = lines.map((l) => {
    const r = miner.add(parser.parser.parse(l)?.content ?? l);
    if (r.previousId !== undefined) alias.set(r.previousId, r.id);
    return r.id;
  });
  const final = new Map(miner.templates().map((t) => [t.id, t.template]));
  const ids = seen.map((id) => {
    for (let hops = 0; !final.has(id) && alias.has(id) && hops < 1000; hops++) id = alias.get(id) as string;
    return id;
  });
  const truth = readCsv(
    readFileSync(join(dataDir, name, `${name}_2k.log_structured_corrected.csv`), 'utf8'),
  ).map((r) => r['EventTemplate'] ?? '');
  return { templates: ids.map((id) => final.get(id) ?? ''), ids, truth };
}

/** Grouping accuracy as Loghub-2.0 defines it: a truth group counts when it is exactly one mined group. */
function groupingAccuracy(truth: string[], mined: string[]): number {
  const minedSize = new Map<string, number>();
  for (const t of mined) minedSize.set(t, (minedSize.get(t) ?? 0) + 1);
  const groups = new Map<string, string[]>();
  truth.forEach((t, i) => groups.set(t, [...(groups.get(t) ?? []), mined[i] as string]));
  let ok = 0;
  for (const members of groups.values()) {
    if (new Set(members).size === 1 && minedSize.get(members[0] as string) === members.length)
      ok += members.length;
  }
  return ok / truth.length;
}

const settings = present
  ? (JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')) as {
      datasets: Record<string, { log_format: string }>;
    })
  : { datasets: {} };

describe.skipIf(!present)('Loghub-2k golden', () => {
  it.each(Object.entries(GA_FLOOR))('groups %s lines as the ground truth does (GA >= %d)', (name, floor) => {
    const ds = settings.datasets[name];
    expect(ds, `${name} in settings.json`).toBeDefined();
    const { templates, truth } = mine(name, ds?.log_format ?? '');
    expect(templates).toHaveLength(truth.length);
    expect(groupingAccuracy(truth, templates)).toBeGreaterThanOrEqual(floor);
  });

  it('writes HDFS templates exactly as the ground truth, with ids that are the same in every run', () => {
    const format = settings.datasets['HDFS']?.log_format ?? '';
    const a = mine('HDFS', format);
    const b = mine('HDFS', format);
    expect(b.ids).toEqual(a.ids);
    const exact = a.templates.filter((t, i) => t === a.truth[i]).length / a.truth.length;
    expect(exact).toBeGreaterThanOrEqual(0.99);
    const i = a.templates.indexOf('PacketResponder <*> for block <*> terminating');
    expect(a.ids[i]).toBe('c56b31d06bb8660b');
  });
});
