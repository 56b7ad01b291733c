package main

import (
	"os"
	"strings"
	"testing"
)

// TestFlagsDoNotCarryOver: urfave/cli v2 writes a flag's environment value
// into the flag itself (StringFlag.Apply sets Value), so with flags shared
// between runs, CERTMINT_HOME from one run became the default --home of
// every later run in the same process (the tests; a server embedding run).
func TestFlagsDoNotCarryOver(t *testing.T) {
	home := newHome(t)
	t.Setenv("CERTMINT_HOME", home)
	if code, _, stderr := runCLI(t, "list"); code != 0 {
		t.Fatalf("list with CERTMINT_HOME: exit %d\n%s", code, stderr)
	}
	os.Unsetenv("CERTMINT_HOME")
	t.Chdir(t.TempDir()) // no ./pki here
	code, stdout, stderr := runCLI(t, "list")
	if code == 0 || !strings.Contains(stderr, "no CA in pki") {
		t.Errorf("list without CERTMINT_HOME, in a folder without pki/: exit %d, want \"no CA in pki\"\n%s%s", code, stdout, stderr)
	}
}
