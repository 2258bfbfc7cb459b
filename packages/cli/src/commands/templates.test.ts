import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { TemplateMiner, parseLogFormat } from '@hindsight/drain';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../main.js';

const dir = mkdtempSync(join(tmpdir(), 'hindsight-templates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await run(args, { stdout, stderr, env: {} });
  return { code, out, err };
}

const log = [
  '2026-01-01 12:00:00 INFO worker: Accepted connection from 10.0.0.1:5000',
  '2026-01-01 12:00:01 INFO worker: Accepted connection from 10.0.0.2:5001',
  '2026-01-01 12:00:02 WARN worker: Disk sda is 91% full',
  'a line with no header at all',
  '2026-01-01 12:00:03 INFO worker: Accepted connection from 10.0.0.3:5002',
].join('\n');

describe('hindsight templates', () => {
  const file = join(dir, 'app.log');
  writeFileSync(file, `${log}\n`);
  const format = '<Date> <Time> <Level> <Component>: <Content>';

  it('prints one JSON object per input line, in order, mining only <Content>', async () => {
    const r = await cli(['templates', file, '--log-format', format, '--jsonl']);
    expect(r.code).toBe(0);
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line?: number; id: string; template: string })
      .filter((x) => x.line !== undefined);
    expect(rows.map((x) => x.line)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[4]?.template).toBe('Accepted connection from <*>:<*>');
    expect(rows[1]?.id).toBe(rows[4]?.id);
    expect(r.err).toContain('1 of 5 lines did not match the log format');
  });

  const jobs = join(dir, 'jobs.log');
  writeFileSync(
    jobs,
    ['job 1 ran on alpha', 'job 2 ran on alpha', 'job 3 ran on beta', 'disk full'].join('\n'),
  );

  it('keeps one id per cluster as its template generalises, and announces the change before the line', async () => {
    const r = await cli(['templates', jobs, '--jsonl']);
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const id = rows[0]?.id;
    expect(rows.slice(0, 4)).toEqual([
      { line: 1, id, template: 'job <*> ran on alpha' },
      { line: 2, id, template: 'job <*> ran on alpha' },
      { event: 'generalised', id, template: 'job <*> ran on <*>' },
      { line: 3, id, template: 'job <*> ran on <*>' },
    ]);
    expect(rows[4]).toMatchObject({ line: 4, template: 'disk full' });
  });

  it("writes every line with its cluster's final template with --final", async () => {
    const r = await cli(['templates', jobs, '--final']);
    expect(r.code).toBe(0);
    const rows = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; id: string; template: string });
    expect(rows.map((x) => [x.line, x.template])).toEqual([
      [1, 'job <*> ran on <*>'],
      [2, 'job <*> ran on <*>'],
      [3, 'job <*> ran on <*>'],
      [4, 'disk full'],
    ]);
    expect(new Set(rows.slice(0, 3).map((x) => x.id)).size).toBe(1);
  });

  it('reads back every line from its spill file with --final, past many buffers', async () => {
    const many = join(dir, 'many.log');
    const n = 50_000;
    writeFileSync(
      many,
      Array.from({ length: n }, (_, i) => `task ${i} done on ${i < n - 1 ? 'alpha' : 'beta'}`).join('\n'),
    );
    const r = await cli(['templates', many, '--final']);
    const rows = r.out.trim().split('\n');
    expect(rows).toHaveLength(n);
    expect(rows.every((l, i) => (JSON.parse(l) as { line: number; template: string }).line === i + 1)).toBe(
      true,
    );
    expect(new Set(rows.map((l) => (JSON.parse(l) as { template: string }).template))).toEqual(
      new Set(['task <*> done on <*>']),
    );
  });

  it('leaves no temporary file behind with --final when its output pipe closes early (| head)', () => {
    const many = join(dir, 'pipe.log');
    writeFileSync(
      many,
      Array.from({ length: 20_000 }, (_, i) => `task ${i} done on node-${i % 7}`).join('\n'),
    );
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    // The built CLI, as a user runs it (the e2e tests build it first).
    const bin = join(import.meta.dirname, '..', '..', 'dist', 'bin.js');
    const r = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${bin}" templates "${many}" --final | head -1`],
      {
        encoding: 'utf8',
        env: { ...process.env, TMPDIR: tmp },
      },
    );
    expect(r.stdout).toMatch(/^\{"line":1,/);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('prints a table of templates, most frequent first', async () => {
    const r = await cli(['templates', file, '--log-format', format]);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[1]).toMatch(/^\s+3\s+[0-9a-f]{16}\s+Accepted connection from <\*>:<\*>$/);
    expect(r.out).toContain('5 lines, 3 templates');
  });

  it('fails as a missing input (exit 3, as every command) and names the file', async () => {
    const r = await cli(['templates', join(dir, 'missing.log')]);
    expect(r.code).toBe(3);
    expect(r.err).toContain('HINDSIGHT_INPUT_MISSING');
    expect(r.err).toContain('missing.log');
  });

  it('rejects a log format without <Content>', async () => {
    const r = await cli(['templates', file, '--log-format', '<Date> <Time>']);
    expect(r.code).toBe(3);
    expect(r.err).toContain('HINDSIGHT_LOG_FORMAT');
  });
});

const loghub =
  process.env.LOGHUB_2K ??
  join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared', 'data', 'loghub-2k');
const haveLoghub = existsSync(join(loghub, 'settings.json'));
if (!haveLoghub) console.warn(`skipping the Loghub-2k --final checks: no data at ${loghub} (set LOGHUB_2K)`);

describe.skipIf(!haveLoghub)('hindsight templates --final on the Loghub-2k systems', () => {
  const settings = haveLoghub
    ? (JSON.parse(readFileSync(join(loghub, 'settings.json'), 'utf8')) as {
        datasets: Record<string, { log_file: string; log_format: string }>;
      })
    : { datasets: {} };

  it.each(Object.entries(settings.datasets))(
    'gives every line of %s the final template the miner holds for its cluster',
    async (_name, ds) => {
      const path = join(loghub, ds.log_file);
      const fmt = parseLogFormat(ds.log_format);
      if (!fmt.ok) throw new Error(fmt.error);
      const miner = new TemplateMiner();
      const ids: string[] = [];
      const into = new Map<string, string>();
      for (const line of readFileSync(path, 'utf8')
        .split(/\r?\n/)
        .filter((l, i, all) => i < all.length - 1 || l !== '')) {
        const m = miner.add(fmt.parser.parse(line)?.content ?? line);
        if (m.previousId !== undefined) into.set(m.previousId, m.id);
        ids.push(m.id);
      }
      const finalOf = (id: string): string | undefined => {
        let k = id;
        while (into.has(k)) k = into.get(k) as string;
        return miner.get(k)?.template;
      };
      const r = await cli(['templates', path, '--log-format', ds.log_format, '--final']);
      expect(r.code).toBe(0);
      const rows = r.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { line: number; id: string; template: string });
      expect(rows.map((x) => x.id)).toEqual(ids);
      expect(rows.map((x) => x.template)).toEqual(ids.map(finalOf));
      expect(rows.map((x) => x.line)).toEqual(ids.map((_, i) => i + 1));
    },
  );
});
