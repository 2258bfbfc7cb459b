import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
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
      .map((l) => JSON.parse(l) as { line: number; id: string; template: string });
    expect(rows.map((x) => x.line)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[4]?.template).toBe('Accepted connection from <*>:<*>');
    expect(rows[1]?.id).toBe(rows[4]?.id);
    expect(r.err).toContain('1 of 5 lines did not match the log format');
  });

  it('prints a table of templates, most frequent first', async () => {
    const r = await cli(['templates', file, '--log-format', format]);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[1]).toMatch(/^\s+3\s+[0-9a-f]{16}\s+Accepted connection from <\*>:<\*>$/);
    expect(r.out).toContain('5 lines, 3 templates');
  });

  it('fails with a usage error for a missing file and names it', async () => {
    const r = await cli(['templates', join(dir, 'missing.log')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('missing.log');
  });

  it('rejects a log format without <Content>', async () => {
    const r = await cli(['templates', file, '--log-format', '<Date> <Time>']);
    expect(r.code).toBe(3);
    expect(r.err).toContain('HINDSIGHT_LOG_FORMAT');
  });
});
