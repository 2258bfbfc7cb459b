import { describe, expect, it } from 'vitest';
import { describeSkipped, LineThinner } from './log-budget.js';

describe('LineThinner', () => {
  it('keeps every line while they fit', () => {
    const t = new LineThinner(5);
    for (let i = 0; i < 5; i++) t.add(String(i), `line ${i}`);
    expect(t.lines().map((l) => l.text)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('past the budget keeps an even sample over the whole log, first to last part', () => {
    const t = new LineThinner(100);
    for (let i = 0; i < 10_000; i++) t.add(String(i), `line ${i}`);
    const kept = t.lines().map((l) => Number(l.time));
    expect(kept.length).toBeLessThanOrEqual(100);
    expect(kept.length).toBeGreaterThan(50);
    const gaps = new Set(kept.slice(1).map((v, i) => v - (kept[i] as number)));
    expect([...gaps]).toEqual([t.every]);
    expect(kept.at(-1)).toBeGreaterThan(9_000);
  });

  it('names the logs cut most first in its summary', () => {
    const text = describeSkipped('--max-log-lines', 10, [
      { log: 'a/x', seen: 20, kept: 10 },
      { log: 'b/y', seen: 100, kept: 10 },
    ]);
    expect(text).toBe(
      '--max-log-lines 10: 100 lines skipped in 2 logs, the rest sampled evenly (b/y kept 10 of 100; a/x kept 10 of 20)',
    );
  });
});
