import { type CliIO, complain, EXIT } from '../io.js';
import { commandLine } from './command-line.js';

/** `fwd completion bash|zsh|fish`: prints the completion script for that shell. */
export async function completionCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = commandLine('completion', argv, io, {});
  if (typeof parsed === 'number') return parsed;
  const [shell, ...extra] = parsed.positionals;
  const [{ bashScript }, { fishScript }, { commandSpecs, oneoffSpec, SHELLS }] = await Promise.all([
    import('./completion-bash.js'),
    import('./completion-fish.js'),
    import('./completion-spec.js'),
  ]);
  if (shell === undefined || !SHELLS.includes(shell) || extra.length > 0) {
    complain(io, `completion takes one shell: ${SHELLS.join(', ')}; see fwd completion --help`);
    return EXIT.usage;
  }
  const commands = commandSpecs();
  const oneoff = oneoffSpec();
  if (shell === 'fish') io.stdout.write(fishScript(commands, oneoff));
  else if (shell === 'zsh') io.stdout.write(zshPrelude() + bashScript(commands, oneoff));
  else io.stdout.write(bashScript(commands, oneoff));
  return EXIT.ok;
}

/** zsh runs the bash script through its bash emulation (bashcompinit), loading compinit if needed. */
function zshPrelude(): string {
  return `#compdef fwd
# fwd completion for zsh. Enable it with this line in ~/.zshrc:
#   eval "$(fwd completion zsh)"
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit }
autoload -U +X bashcompinit && bashcompinit
`;
}

/**
 * \`fwd __complete KIND [FILE]\`: the names a completion script offers at TAB time, one per line,
 * nothing at all when there are none or something is wrong (a shell shows no errors while
 * completing). Kinds: tunnels (of FILE), daemons (background fwds), daemon-tunnels (NAME/TUNNEL),
 * hosts (literal Hosts of ~/.ssh/config).
 */
export async function completeCommand(argv: string[], io: CliIO): Promise<number> {
  const [kind, file = 'tunnels.yaml'] = argv;
  try {
    const { completionNames } = await import('./completion-names.js');
    for (const name of await completionNames(kind ?? '', file, io)) io.stdout.write(`${name}\n`);
  } catch {
    // Completion offers nothing rather than an error on the user's command line.
  }
  return EXIT.ok;
}
