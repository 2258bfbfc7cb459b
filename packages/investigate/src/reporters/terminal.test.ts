import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { investigate, reporters, storyScenario, writeSyntheticBundle, type Report } from '../index.js';

let tmp: string;
let story: Report;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hs-terminal-'));
  await writeSyntheticBundle(path.join(tmp, 'story'), storyScenario({}));
  story = await investigate(path.join(tmp, 'story'), { now: new Date('2026-03-02T12:00:00Z') });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the terminal report', () => {
  it('fits the answer on the first screen of an 80x24 terminal: summary, the cause, its commands', () => {
    const long = {
      ...story,
      summary: `${story.summary} ${'and a sentence that goes on past the width of any terminal '.repeat(6)}`,
    };
    const lines = reporters.terminal.render(long, { width: 80 }).split('\n');
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    const screen = lines.slice(0, 24);
    const top = story.hypotheses[0] as Report['hypotheses'][number];
    expect(screen.some((l) => l.startsWith('1. [1.00] helm shop revision 5 -> 6'))).toBe(true);
    expect(screen.some((l) => l.startsWith('   next: roll shop back to revision 5'))).toBe(true);
    for (const c of top.nextCommands ?? []) expect(screen.map((l) => l.trim())).toContain(c);
    // The summary is wrapped at words: its lines joined give its words back, cut only at the end.
    const summary = screen.slice(screen.indexOf('') + 1, screen.indexOf('', screen.indexOf('') + 1));
    expect(summary.length).toBeLessThanOrEqual(4);
    const words = long.summary.split(/\s+/);
    const shown = summary
      .join(' ')
      .replace(/\.\.\.$/, '')
      .split(' ');
    expect(shown.slice(0, -1)).toEqual(words.slice(0, shown.length - 1));
  });

  it('gives times with their date and zone', () => {
    const text = reporters.terminal.render(story, { width: 80 });
    expect(text).toMatch(/^window 2026-03-02 09:00:00 to 09:40:00 UTC;/m);
    expect(text).toMatch(/^ {3}at 2026-03-02 09:18:00Z$/m);
  });

  it('keeps whole lines when no width is given (a pipe), with every hypothesis strong enough in full', () => {
    const text = reporters.terminal.render(story);
    expect(text).toContain(story.summary);
    expect(text).not.toContain('(see -o json)');
  });
});
