import { describe, expect, it } from 'vitest';
import { parseLogFormat } from './index.js';

describe('parseLogFormat', () => {
  it('splits a line into named fields and the content to mine', () => {
    const r = parseLogFormat('<Date> <Time> <Pid> <Level> <Component>: <Content>');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const p = r.parser.parse(
      '081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38 terminating',
    );
    expect(p?.fields['Component']).toBe('dfs.DataNode$PacketResponder');
    expect(p?.content).toBe('PacketResponder 1 for block blk_38 terminating');
  });

  it('treats other text as a regular expression and spaces as runs of whitespace', () => {
    const r = parseLogFormat('\\[<Time>\\] \\[<Level>\\] <Content>');
    if (!r.ok) throw new Error(r.error);
    expect(r.parser.parse('[Sun Dec 04 04:47:44 2005]   [notice] workerEnv.init() ok')?.content).toBe(
      'workerEnv.init() ok',
    );
    expect(r.parser.parse('no brackets here')).toBeUndefined();
  });

  it('rejects a format without <Content> or with a broken expression, as a value', () => {
    expect(parseLogFormat('<Date> <Time>')).toMatchObject({ ok: false });
    expect(parseLogFormat('(<Content>')).toMatchObject({ ok: false });
    expect(parseLogFormat('<Date> <Date> <Content>')).toMatchObject({ ok: false });
  });
});
