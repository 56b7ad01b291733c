#compdef certmint
#
# zsh completion for certmint, written by `certmint completion zsh`. Save it
# as _certmint in a folder on $fpath, before compinit runs in ~/.zshrc:
#   mkdir -p ~/.zfunc && certmint completion zsh > ~/.zfunc/_certmint
#   fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit
# or load it after compinit with: source <(certmint completion zsh)
#
# On every <Tab> it asks certmint what to offer:
#   certmint __complete CWORD WORD...
# which answers one "value<TAB>description" a line, then ":none", ":file",
# ":toml" or ":dir" for what to add from the file system.

_certmint() {
  local -a args described plain
  local out line value desc directive=none cur=${(Q)PREFIX} ret=1
  # The words before the cursor, unquoted, then the current one up to the cursor.
  args=("${(@Q)words[2,CURRENT-1]}" "$cur")
  out=$(${words[1]} __complete $(( CURRENT - 2 )) "${args[@]}" 2>/dev/null) || return 1
  for line in "${(@f)out}"; do
    case $line in
      :*) directive=${line#:} ;;
      '') ;;
      *$'\t'*)
        value=${line%%$'\t'*} desc=${line#*$'\t'}
        described+=("${value//:/\\:}:$desc") ;;
      *) plain+=("$line") ;;
    esac
  done
  # certmint has matched the word typed so far: --template=ser, rsa:20.
  (( $#described )) && _describe -t values 'certmint' described -Q -U && ret=0
  (( $#plain )) && compadd -Q -U -a plain && ret=0
  if [[ $directive != none ]]; then
    [[ $cur == -*=* ]] && compset -P '*='
    case $directive in
      file) _files && ret=0 ;;
      toml) _files -g '*.toml' && ret=0 ;;
      dir) _files -/ && ret=0 ;;
    esac
  fi
  return ret
}

if [[ $funcstack[1] == _certmint ]]; then
  # Loaded from $fpath by compinit: this file is the function's body.
  _certmint "$@"
else
  # Sourced.
  compdef _certmint certmint
fi
