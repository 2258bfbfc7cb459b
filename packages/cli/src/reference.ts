import os from 'node:os';
import type { Command } from 'commander';

/** One option of a command, as commander holds it. */
export interface OptionInfo {
  flags: string;
  /** Every spelling: `-o`, `--output`. */
  names: string[];
  description: string;
  /** Whether it takes a value. */
  takesValue: boolean;
  choices?: readonly string[];
  defaultValue?: unknown;
}

/** One command of the program: `investigate`, `import rca-dataset`, `lab up`. */
export interface CommandInfo {
  path: string[];
  description: string;
  arguments: string[];
  /** The values the arguments accept, where they are a fixed list (`completion bash`). */
  argumentChoices: string[];
  options: OptionInfo[];
  subcommands: string[];
  examples: string[];
}

// The machine's home folder is printed as ~ so that what is generated is the same everywhere.
function portable(text: string): string {
  const home = os.homedir();
  return home.length > 1 ? text.split(home).join('~') : text;
}

function optionsOf(cmd: Command): OptionInfo[] {
  return cmd.options
    .filter((o) => !o.hidden)
    .map((o) => ({
      flags: o.flags,
      names: [o.short, o.long].filter((n): n is string => typeof n === 'string'),
      description: portable(o.description),
      takesValue: o.required || o.optional,
      ...(o.argChoices ? { choices: o.argChoices } : {}),
      ...(o.defaultValue !== undefined && !(Array.isArray(o.defaultValue) && o.defaultValue.length === 0)
        ? { defaultValue: o.defaultValue }
        : {}),
    }));
}

/**
 * Every command of the program, depth first in the order `--help` lists them; `examples` are the
 * registry's, given by top-level name.
 */
export function commandTree(
  program: Command,
  examples: ReadonlyMap<string, readonly string[]>,
): CommandInfo[] {
  const out: CommandInfo[] = [];
  const walk = (cmd: Command, path: string[]): void => {
    out.push({
      path,
      description: portable(cmd.description()),
      arguments: cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)),
      argumentChoices: cmd.registeredArguments.flatMap((a) => a.argChoices ?? []),
      options: optionsOf(cmd),
      subcommands: cmd.commands.map((c) => c.name()),
      examples: path.length === 1 ? [...(examples.get(path[0] as string) ?? [])] : [],
    });
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  for (const cmd of program.commands) walk(cmd, [cmd.name()]);
  return out;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\n/g, ' ');

/** The Markdown reference of every command and option, as docs/cli.md carries it. */
export function cliReference(program: Command, examples: ReadonlyMap<string, readonly string[]>): string {
  const lines: string[] = [];
  const globals = optionsOf(program);
  lines.push(
    'Options of every command: ' + globals.map((o) => `\`${o.flags}\` (${o.description})`).join(', ') + '.',
  );
  for (const c of commandTree(program, examples)) {
    lines.push('', `${'#'.repeat(Math.min(2 + c.path.length, 4))} \`hindsight ${c.path.join(' ')}\``, '');
    const usage = [`hindsight ${c.path.join(' ')}`, ...c.arguments];
    if (c.subcommands.length > 0) usage.push('COMMAND');
    lines.push(cell(c.description), '', `Usage: \`${usage.join(' ')}\``);
    if (c.subcommands.length > 0)
      lines.push('', `Commands: ${c.subcommands.map((s) => `\`${s}\``).join(', ')}.`);
    if (c.options.length > 0) {
      lines.push('', '| option | what it does |', '| --- | --- |');
      for (const o of c.options) {
        const extra = [
          o.choices ? `one of ${o.choices.join(', ')}` : '',
          o.defaultValue !== undefined ? `default: ${JSON.stringify(o.defaultValue)}` : '',
        ].filter((x) => x !== '');
        lines.push(
          `| \`${cell(o.flags)}\` | ${cell(o.description)}${extra.length > 0 ? ` (${extra.join('; ')})` : ''} |`,
        );
      }
    }
    if (c.examples.length > 0) lines.push('', '```sh', ...c.examples.map(portable), '```');
  }
  return `${lines.join('\n')}\n`;
}

