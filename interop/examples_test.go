package interop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certmint/certmint/internal/testkit"
)

// exampleRun is one walk-through under examples/ and what it must leave.
type exampleRun struct {
	name   string
	files  []string // relative to the work folder
	stdout []string // lines or phrases the script prints
	stderr []string
}

var exampleRuns = []exampleRun{
	{
		name: "1e-lab",
		files: []string{
			"pki/certmint.toml", "pki/public/acme-lab-issuing-ca.crl", "pki/public/acme-lab-root-ca.crt",
			"switch/tachyon.acme.local.pfx", "switch/tachyon.acme.local.crt", "switch/tachyon.acme.local.key",
			"windows-domain/W701.ACME.LOCAL.pfx", "windows-domain/acme-lab-root-ca.cer", "windows-domain/acme-lab-issuing-ca.cer",
			"windows-workgroup/W702.pfx", "windows-workgroup/W702-install.ps1",
			"linux/ubuntu-01.pfx", "linux/ubuntu-01-install-linux.sh", "linux/device/1E-client/ubuntu-01.pfx",
			"macos/MAC01.local.pfx", "macos/MAC01.local-install.txt", "macos/acme-lab-root-ca.cer", "macos/acme-lab-issuing-ca.cer",
			"macos/MAC01.local-install-macos.sh", "macos/MAC01.local.mobileconfig",
			"code-signing/ACME Instruction Signing.pfx",
		},
		stdout: []string{
			// The install note is shown.
			"security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain 'acme-lab-root-ca.cer'",
			"security import 'MAC01.local.pfx' -k /Library/Keychains/System.keychain -t agg -f pkcs12",
			// The installers: the Linux one run twice, the others checked.
			"ok: sh linux/ubuntu-01-install-linux.sh FOLDER: installed, 0600; run again: Already present: certificate 'ubuntu-01'",
			"powershell.exe -ExecutionPolicy Bypass -File .\\W702-install.ps1",
			"ok: macos/MAC01.local.mobileconfig: root, issuing CA and identity payloads",
			"== where the files are",
			"All 1E lab certificates verified with openssl.",
		},
	},
	{
		name: "safeq",
		files: []string{
			"pki/certmint.toml",
			"signing/YSoft SafeQ Signing Certificate.pfx", "signing/company-root-ca.cer",
			"ssl/YSoft SafeQ SSL Certificate.pfx", "ssl/company-root-ca.cer", "ssl/company-issuing-ca.cer",
		},
		stdout: []string{"== where the files are", "All SafeQ certificates verified with openssl."},
		// The script runs the vendor's example with -Password on argv.
		stderr: []string{"certmint: warning: a password on the command line"},
	},
	{
		name: "defender",
		files: []string{
			"pki/certmint.toml", "pki/public/contoso-issuing-ca.crl",
			"sensor1/sensor1.contoso.com.crt", "sensor1/sensor1.contoso.com.key", "sensor1/sensor1.contoso.com-chain.pem",
			"console/console.contoso.com.crt", "console/console.contoso.com.key", "console/console.contoso.com-chain.pem",
			"sensor2/sensor2.contoso.com.csr", "sensor2/sensor2.contoso.com.key", "sensor2/sensor2.contoso.com.crt",
		},
		stdout: []string{
			"certificate revoked", // openssl verify -crl_check_all
			"This certificate has been revoked by the CRL and cannot be trusted for a secure connection", // certmint check
			"== where the files are", "All Defender for IoT files verified with openssl.",
		},
	},
}

