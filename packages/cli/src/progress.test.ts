import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { makeIo } from './io.js';
import { heartbeat } from './progress.js';

function stderrOf(isTTY: boolean): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write: (c: Buffer, _e, done) => {
        text += c.toString();
        done();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => text };
}

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('progress of long work', () => {
  it('says what runs after a second, on a terminal redrawn in place, and clears it when done', async () => {
    const err = stderrOf(true);
    const io = makeIo(stderrOf(false).stream, err.stream, { NO_COLOR: '1' }, []);
    const beat = heartbeat(io, 'importing x', () => Promise.resolve('3 files'));
    await wait(1300);
    beat.stop();
    expect(err.text().startsWith('\r\u001b[2K... importing x (1 s, 3 files)')).toBe(true);
    expect(err.text().endsWith('\r\u001b[2K')).toBe(true);
  });

  it('stays silent off a terminal unless --progress is given, and then prints whole lines', async () => {
    const quiet = stderrOf(false);
    const loud = stderrOf(false);
    const a = heartbeat(makeIo(stderrOf(false).stream, quiet.stream, {}, []), 'work');
    const b = heartbeat(makeIo(stderrOf(false).stream, loud.stream, {}, ['--progress']), 'work');
    await wait(1300);
    a.stop();
    b.stop();
    expect(quiet.text()).toBe('');
    expect(loud.text()).toBe('... work (1 s)\n');
  });

  it('says nothing for work that ends within the second', async () => {
    const err = stderrOf(true);
    heartbeat(makeIo(stderrOf(false).stream, err.stream, {}, []), 'quick').stop();
    await wait(1100);
    expect(err.text()).toBe('');
  });
});
