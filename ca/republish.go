package ca

import (
	"context"
	"errors"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/store"
)

// RevocationPollInterval is how often KeepCRLsCurrent reads the
// database's revocation marks. On PostgreSQL a notification wakes it at
// once; polling is what SQLite has, and PostgreSQL's fallback while its
// notification connection is down.
const RevocationPollInterval = 2 * time.Second

// republishGrace is how long a CRL may lack a recorded revocation before
// KeepCRLsCurrent republishes it: `certmint revoke` on this host publishes
// the CRL itself a moment after recording the revocation, and need not be
// done twice.
const republishGrace = 2 * time.Second

// KeepCRLsCurrent republishes the CRL of a CA whenever the database holds
// a revocation of that CA the CRL in public/ does not list, until ctx ends:
// revocations made on another host of a shared (PostgreSQL) database,
// which publishes into its own public/, or by a `certmint revoke` whose
// publication failed. It reads the revocation marks every poll interval
// (cheap: one aggregate over the CRL index), and on PostgreSQL also as
// soon as the trigger of migration 4 announces a revocation; when a mark
// changes it compares the CA's revoked serials with its published CRL.
// logf reports each publication and error. Needs the CA keys (UnlockAll).
func (s *Store) KeepCRLsCurrent(ctx context.Context, poll time.Duration, logf func(format string, args ...any)) {
	wake := make(chan struct{}, 1)
	notify := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	if s.DB.Postgres() {
		go s.listenRevocations(ctx, notify, logf)
	}
	seen := map[string]store.RevocationMark{}
	staleSince := map[string]time.Time{}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		next := s.checkCRLsCurrent(ctx, seen, staleSince, logf)
		if next > 0 {
			time.AfterFunc(next, notify)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// listenRevocations keeps a LISTEN on the revocation channel, reconnecting
// after a lost connection; every notification wakes KeepCRLsCurrent.
func (s *Store) listenRevocations(ctx context.Context, wake func(), logf func(format string, args ...any)) {
	failing := false
	for ctx.Err() == nil {
		err := s.DB.ListenRevocations(ctx, func() {
			if failing {
				logf("listening for revocations on %s again", s.DB.URL())
				failing = false
			}
			wake() // what was revoked while not listening
		}, func(string) { wake() })
		if ctx.Err() != nil || errors.Is(err, store.ErrNoNotifications) {
			return
		}
		if !failing {
			logf("listening for revocations on %s failed: %v; polling every %s until it works again", s.DB.URL(), err, RevocationPollInterval)
			failing = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// checkCRLsCurrent is one pass of KeepCRLsCurrent. It returns how soon to
// look again for a CRL found lacking but still in its grace period (0:
// no need).
func (s *Store) checkCRLsCurrent(ctx context.Context, seen map[string]store.RevocationMark, staleSince map[string]time.Time, logf func(format string, args ...any)) time.Duration {
	marks, err := s.DB.RevocationMarks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			logf("reading revocations failed: %v", err)
		}
		return 0
	}
	var again time.Duration
	for _, a := range s.Authorities() {
		m := marks[a.Slug]
		if prev, ok := seen[a.Slug]; ok && prev == m && staleSince[a.Slug].IsZero() {
			continue
		}
		missing, err := s.CRLMissing(ctx, a)
		if err != nil {
			logf("comparing the CRL of %s with the database failed: %v", a.Slug, err)
			continue
		}
		if missing == 0 {
			seen[a.Slug] = m
			delete(staleSince, a.Slug)
			continue
		}
		now := time.Now()
		if since, ok := staleSince[a.Slug]; !ok {
			staleSince[a.Slug] = now
			again = republishGrace
			continue
		} else if wait := republishGrace - now.Sub(since); wait > 0 {
			again = wait
			continue
		}
		p, err := s.PublishCRL(ctx, a, now)
		if err != nil {
			logf("republishing the CRL of %s failed: %v", a.Slug, err)
			continue
		}
		seen[a.Slug] = m
		delete(staleSince, a.Slug)
		logf("republished the CRL of %s: it lacked %d revocation(s) recorded in the database (number %d, %d entries)", a.Slug, missing, p.Number, p.Entries)
	}
	return again
}

// CRLMissing counts the revoked, unexpired certificates of CA a that the
// CRL published in public/ does not list (all of them when there is no
// readable CRL of a).
func (s *Store) CRLMissing(ctx context.Context, a *Authority) (int, error) {
	serials, err := s.DB.RevokedSerials(ctx, a.Slug)
	if err != nil {
		return 0, err
	}
	path, _ := crl.Paths(s.PublicDir(), a.Slug)
	rl, err := crl.ReadFile(path)
	if err != nil || rl.CheckSignatureFrom(a.Cert) != nil {
		return max(len(serials), 1), nil
	}
	listed := make(map[string]bool, len(rl.RevokedCertificateEntries))
	for _, e := range rl.RevokedCertificateEntries {
		listed[string(e.SerialNumber.Bytes())] = true
	}
	n := 0
	for _, sn := range serials {
		if !listed[string(sn.Bytes())] {
			n++
		}
	}
	return n, nil
}