/** The shells `hindsight completion` writes a script for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

// Values worth offering for an option's argument: its choices, else the ones its help lists as
// `a|b|c`; none for a file or a free word.
function valuesOf(o: OptionInfo): readonly string[] {
  if (o.choices) return o.choices;
  const listed = /\b[a-z]+(?:\|[a-z]+)+\b/.exec(o.description);
  return listed ? listed[0].split('|') : [];
}

function bash(tree: CommandInfo[], globals: OptionInfo[]): string {
  const cases = tree.map((c) => {
    const words = [
      ...c.subcommands,
      ...c.argumentChoices,
      ...c.options.flatMap((o) => o.names),
      ...globals.flatMap((o) => o.names),
    ];
    const valued = c.options.filter((o) => o.takesValue);
    const values = valued
      .filter((o) => valuesOf(o).length > 0)
      .map(
        (o) =>
          `        ${o.names.join('|')}) COMPREPLY=($(compgen -W '${valuesOf(o).join(' ')}' -- "$cur")); return;;`,
      );
    const files = valued.filter((o) => valuesOf(o).length === 0).flatMap((o) => o.names);
    return [
      `    '${c.path.join(' ')}')`,
      '      case "$prev" in',
      ...values,
      ...(files.length > 0
        ? [`        ${files.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return;;`]
        : []),
      '      esac',
      `      words='${words.join(' ')}';;`,
    ].join('\n');
  });
  const top = tree.filter((c) => c.path.length === 1).map((c) => c.path[0]);
  const nested = tree.filter((c) => c.subcommands.length > 0).map((c) => c.path.join(' '));
  return `# bash completion for hindsight: source it, or put it in /etc/bash_completion.d/hindsight
# generated by \`hindsight completion bash\`
_hindsight() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" i w words
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    if [[ -z "$path" ]]; then
      case " ${top.join(' ')} " in *" $w "*) path="$w";; esac
    else
      case "|${nested.join('|')}|" in *"|$path|"*) path="$path $w";; esac
    fi
  done
  case "$path" in
    '') words='${[...top, ...globals.flatMap((o) => o.names), '--help'].join(' ')}';;
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words --help" -- "$cur"))
  [[ \${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _hindsight hindsight
`;
}

function zsh(tree: CommandInfo[], globals: OptionInfo[]): string {
  // zsh runs bash completions through bashcompinit: one completion logic, two shells.
  return `#compdef hindsight
# zsh completion for hindsight: put it on $fpath as _hindsight, or source it
# generated by \`hindsight completion zsh\`
autoload -U +X bashcompinit && bashcompinit
${bash(tree, globals)
  .split('\n')
  .filter((l) => !l.startsWith('#'))
  .join('\n')}`;
}

const fishQuote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fish(tree: CommandInfo[], globals: OptionInfo[]): string {
  const lines = [
    '# fish completion for hindsight: save as ~/.config/fish/completions/hindsight.fish',
    '# generated by `hindsight completion fish`',
    'complete -c hindsight -f',
  ];
  const optionLine = (cond: string, o: OptionInfo): string => {
    const short = o.names.find((n) => /^-[^-]$/.test(n));
    const long = o.names.find((n) => n.startsWith('--'));
    const values = valuesOf(o);
    return [
      `complete -c hindsight -n ${fishQuote(cond)}`,
      short ? `-s ${short.slice(1)}` : '',
      long ? `-l ${long.slice(2)}` : '',
      o.takesValue ? (values.length > 0 ? `-x -a ${fishQuote(values.join(' '))}` : '-r -F') : '',
      `-d ${fishQuote(o.description.slice(0, 80))}`,
    ]
      .filter((x) => x !== '')
      .join(' ');
  };
  for (const o of globals) lines.push(optionLine('true', o));
  for (const c of tree) {
    const parent = c.path.slice(0, -1);
    const name = c.path[c.path.length - 1] as string;
    const siblings = parent.length === 0 ? tree.filter((t) => t.path.length === 1).map((t) => t.path[0]) : [];
    const cond =
      parent.length === 0
        ? `not __fish_seen_subcommand_from ${siblings.join(' ')}`
        : `__fish_seen_subcommand_from ${parent[parent.length - 1]}; and not __fish_seen_subcommand_from ${tree
            .filter((t) => t.path.length === c.path.length && t.path[0] === c.path[0])
            .map((t) => t.path[t.path.length - 1])
            .join(' ')}`;
    lines.push(
      `complete -c hindsight -n ${fishQuote(cond)} -a ${fishQuote(name)} -d ${fishQuote(c.description.slice(0, 80))}`,
    );
    for (const o of c.options) lines.push(optionLine(`__fish_seen_subcommand_from ${name}`, o));
    if (c.argumentChoices.length > 0)
      lines.push(
        `complete -c hindsight -n ${fishQuote(`__fish_seen_subcommand_from ${name}`)} -a ${fishQuote(c.argumentChoices.join(' '))}`,
      );
    else if (c.arguments.length > 0 && c.subcommands.length === 0)
      lines.push(`complete -c hindsight -n ${fishQuote(`__fish_seen_subcommand_from ${name}`)} -F`);
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script for `shell`, from the program's commands and options. */
export function completionScript(program: Command, shell: Shell): string {
  const tree = commandTree(program, new Map());
  const globals = optionsOf(program);
  return shell === 'bash' ? bash(tree, globals) : shell === 'zsh' ? zsh(tree, globals) : fish(tree, globals);
}

/** The line after which docs/cli.md is generated; everything above it is written by hand. */
export const GENERATED_MARKER =
  '<!-- Generated from the command registry by `node scripts/gen-cli-docs.mjs`: edit the commands, not what follows. -->';

/** docs/cli.md with its generated part (after {@link GENERATED_MARKER}) made from the program. */
export function cliDoc(
  current: string,
  program: Command,
  examples: ReadonlyMap<string, readonly string[]>,
): string {
  const at = current.indexOf(GENERATED_MARKER);
  const head = at < 0 ? `${current.trimEnd()}\n\n## Reference\n\n` : current.slice(0, at);
  return `${head}${GENERATED_MARKER}\n\n${cliReference(program, examples)}`;
}
