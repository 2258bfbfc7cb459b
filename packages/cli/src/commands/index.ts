import type { CommandSpec } from '../command.js';
import { validateCommand } from './validate.js';
import { templatesCommand } from './templates.js';
import { importCommand } from './import.js';

/** Every `hindsight` subcommand, in the order `--help` lists them. Add a command here and nowhere else. */
export const commands: readonly CommandSpec[] = [validateCommand, templatesCommand, importCommand];
