import { Writable } from 'node:stream';
import { commands } from './commands/index.js';
import { buildProgram } from './main.js';
import { cliDoc } from './reference.js';
import { makeIo } from './io.js';

/** docs/cli.md as the command registry makes it, from the current text (its hand-written part is kept). */
export function generateCliDoc(current: string): string {
  const nowhere = new Writable({ write: (_c, _e, done) => done() });
  const io = makeIo(nowhere, nowhere, {}, []);
  const program = buildProgram({
    io,
    setExitCode: () => undefined,
    signal: new AbortController().signal,
    env: {},
  });
  return cliDoc(current, program, new Map(commands.map((c) => [c.name, c.examples])));
}
