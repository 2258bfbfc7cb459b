import type { CommandSpec } from '../command.js';
import { validateCommand } from './validate.js';
import { investigateCommand } from './investigate.js';
import { templatesCommand } from './templates.js';
import { collectCommand } from './collect.js';
import { serveCommand } from './serve.js';
import { importCommand } from './import.js';
import { labCommand } from './lab.js';
import { demoCommand } from './demo.js';
import { completionCommand } from './completion.js';

/** Every `hindsight` subcommand, in the order `--help` lists them. Add a command here and nowhere else. */
export const commands: readonly CommandSpec[] = [
  validateCommand,
  templatesCommand,
  investigateCommand,
  collectCommand,
  serveCommand,
  importCommand,
  labCommand,
  demoCommand,
  completionCommand,
];
