# PowerShell completion for certmint, written by `certmint completion powershell`.
# Load it in every session from your profile (notepad $PROFILE):
#   Invoke-Expression (& certmint completion powershell | Out-String)
#
# On every <Tab> it asks certmint what to offer:
#   certmint __complete CWORD WORD...
# which answers one "value<TAB>description" a line, then ":none", ":file",
# ":toml" or ":dir" for what to add from the file system.

Register-ArgumentCompleter -Native -CommandName 'certmint', 'certmint.exe' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    # The words before the one being completed, as typed, then that one.
    $elements = $commandAst.CommandElements
    $words = @()
    for ($i = 1; $i -lt $elements.Count; $i++) {
        $e = $elements[$i]
        if ($e.Extent.EndOffset -ge $cursorPosition) { break }
        if ($e -is [System.Management.Automation.Language.StringConstantExpressionAst]) {
            $words += $e.Value # unquoted
        } else {
            $words += $e.Extent.Text
        }
    }
    $cword = $words.Count
    $words += $wordToComplete
    $prog = $elements[0].Extent.Text
    if ($elements[0] -is [System.Management.Automation.Language.StringConstantExpressionAst]) {
        $prog = $elements[0].Value
    }

    # An empty last word is dropped on the way to certmint by PowerShell
    # before 7.3; certmint then takes it as empty, from CWORD.
    $out = @(& $prog __complete $cword @words 2>$null)
    if ($LASTEXITCODE -ne 0) { return }

    $directive = 'none'
    $results = @()
    foreach ($line in $out) {
        if ($line -eq '') { continue }
        if ($line.StartsWith(':')) { $directive = $line.Substring(1); continue }
        $value, $desc = $line -split "`t", 2
        if (-not $desc) { $desc = $value }
        $results += [System.Management.Automation.CompletionResult]::new($value, $value, 'ParameterValue', $desc)
    }

    if ($directive -in 'file', 'toml', 'dir') {
        # File names: for --flag=VALUE, of the part after "=".
        $keep = ''
        $value = $wordToComplete
        if ($wordToComplete -match '^(-[^=]*=)(.*)$') { $keep = $Matches[1]; $value = $Matches[2] }
        $dir = Split-Path -Path $value -Parent
        $items = @(Get-ChildItem -Path "$value*" -Force -ErrorAction SilentlyContinue)
        foreach ($item in $items) {
            if ($directive -eq 'dir' -and -not $item.PSIsContainer) { continue }
            if ($directive -eq 'toml' -and -not $item.PSIsContainer -and $item.Extension -ne '.toml') { continue }
            $path = $item.Name
            if ($dir) { $path = Join-Path $dir $item.Name }
            if ($item.PSIsContainer) { $path += [System.IO.Path]::DirectorySeparatorChar }
            $text = $keep + $path
            if ($text -match '\s') { $text = "'" + ($text -replace "'", "''") + "'" }
            $type = if ($item.PSIsContainer) { 'ProviderContainer' } else { 'ProviderItem' }
            $results += [System.Management.Automation.CompletionResult]::new($text, $item.Name, $type, $item.FullName)
        }
    }
    $results
}
