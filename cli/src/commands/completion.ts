// anvil completion bash|zsh: a script that asks `anvil __complete` for the candidates (commands, flags, flag values,
// host and namespace names from the cluster), so the scripts never need regenerating when commands change.
import { EXIT } from '../errors.js';
import type { CommandContext } from '../context.js';

const BASH = `# bash completion for anvil. Load it with: source <(anvil completion bash)
_anvil_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" IFS=$'\\n' lines directive line
  lines=($("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
  (( \${#lines[@]} )) || return
  directive="\${lines[\${#lines[@]}-1]#:}"
  unset "lines[\${#lines[@]}-1]"
  COMPREPLY=()
  for line in "\${lines[@]}"; do COMPREPLY+=("\${line%%$'\\t'*}"); done
  if (( \${#COMPREPLY[@]} == 0 && (directive & 4) == 0 )); then
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _anvil_complete anvil
`;

const ZSH = `#compdef anvil
# zsh completion for anvil. Install it with: anvil completion zsh > "\${fpath[1]}/_anvil"
_anvil() {
  local -a lines candidates
  local directive line
  lines=("\${(@f)$(\${words[1]} __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  (( \${#lines} )) || return 1
  directive=\${lines[-1]#:}
  lines=("\${(@)lines[1,-2]}")
  for line in $lines; do
    if [[ $line == *$'\\t'* ]]; then
      candidates+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
    else
      candidates+=("\${line//:/\\\\:}")
    fi
  done
  if (( \${#candidates} )); then
    _describe 'anvil' candidates
  elif (( (directive & 4) == 0 )); then
    _files
  fi
}
if [[ "\${funcstack[1]}" == "_anvil" ]]; then
  _anvil "$@"
else
  compdef _anvil anvil
fi
`;

export const SCRIPTS: Record<string, string> = { bash: BASH, zsh: ZSH };

export async function run(ctx: CommandContext): Promise<number> {
  ctx.out(SCRIPTS[ctx.args[0]!]!);
  return EXIT.ok;
}
