package main

import (
	"strings"
	"testing"
)

// The script's arguments as a POSIX shell passes them on (003's example and
// PowerShell's other spellings) become flags urfave/cli parses.
func TestNormalizeSafeQArgs(t *testing.T) {
	tests := []struct{ in, want string }{
		{`certmint safeq -Subject YSoft_SafeQ -SubjectAlternativeNames *.company.com, 1.2.3.4`,
			`certmint safeq -Subject YSoft_SafeQ --san *.company.com, --san 1.2.3.4`},
		{`certmint safeq -subjectalternativenames a.example.com -friendlyname F -PASSWORD pw`,
			`certmint safeq --san a.example.com -FriendlyName F -Password pw`},
		{`certmint safeq -Subject:x -SubjectAlternativeNames:a,b c`,
			`certmint safeq -Subject x -SubjectAlternativeNames a,b --san c`},
		{`certmint safeq --san a --san b --out d`, `certmint safeq --san a --san b --out d`},
		{`certmint issue -Subject x a b`, `certmint issue -Subject x a b`}, // other commands untouched
		{`certmint safeq -SubjectAlternativeNames`, `certmint safeq -SubjectAlternativeNames`},
	}
	for _, tc := range tests {
		got := strings.Join(normalizeSafeQArgs(strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}
