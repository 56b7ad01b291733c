#Requires -Version 5.1
#Requires -RunAsAdministrator
<#
.SYNOPSIS
    Installs a certificate bundle made by certmint on this Windows computer.

.DESCRIPTION
    Imports the .pfx (the certificate and its private key) into the Local Computer
    Personal store (Cert:\LocalMachine\My), the root CA certificate into Trusted Root
    Certification Authorities (Cert:\LocalMachine\Root) and the issuing CA certificate
    into Intermediate Certification Authorities (Cert:\LocalMachine\CA), where
    1E 23.11: Certificate requirements, Client authentication certificates, says
    they go:
      "For Windows devices, the certificate is stored in the Windows Local Computer
       personal certificates store."
      "The certificate for the Root CA in the Certification Path must exist in the
       Trusted Root CA store of the client."
      "If the issuing CA is not the Root CA then the certificate for the issuing CA
       and any intermediate CA in the Certification Path must exist in the
       Intermediate CA store of the client."
    The files are read from the folder of this script. Each certificate is looked up
    by its thumbprint first: one that is already there is left as it is, so the
    script can be run again. A file whose thumbprint is not the one written below
    is refused before anything is imported from it.
    Written for Windows PowerShell 5.1 (PKI module) and PowerShell 7 on Windows.

.PARAMETER PasswordFile
    A file whose first line is the .pfx password. Without it the script asks for
    the password without showing it. The password is never a command-line argument.

.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File ".\@@SCRIPT@@"

.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File ".\@@SCRIPT@@" -PasswordFile C:\secure\pfx-password.txt
#>
[CmdletBinding()]
param(
    [string]$PasswordFile
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

@@VALUES@@

function Test-InStore([string]$Store, [string]$Thumbprint) {
    $found = @(Get-ChildItem -Path ('Cert:\LocalMachine\' + $Store) | Where-Object { $_.Thumbprint -eq $Thumbprint })
    return ($found.Count -gt 0)
}

# Every file of the bundle first: nothing is imported from an incomplete copy.
$missing = @()
foreach ($item in (@($CAs) + @($Pfx))) {
    if (-not (Test-Path -LiteralPath (Join-Path -Path $PSScriptRoot -ChildPath $item.File) -PathType Leaf)) {
        $missing += $item.File
    }
}
if ($missing.Count -gt 0) {
    throw ('These files of the bundle are not next to this script in {0}: {1}. Copy the whole bundle folder to this computer.' -f $PSScriptRoot, ($missing -join ', '))
}

# The CA certificates, root first, so the chain is trusted before the
# certificate that needs it arrives.
foreach ($ca in $CAs) {
    $where = 'Cert:\LocalMachine\' + $ca.Store
    $what = '{0} ''{1}'' (thumbprint {2})' -f $ca.Role, $ca.Name, $ca.Thumbprint
    if (Test-InStore -Store $ca.Store -Thumbprint $ca.Thumbprint) {
        Write-Host ('Already present: {0} in {1}' -f $what, $where)
        continue
    }
    $file = Join-Path -Path $PSScriptRoot -ChildPath $ca.File
    $cert = New-Object -TypeName System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList $file
    if ($cert.Thumbprint -ne $ca.Thumbprint) {
        throw ('{0} is not the {1} this script was written for: its thumbprint is {2}, not {3}. Nothing was imported from it.' -f $file, $ca.Role, $cert.Thumbprint, $ca.Thumbprint)
    }
    $null = Import-Certificate -FilePath $file -CertStoreLocation $where
    if (-not (Test-InStore -Store $ca.Store -Thumbprint $ca.Thumbprint)) {
        throw ('Import-Certificate did not put the {0} into {1}' -f $what, $where)
    }
    Write-Host ('Imported: {0} into {1}' -f $what, $where)
}

# The certificate and its private key. The password is asked for only when
# the certificate is not there yet.
$where = 'Cert:\LocalMachine\My'
$what = 'certificate ''{0}'' with its private key (thumbprint {1})' -f $Pfx.Name, $Pfx.Thumbprint
if (Test-InStore -Store 'My' -Thumbprint $Pfx.Thumbprint) {
    Write-Host ('Already present: {0} in {1}' -f $what, $where)
} else {
    $file = Join-Path -Path $PSScriptRoot -ChildPath $Pfx.File
    if ($PasswordFile) {
        if (-not (Test-Path -LiteralPath $PasswordFile -PathType Leaf)) {
            throw ('The password file {0} does not exist' -f $PasswordFile)
        }
        $lines = @(Get-Content -LiteralPath $PasswordFile -TotalCount 1)
        if ($lines.Count -eq 0 -or $lines[0] -eq '') {
            throw ('The first line of {0} is empty; it must hold the password of {1}' -f $PasswordFile, $Pfx.File)
        }
        $password = ConvertTo-SecureString -String $lines[0] -AsPlainText -Force
    } else {
        $password = Read-Host -Prompt ('Password of {0}' -f $Pfx.File) -AsSecureString
    }
    try {
        $data = Get-PfxData -FilePath $file -Password $password
    } catch {
        throw ('Cannot open {0} (is the password right?): {1}' -f $file, $_.Exception.Message)
    }
    $leaf = @($data.EndEntityCertificates | Where-Object { $_.Thumbprint -eq $Pfx.Thumbprint })
    if ($leaf.Count -eq 0) {
        throw ('{0} does not hold the certificate this script was written for (thumbprint {1}). Nothing was imported from it.' -f $file, $Pfx.Thumbprint)
    }
    # Exportable, as 1E asks of the certificate of a workgroup device: "For
    # workgroup and non-Windows devices, the private key must be
    # exportable." (The key is in the .pfx next to this script anyway.)
    $null = Import-PfxCertificate -FilePath $file -CertStoreLocation $where -Password $password -Exportable
    if (-not (Test-InStore -Store 'My' -Thumbprint $Pfx.Thumbprint)) {
        throw ('Import-PfxCertificate did not put the {0} into {1}' -f $what, $where)
    }
    Write-Host ('Imported: {0} into {1}' -f $what, $where)
}
Write-Host 'Done.'
