package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certmint/certmint/templates"
)

// The files a FuzzLoad input plays, chosen by its first argument.
const (
	fuzzCert  = iota // --cert FILE
	fuzzChain        // --cert (corpus) --chain FILE
	fuzzKey          // --cert (corpus) --key FILE, encrypted or not
	fuzzPFX          // --pfx FILE
	fuzzCRL          // --cert (corpus) --chain (corpus) --crl FILE
	fuzzKinds
)

// FuzzLoad feeds arbitrary bytes to check's readers as each kind of file
// the command takes (.crt, chain .pem, .key, .pfx, .crl), then runs every
// requirement and validation of a template on what was read: input must
// never panic or hang, and a certificate that loads must be judged. The
// corpus starts from every file of testdata/corpus, whole and cut, and
// testdata/fuzz/FuzzLoad holds the inputs that once failed.
//
//	go test ./check -run '^$' -fuzz '^FuzzLoad$' -fuzztime 60s
func FuzzLoad(f *testing.F) {
	add := func(kind int, name string) {
		data, err := os.ReadFile(corpusFile(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(kind), data)
		f.Add(uint8(kind), data[:len(data)/2])
	}
	certs, _ := filepath.Glob(filepath.Join(corpusDir, "*.crt"))
	for i, p := range certs {
		// Every certificate as --cert; a few as a chain.
		add(fuzzCert+fuzzKinds*(i%8), filepath.Base(p))
	}
	for _, name := range []string{"chain.pem", "ec-chain.pem", "other-chain.pem", "server-good.crt"} {
		add(fuzzChain, name)
	}
	keys, _ := filepath.Glob(filepath.Join(corpusDir, "keys", "*.key"))
	for _, p := range keys {
		add(fuzzKey, filepath.Join("keys", filepath.Base(p)))
	}
	add(fuzzPFX, "v-good.pfx")
	for _, name := range []string{"issuing.crl", "issuing.crl.pem", "root.crl.pem"} {
		add(fuzzCRL, name)
	}

	builtins, err := templates.Builtins()
	if err != nil {
		f.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "certmint-fuzz-check-")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	file := filepath.Join(dir, "input")
	good, chain := corpusFile("v-good.crt"), corpusFile("chain.pem")

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// The corpus uses 2048 iterations; a mutated count must not make
		// one input run for seconds.
		files := Files{Password: staticPassword(corpusPass), MaxIterations: 4096}
		switch int(kind) % fuzzKinds {
		case fuzzCert:
			files.Cert = file
		case fuzzChain:
			files.Cert, files.Chain = good, file
		case fuzzKey:
			files.Cert, files.Chain, files.Key = good, chain, file
		case fuzzPFX:
			files.PFX = file
		case fuzzCRL:
			files.Cert, files.Chain, files.CRLs = good, chain, []string{file}
		}
		in, err := Load(files)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if in.Leaf == nil {
			t.Fatal("Load returned no certificate and no error")
		}
		if in.KeyGiven && in.Key == nil && in.KeyErr == nil {
			t.Fatal("a key was given, but neither read nor refused")
		}
		in.Now = corpusNow
		tmpl := builtins[int(kind)/fuzzKinds%len(builtins)]
		r := Run(tmpl, in)
		if r == nil || len(r.Findings) == 0 {
			t.Fatal("Run returned no findings")
		}
		if r.OK != (len(r.Failed()) == 0) {
			t.Fatalf("OK = %v with failures %v", r.OK, r.Failed())
		}
		for _, fd := range r.Findings {
			if fd.Rule == "" || fd.Title == "" {
				t.Fatalf("a finding without a rule or title: %+v", fd)
			}
			switch fd.Status {
			case Pass, Skip:
			case Fail:
				if fd.Level != templates.Requirement {
					t.Fatalf("advice %s failed: advice only warns", fd.Rule)
				}
			case Warn:
				if fd.Level != templates.Advice {
					t.Fatalf("requirement %s only warned", fd.Rule)
				}
			default:
				t.Fatalf("finding %s has status %q", fd.Rule, fd.Status)
			}
		}
	})
}
