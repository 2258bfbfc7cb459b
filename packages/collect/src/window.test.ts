import { describe, expect, it } from 'vitest';
import { parseDuration, resolveWindow } from './window.js';

const now = Date.parse('2026-11-25T12:00:00Z');
const iso = (w: { from: Date; to: Date }): [string, string] => [w.from.toISOString(), w.to.toISOString()];

describe('collection window', () => {
  it('parses durations as kubectl and Go write them', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('1 hour')).toThrow(/not a duration/);
    expect(() => parseDuration('5')).toThrow(/not a duration/);
  });

  it('takes --since back from now (1h by default), or back from --to', () => {
    expect(iso(resolveWindow({ since: '30m' }, now))).toEqual([
      '2026-11-25T11:30:00.000Z',
      '2026-11-25T12:00:00.000Z',
    ]);
    expect(iso(resolveWindow({}, now))).toEqual(['2026-11-25T11:00:00.000Z', '2026-11-25T12:00:00.000Z']);
    expect(iso(resolveWindow({ since: '1h', to: '2026-11-25T09:00:00Z' }, now))).toEqual([
      '2026-11-25T08:00:00.000Z',
      '2026-11-25T09:00:00.000Z',
    ]);
  });

  it('extends the end over a watch, and refuses contradictions', () => {
    expect(iso(resolveWindow({ since: '5m', watchMs: 120_000 }, now))[1]).toBe('2026-11-25T12:02:00.000Z');
    expect(() => resolveWindow({ since: '1h', from: '2026-11-25T10:00:00Z' }, now)).toThrow(/not both/);
    expect(() => resolveWindow({ from: '2026-11-25T13:00:00Z' }, now)).toThrow(/ends before it starts/);
    expect(() => resolveWindow({ from: 'yesterday' }, now)).toThrow(/--from is not a time/);
  });
});
