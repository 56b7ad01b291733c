package ca

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestKeyAskAgain: a CA password that does not decrypt the key is asked
// for again while AskAgain allows (a typed one, up to its limit), the
// right one then opens every key without another question, and without
// AskAgain the first wrong password ends it as before.
func TestKeyAskAgain(t *testing.T) {
	for _, tc := range []struct {
		name      string
		answers   []string
		limit     int // AskAgain allows tries below it; 0: AskAgain unset
		wantAsked int
		wantErr   string // "" for success
		wantTries int    // WrongPasswordError.Tries
	}{
		{name: "right at once", answers: []string{testPassword}, limit: 3, wantAsked: 1},
		{name: "right at the second try", answers: []string{"typo", testPassword}, limit: 3, wantAsked: 2},
		{name: "right at the third try", answers: []string{"typo", "typo2", testPassword}, limit: 3, wantAsked: 3},
		{name: "three wrong tries", answers: []string{"a", "b", "c", testPassword}, limit: 3, wantAsked: 3,
			wantErr: "does not decrypt", wantTries: 3},
		{name: "no AskAgain: one try", answers: []string{"typo", testPassword}, wantAsked: 1,
			wantErr: "does not decrypt"},
		{name: "the source fails on the retry", answers: []string{"typo"}, limit: 3, wantAsked: 2,
			wantErr: "no more answers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := newHome(t).Home
			asked := 0
			s, err := Open(home, func() (string, error) {
				asked++
				if asked > len(tc.answers) {
					return "", errors.New("no more answers")
				}
				return tc.answers[asked-1], nil
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var seen []int
			if tc.limit > 0 {
				s.AskAgain = func(err error, tries int) bool {
					var wp *WrongPasswordError
					if !errors.As(err, &wp) {
						t.Errorf("AskAgain got %v, want a *WrongPasswordError", err)
					}
					seen = append(seen, tries)
					return tries < tc.limit
				}
			}
			_, err = s.Key(s.Issuing)
			if asked != tc.wantAsked {
				t.Errorf("asked %d times, want %d (AskAgain saw tries %v)", asked, tc.wantAsked, seen)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				// The root's key opens with the same answer, not asked again.
				if _, err := s.Key(s.Root); err != nil || asked != tc.wantAsked {
					t.Errorf("root key: %v, asked %d times", err, asked)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Key: %v, want %q", err, tc.wantErr)
			}
			var wp *WrongPasswordError
			if errors.As(err, &wp) {
				if wp.Tries != tc.wantTries {
					t.Errorf("Tries = %d, want %d", wp.Tries, tc.wantTries)
				}
				if tc.wantTries > 1 && !strings.Contains(err.Error(), fmt.Sprintf("(%d tries)", tc.wantTries)) {
					t.Errorf("the error %q does not count the tries", err)
				}
			}
		})
	}
}
