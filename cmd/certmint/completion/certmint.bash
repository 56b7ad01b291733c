# bash completion for certmint                             -*- shell-script -*-
#
# Written by `certmint completion bash`. Load it in this shell with
#   source <(certmint completion bash)
# or for every new shell, save it where bash-completion finds it:
#   certmint completion bash > ~/.local/share/bash-completion/completions/certmint
#
# On every <Tab> it asks certmint what to offer:
#   certmint __complete CWORD WORD...
# which answers one "value<TAB>description" a line, then ":none", ":file",
# ":toml" or ":dir" for what to add from the file system.

_certmint() {
    local line=${COMP_LINE:0:COMP_POINT} pos=0 start=0 i word gap rest
    local -a words=()
    # COMP_WORDS is split at COMP_WORDBREAKS, which holds = and : --
    # "--key rsa:2048" arrives as "--key" "rsa" ":" "2048". Join the pieces
    # that touch in the command line, so certmint sees the words as typed.
    for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
        rest=${line:pos}
        word=${rest#"${rest%%[![:space:]]*}"}
        gap=$((${#rest} - ${#word}))
        start=$((pos + gap))
        if ((i < COMP_CWORD)); then
            word=${COMP_WORDS[i]}
        fi # else: the current word, up to the cursor
        if ((i > 0 && gap == 0)); then
            words[${#words[@]} - 1]+=$word
        else
            words+=("$word")
        fi
        pos=$((start + ${#word}))
    done
    ((COMP_CWORD >= ${#COMP_WORDS[@]})) && words+=("")
    local cur=${words[${#words[@]} - 1]}
    # What bash replaces is its own current word, the end of cur.
    local bcur=${line:start}
    local keep=${cur:0:${#cur}-${#bcur}}

    local prog=${words[0]} out
    [[ $prog == "~/"* ]] && prog=$HOME/${prog:2}
    out=$("$prog" __complete $((${#words[@]} - 2)) "${words[@]:1}" 2>/dev/null) || return 0

    local directive=none value
    COMPREPLY=()
    while IFS= read -r value; do
        case $value in
        :*) directive=${value#:} ;;
        "") ;;
        *)
            value=${value%%$'\t'*}
            COMPREPLY+=("${value#"$keep"}")
            ;;
        esac
    done <<<"$out"

    # File names: for --flag=VALUE, of the part after "=".
    local fcur=$cur
    [[ $cur == -*=* ]] && fcur=${cur#*=}
    local fkeep=${cur:0:${#cur}-${#fcur}} f
    local -a files=()
    case $directive in
    file) mapfile -t files < <(compgen -f -- "$fcur") ;;
    toml) mapfile -t files < <(compgen -d -- "$fcur"; compgen -f -X '!*.toml' -- "$fcur") ;;
    dir) mapfile -t files < <(compgen -d -- "$fcur") ;;
    esac
    if ((${#files[@]} > 0)); then
        compopt -o filenames 2>/dev/null
        for f in "${files[@]}"; do
            f=$fkeep$f
            COMPREPLY+=("${f#"$keep"}")
        done
    fi
    return 0
}

complete -F _certmint certmint
