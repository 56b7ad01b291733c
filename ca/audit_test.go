package ca

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestAuditLog(t *testing.T) {
	s := newHome(t)
	ctx := context.Background()
	a := issueFor(t, s, "client", "a.example.com")
	issueFor(t, s, "client", "b.example.com")
	if _, err := s.Revoke(ctx, a.Cert.SerialNumber, 4, time.Now()); err != nil {
		t.Fatal(err)
	}
	all, err := s.Log(ctx, LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range all {
		actions = append(actions, e.Action)
		if e.At.IsZero() || e.User == "" {
			t.Errorf("event %+v lacks its time or user", e)
		}
	}
	got := strings.Join(actions, ",")
	if !strings.HasSuffix(got, "issue,issue,revoke,crl") || !strings.Contains(got, "init") {
		t.Errorf("actions %s", got)
	}
	mine, _ := s.Log(ctx, LogOptions{Serial: strings.ToLower(a.Serial)})
	if len(mine) != 2 || mine[0].Action != "issue" || mine[1].Action != "revoke" || mine[1].Detail != "superseded" {
		t.Errorf("events of %s: %+v", a.Serial, mine)
	}
	recent, _ := s.Log(ctx, LogOptions{Since: time.Now().Add(time.Hour)})
	if len(recent) != 0 {
		t.Errorf("%d events in the future", len(recent))
	}
	revokes, _ := s.Log(ctx, LogOptions{Action: "revoke"})
	if len(revokes) != 1 {
		t.Errorf("%d revoke events", len(revokes))
	}
	// No secret reaches the trail: the bundle password of issueFor is "pw".
	for _, e := range all {
		if strings.Contains(e.Detail+e.Subject, "pw") && !strings.Contains(e.Subject, "pw") {
			t.Errorf("a password in the audit trail: %+v", e)
		}
	}
}