// TestExamples runs every examples/*/run.sh with the certmint binary under
// test and a fresh work folder: each must exit 0, leave the files its
// README promises and print where they are. Each example comes with a
// README.md.
func TestExamples(t *testing.T) {
	testkit.RequireTool(t, "bash")
	testkit.RequireTool(t, "openssl")
	dir, err := filepath.Abs(filepath.Join("..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exampleRuns {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			script := filepath.Join(dir, ex.name, "run.sh")
			checkExampleFiles(t, filepath.Join(dir, ex.name))
			work := filepath.Join(workDir, "example-"+ex.name)
			// execute drops every CERTMINT_ variable: the script sets its own.
			r := execute(nil, "", "bash", script, certmintBin, work)
			if r.Code != 0 {
				t.Fatalf("examples/%s/run.sh failed:\n%s", ex.name, r)
			}
			checkExampleRun(t, ex, work, r)
		})
	}
	// A certmint binary that is not there: exit 1 and say which, before
	// any folder is made.
	t.Run("missing-binary", func(t *testing.T) {
		t.Parallel()
		missing := filepath.Join(workDir, "no-such-folder", "certmint")
		work := filepath.Join(workDir, "example-missing")
		r := execute(nil, "", "bash", filepath.Join(dir, "safeq", "run.sh"), missing, work)
		if r.Code != 1 || !strings.Contains(r.Stderr, "cannot run "+missing) {
			t.Errorf("run.sh with a missing binary: want exit 1 naming %s:\n%s", missing, r)
		}
		if _, err := os.Stat(work); err == nil {
			t.Errorf("run.sh with a missing binary made %s", work)
		}
	})
	// The defaults: certmint from PATH, a new temporary folder.
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		tmp := filepath.Join(workDir, "example-tmp")
		if err := os.MkdirAll(tmp, 0o700); err != nil {
			t.Fatal(err)
		}
		ex := exampleRuns[1] // safeq: the quickest
		r := execute([]string{"PATH=" + filepath.Dir(certmintBin) + string(os.PathListSeparator) + os.Getenv("PATH"), "TMPDIR=" + tmp},
			"", "bash", filepath.Join(dir, ex.name, "run.sh"))
		if r.Code != 0 {
			t.Fatalf("examples/%s/run.sh without arguments failed:\n%s", ex.name, r)
		}
		made, _ := filepath.Glob(filepath.Join(tmp, "certmint-"+ex.name+".*"))
		if len(made) != 1 {
			t.Fatalf("without a work folder argument the script should make one temporary folder in $TMPDIR; found %v", made)
		}
		checkExampleRun(t, ex, made[0], r)
		if !strings.Contains(r.Stdout, made[0]) {
			t.Errorf("the script does not say where the files are (%s):\n%s", made[0], r)
		}
	})
}

// checkExampleFiles: the folder has a README.md and an executable run.sh
// that stops at the first failure.
func checkExampleFiles(t *testing.T, dir string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil || !strings.Contains(string(readme), "run.sh") {
		t.Errorf("%s/README.md is missing or does not explain run.sh (%v)", dir, err)
	}
	script := filepath.Join(dir, "run.sh")
	st, err := os.Stat(script)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s is not executable (mode %v)", script, st.Mode().Perm())
	}
	src, _ := os.ReadFile(script)
	if !strings.HasPrefix(string(src), "#!/usr/bin/env bash\n") || !strings.Contains(string(src), "\nset -euo pipefail\n") {
		t.Errorf("%s must start with #!/usr/bin/env bash and set -euo pipefail", script)
	}
}

func checkExampleRun(t *testing.T, ex exampleRun, work string, r result) {
	t.Helper()
	for _, f := range ex.files {
		st, err := os.Stat(filepath.Join(work, f))
		if err != nil || st.Size() == 0 {
			t.Errorf("examples/%s/run.sh did not leave %s (%v)", ex.name, f, err)
		}
	}
	for _, s := range ex.stdout {
		if !strings.Contains(r.Stdout, s) {
			t.Errorf("examples/%s/run.sh does not print %q:\n%s", ex.name, s, r)
		}
	}
	for _, s := range ex.stderr {
		if !strings.Contains(r.Stderr, s) {
			t.Errorf("examples/%s/run.sh: stderr lacks %q:\n%s", ex.name, s, r)
		}
	}
	if !strings.Contains(r.Stdout, work) {
		t.Errorf("examples/%s/run.sh does not print where the files are (%s)", ex.name, work)
	}
}
