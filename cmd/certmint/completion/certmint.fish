# fish completion for certmint, written by `certmint completion fish`. Save it as
#   certmint completion fish > ~/.config/fish/completions/certmint.fish
#
# On every <Tab> it asks certmint what to offer:
#   certmint __complete CWORD WORD...
# which answers one "value<TAB>description" a line, then ":none", ":file",
# ":toml" or ":dir" for what to add from the file system.

function __certmint_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l out (command $words[1] __complete (math (count $words) - 1) $words[2..-1] $cur 2>/dev/null)
    or return
    set -l directive none
    for line in $out
        switch $line
            case ':*'
                set directive (string sub -s 2 -- $line)
            case ''
            case '*'
                printf '%s\n' $line
        end
    end
    # File names: for --flag=VALUE, of the part after "=".
    set -l keep ''
    set -l value $cur
    if string match -qr -- '^-[^=]*=' $cur
        set keep (string replace -r -- '=.*' '=' $cur)
        set value (string replace -r -- '^[^=]*=' '' $cur)
    end
    switch $directive
        case file
            for path in (__fish_complete_path $value)
                printf '%s%s\n' $keep $path
            end
        case toml
            # Template files, and folders that may hold some.
            for path in (__fish_complete_path $value)
                if string match -qr -- '(\.toml|/)(\t.*)?$' $path
                    printf '%s%s\n' $keep $path
                end
            end
        case dir
            for path in (__fish_complete_directories $value)
                printf '%s%s\n' $keep $path
            end
    end
end

complete -c certmint -e
complete -c certmint -f -a '(__certmint_complete)'
