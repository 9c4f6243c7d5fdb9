import type { CommandSpec, FlagSpec, ValueKind } from './completion-spec.js';

const quote = (text: string): string => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** `-l only -s o`: fish's way to name a flag. */
function names(flag: FlagSpec): string {
  return flag.names.map((n) => (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`)).join(' ');
}

/** The arguments of `complete` that offer a kind of value. */
function offer(kind: ValueKind, list = false): string {
  if ('words' in kind) return `-x -a ${quote(kind.words.join(' '))}`;
  if ('files' in kind) return kind.files === 'yaml' ? `-r -a '(__fish_complete_suffix .yaml .yml)'` : '-r -F';
  if ('dynamic' in kind) {
    const command = `fwd __complete ${kind.dynamic} (__fwd_file)`;
    // --only a,b: fish's helper completes the last item of a comma list.
    return list ? `-x -a '(__fish_complete_list , "${command}")'` : `-x -a '(${command})'`;
  }
  return '-x';
}

/**
 * The fish completion script, from the same tables as bash's: `complete` lines per command and
 * flag, names fwd finds at TAB time through `fwd __complete`.
 */
export function fishScript(commands: readonly CommandSpec[], oneoff: CommandSpec): string {
  const lines = [
    '# fwd completion for fish. Enable it with:',
    '#   fwd completion fish > ~/.config/fish/completions/fwd.fish',
    '',
    '# The tunnels file on the command line (its tunnels complete --only), else tunnels.yaml.',
    'function __fwd_file',
    '    for word in (commandline -opc)[2..-1]',
    "        if string match -qr '\\.ya?ml$' -- $word",
    '            echo $word',
    '            return',
    '        end',
    '    end',
    '    echo tunnels.yaml',
    'end',
    '',
    'complete -c fwd -f',
  ];
  const subcommands = commands.map((c) => c.name).join(' ');
  for (const c of commands) {
    lines.push(`complete -c fwd -n __fish_use_subcommand -a ${c.name} -d ${quote(c.summary)}`);
  }
  for (const flag of oneoff.flags) {
    const value = flag.value ? ` ${offer(flag.value)}` : '';
    lines.push(`complete -c fwd -n 'not __fish_seen_subcommand_from ${subcommands}' ${names(flag)}${value}`);
  }
  // A one-off's host comes after its forwards.
  for (const arg of oneoff.args)
    lines.push(`complete -c fwd -n '__fish_seen_argument -s L -s R -s D' ${offer(arg)}`);
  for (const c of commands) {
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    for (const flag of c.flags) {
      const value = flag.value ? ` ${offer(flag.value, flag.names.includes('--only'))}` : '';
      lines.push(`complete -c fwd ${when} ${names(flag)}${value}`);
    }
    for (const arg of c.args) lines.push(`complete -c fwd ${when} ${offer(arg)}`);
  }
  return `${lines.join('\n')}\n`;
}
