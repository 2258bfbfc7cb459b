import { Argument } from 'commander';
import type { CommandSpec } from '../command.js';
import { SHELLS, completionScript, type Shell } from '../reference.js';

/** `hindsight completion SHELL`: a completion script derived from the command registry. */
export const completionCommand: CommandSpec = {
  name: 'completion',
  summary: 'print a shell completion script for bash, zsh or fish',
  examples: [
    'source <(hindsight completion bash)',
    'hindsight completion zsh > "${fpath[1]}/_hindsight"',
    'hindsight completion fish > ~/.config/fish/completions/hindsight.fish',
  ],
  define(cmd, ctx) {
    cmd.addArgument(new Argument('<shell>', 'the shell').choices(SHELLS)).action(async (shell: Shell) => {
      // The program is built here, not imported at the top: main.ts imports this registry.
      const { buildProgram } = await import('../main.js');
      ctx.io.out(completionScript(buildProgram(ctx), shell));
    });
  },
};
