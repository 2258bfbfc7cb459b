export { run, buildProgram } from './main.js';
export type { RunOptions } from './main.js';
export { commands } from './commands/index.js';
export { exitCodes } from './command.js';
export type { CommandSpec, CommandContext } from './command.js';
export { makeIo, paint } from './io.js';
export type { Io } from './io.js';
export { generateCliDoc } from './docs.js';
