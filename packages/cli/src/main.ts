import { Command, CommanderError, Option } from 'commander';
import { HindsightError, errorMessage } from '@hindsight/core';
import { commands } from './commands/index.js';
import { exitCodeOf, exitCodes, type CommandContext } from './command.js';
import { makeIo, paint, type Io } from './io.js';
import { VERSION } from './version.js';

/** Options for {@link run}; tests pass their own streams and environment. */
export interface RunOptions {
  stdout?: Io['stdout'];
  stderr?: Io['stderr'];
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Builds the commander program from the command registry. */
export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('hindsight')
    .description(
      'Finds the config change or fault behind a failure, even when no log line says "error".\n' +
        'Collect a bundle from a cluster (or the lab), then investigate it.',
    )
    .version(VERSION, '-V, --version')
    .addOption(new Option('--no-color', 'no colour in output (NO_COLOR is respected too)'))
    .addOption(
      new Option('--progress', 'show the progress of long work on stderr even when it is not a terminal'),
    )
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      outputError: (s, write) => write(paint(ctx.io, 'red', s)),
    })
    .exitOverride();
  program.addHelpText(
    'after',
    `\nStart with:\n  hindsight demo                      the story end to end on this machine\n  hindsight investigate BUNDLE        rank the causes in a bundle\n\nExit codes: 0 ok, 1 problems found, 2 usage error, 3 could not run, 130 interrupted (docs/cli.md).`,
  );
  for (const spec of commands) {
    const cmd = program.command(spec.name).description(spec.summary).exitOverride();
    cmd.configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      outputError: (s, write) => write(paint(ctx.io, 'red', s)),
    });
    cmd.showSuggestionAfterError(true);
    spec.define(cmd, ctx);
    if (spec.examples.length > 0) {
      cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n`);
    }
  }
  return program;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. Never exits the process. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const io = makeIo(
    options.stdout ?? process.stdout,
    options.stderr ?? process.stderr,
    options.env ?? process.env,
    argv,
  );
  let exitCode: number = exitCodes.ok;
  const ctx: CommandContext = {
    io,
    setExitCode: (code) => {
      exitCode = code;
    },
    signal: options.signal ?? new AbortController().signal,
    env: options.env ?? process.env,
  };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return exitCodes.ok;
      }
      if (err.code === 'commander.executeSubCommandAsync') return exitCode;
      io.err(
        `Run 'hindsight ${argv[0] && commands.some((c) => c.name === argv[0]) ? `${argv[0]} ` : ''}--help' for usage.`,
      );
      return exitCodes.usage;
    }
    if (err instanceof HindsightError) {
      io.err(`${paint(io, 'red', 'error')} ${err.message}  [${err.code}]`);
      return exitCodeOf(err.code);
    }
    if (ctx.signal.aborted) return exitCodes.interrupted;
    io.err(`${paint(io, 'red', 'error')} ${errorMessage(err)}  [HINDSIGHT_INTERNAL]`);
    if (err instanceof Error && err.stack && (options.env ?? process.env)['HINDSIGHT_DEBUG'])
      io.err(err.stack);
    return exitCodes.failed;
  }
}
