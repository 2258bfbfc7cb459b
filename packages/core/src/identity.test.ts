import { describe, expect, it } from 'vitest';
import { changeId, counterRate, isCounter, seriesKey } from './index.js';

describe('bundle identity', () => {
  it('keys a series by name and sorted labels, leaving out the source that wrote it', () => {
    expect(seriesKey('redis_connected_slaves', { source: 'redis', role: 'master', pod: 'r-0' })).toBe(
      'redis_connected_slaves{pod=r-0,role=master}',
    );
    expect(seriesKey('up', { source: 'prometheus' })).toBe('up');
  });

  it('names a change by its own id, else by kind, target, revision and time', () => {
    const time = '2026-03-02T09:20:00.000Z';
    expect(changeId({ id: 'abc', kind: 'helm', target: 'release/shop', time })).toBe('abc');
    expect(changeId({ kind: 'helm', target: 'release/shop', toRevision: 6, time })).toBe(
      `helm:release/shop@6:${time}`,
    );
    expect(changeId({ kind: 'git', target: 'deploy', time })).toBe(`git:deploy:${time}`);
  });

  it('turns a counter into a rate per second, a drop read as a restart from zero', () => {
    expect(
      counterRate([
        [0, 100],
        [10_000, 150],
        [10_000, 170],
        [20_000, 20],
      ]),
    ).toEqual([
      [10_000, 5],
      [20_000, 2],
    ]);
  });

  it('reads a gauge named like a cumulative counter that only grows as a counter, not one that falls', () => {
    const rising: Array<[number, number]> = [
      [0, 1],
      [1, 5],
      [2, 9],
      [3, 12],
    ];
    expect(isCounter({ name: 'redis_total_commands_processed', kind: 'gauge' }, rising)).toBe(true);
    expect(isCounter({ name: 'redis_used_memory', kind: 'gauge' }, rising)).toBe(false);
    const falling: Array<[number, number]> = rising.map(([t, v]) => [t, 100 - v]);
    expect(isCounter({ name: 'http_requests_total', kind: 'gauge' }, falling)).toBe(false);
    expect(isCounter({ name: 'anything', kind: 'counter' }, [])).toBe(true);
  });
});
