import type { CommandSpec, ValueKind } from './completion-spec.js';

/** A bash `case` pattern, quoted: words of the command line are never globbed. */
const quote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

/** The bash that fills COMPREPLY for one kind of value; `$cur`, `$file` and `$prefix` are set by the caller. */
function offer(kind: ValueKind): string {
  if ('words' in kind) return `_fwd_offer ${kind.words.map(quote).join(' ')}`;
  if ('files' in kind) return `_fwd_files ${kind.files}`;
  if ('dynamic' in kind) return `_fwd_dynamic ${kind.dynamic}`;
  return ':';
}

/**
 * The bash completion script: the tables (commands, each command's flags, what follows a flag,
 * what its arguments are) come from completion-spec.ts; names only fwd can find come from
 * `fwd __complete KIND [FILE]` at the moment TAB is pressed. Plain bash (no bash-completion
 * package needed); zsh runs the same script through bashcompinit.
 */
export function bashScript(commands: readonly CommandSpec[], oneoff: CommandSpec): string {
  const all = [...commands, oneoff];
  const flagsCase = all
    .map((c) => `    ${quote(c.name)}) _fwd_offer ${c.flags.flatMap((f) => f.names).join(' ')} ;;`)
    .join('\n');
  const valued = all.flatMap((c) =>
    c.flags
      .filter((f) => f.value !== undefined)
      .flatMap((f) =>
        f.names.map((n) => ({ pattern: `${quote(c.name)}' '${quote(n)}`, kind: f.value as ValueKind })),
      ),
  );
  const takesValue = valued.map((v) => v.pattern).join('|');
  const valueCase = valued.map((v) => `    ${v.pattern}) ${offer(v.kind)} ;;`).join('\n');
  const argsCase = all
    .filter((c) => c.args.length > 0)
    .map((c) => `    ${quote(c.name)}) ${c.args.map(offer).join('; ')} ;;`)
    .join('\n');
  return `# fwd completion for bash. Enable it with this line in ~/.bashrc:
#   eval "$(fwd completion bash)"
# Commands, flags, files, the tunnels of the file on the line (--only a,b), background fwds
# (down, logs) and Hosts of ~/.ssh/config (init, one-offs). Values go after a space: --only a,b.

# Adds the words of "$@" that start with $cur (after $prefix, for comma lists) to COMPREPLY.
_fwd_offer() {
  local word
  for word in "$@"; do
    [[ $word == "\${cur#"$prefix"}"* ]] && COMPREPLY+=("$prefix$word")
  done
}

# Files (any, or tunnels files: *.yaml, *.yml) and directories to go into.
_fwd_files() {
  local path
  compopt -o filenames 2>/dev/null
  while IFS= read -r path; do
    # Hidden files only when asked for, as readline does.
    [[ \${path##*/} == .* && \${cur##*/} != .* ]] && continue
    if [[ $1 == any || -d $path || $path == *.yaml || $path == *.yml ]]; then COMPREPLY+=("$path"); fi
  done < <(compgen -f -- "$cur")
}

# Names only fwd knows: tunnels of $file (or ./tunnels.yaml), background fwds, ssh Hosts.
_fwd_dynamic() {
  local name names=()
  while IFS= read -r name; do names+=("$name"); done < <("\${COMP_WORDS[0]}" __complete "$1" "\${file:-tunnels.yaml}" 2>/dev/null)
  _fwd_offer "\${names[@]}"
}

_fwd() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd= file= prefix= skip= i w
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ -n $skip ]]; then skip=; continue; fi
    if [[ -z $cmd && $w != -* ]]; then cmd=$w; continue; fi
    [[ -z $cmd ]] && cmd=-
    case "$cmd $w" in
      ${takesValue || "''"}) skip=1 ;;
      *' '-*) ;;
      *) [[ $w == *.yaml || $w == *.yml ]] && file=$w ;;
    esac
  done
  if [[ -n $skip ]]; then
    # A comma list (--only a,b): complete its last item.
    [[ $cur == *,* ]] && prefix=\${cur%,*},
    case "$cmd \${COMP_WORDS[COMP_CWORD-1]}" in
${valueCase}
    esac
    return 0
  fi
  if [[ -z $cmd && $cur != -* ]]; then
    _fwd_offer ${commands.map((c) => quote(c.name)).join(' ')}
    return 0
  fi
  [[ -z $cmd ]] && cmd=-
  if [[ $cur == -* ]]; then
    case $cmd in
${flagsCase}
    esac
    return 0
  fi
  case $cmd in
${argsCase}
  esac
  return 0
}
complete -F _fwd fwd
`;
}
