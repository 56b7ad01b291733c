package ca

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/certmint/certmint/crl"
	"github.com/certmint/certmint/store"
)

// PublishedCRL describes one CRL written into public/.
type PublishedCRL struct {
	Slug       string
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	Entries    int
	Path       string
}

// CRLLifetime is how long the CRL of a CA is valid.
func (s *Store) CRLLifetime(a *Authority) time.Duration {
	if a == s.Root {
		return time.Duration(s.Config.CRL.RootDays) * 24 * time.Hour
	}
	return time.Duration(s.Config.CRL.IssuingDays) * 24 * time.Hour
}

// PublishCRLs signs and publishes a fresh CRL for every CA.
func (s *Store) PublishCRLs(ctx context.Context, now time.Time) ([]PublishedCRL, error) {
	if err := s.UnlockAll(); err != nil {
		return nil, err
	}
	// Every CA's files first: a link refused at the second CA must not
	// leave the first one's CRL published and numbered.
	for _, a := range s.Authorities() {
		if err := crl.CheckPublish(s.PublicDir(), a.Slug); err != nil {
			return nil, err
		}
	}
	var out []PublishedCRL
	for _, a := range s.Authorities() {
		p, err := s.PublishCRL(ctx, a, now)
		if err != nil {
			return out, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// PublishCRL signs and publishes the CRL of one CA. The CRL number is
// allocated, the revoked entries read and the files written inside one
// database write transaction, so concurrent publishers are serialised: the
// file on disk always carries the highest number, and lists every revocation
// committed before its number was taken. On SQLite the serialisation is the
// IMMEDIATE transaction (one writer at a time); on PostgreSQL, where several
// hosts publish, it is the lock on the CA's crl_numbers row that allocating
// the number takes (see nextCRLNumber).
func (s *Store) PublishCRL(ctx context.Context, a *Authority, now time.Time) (*PublishedCRL, error) {
	key, err := s.Key(a)
	if err != nil {
		return nil, err
	}
	lifetime := s.CRLLifetime(a)
	var number int64
	var entries []crl.Entry
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if number, err = tx.NextCRLNumber(ctx, a.Slug, now.Add(-crl.Skew), now.Add(lifetime)); err != nil {
			return err
		}
		if number, err = afterPublished(ctx, tx, s.PublicDir(), a.Slug, number); err != nil {
			return err
		}
		revoked, err := tx.RevokedEntries(ctx, a.Slug)
		if err != nil {
			return err
		}
		entries = make([]crl.Entry, len(revoked))
		for i, r := range revoked {
			entries[i] = crl.Entry{Serial: r.Serial, RevokedAt: r.RevokedAt, Reason: r.Reason}
		}
		der, err := crl.Build(a.Cert, key, number, now, lifetime, entries)
		if err != nil {
			return err
		}
		if err := crl.Publish(s.PublicDir(), a.Slug, der); err != nil {
			return err
		}
		return tx.Audit(ctx, Event{Action: "crl", CALabel: a.Slug,
			Detail: fmt.Sprintf("CRL number %d, %d entries, next update %s", number, len(entries), now.Add(lifetime).UTC().Format(time.RFC3339))})
	})
	if err != nil {
		return nil, err
	}
	path, _ := crl.Paths(s.PublicDir(), a.Slug)
	return &PublishedCRL{Slug: a.Slug, Number: number, ThisUpdate: now.Add(-crl.Skew).UTC(),
		NextUpdate: now.Add(lifetime).UTC(), Entries: len(entries), Path: path}, nil
}

// afterPublished returns number, or one past the number of the CRL already
// in public/ when that is as high, and then records it in crl_numbers
// inside tx. A publisher killed after writing its file but before its
// transaction committed leaves a CRL whose number the database rolled
// back; without this every later publication would take that number again
// and crl.Publish would refuse it (StaleError), forever.
func afterPublished(ctx context.Context, tx *store.Tx, public, label string, number int64) (int64, error) {
	path, _ := crl.Paths(public, label)
	cur, err := os.ReadFile(path)
	if err != nil {
		return number, nil
	}
	n, err := crl.Number(cur)
	if err != nil || !n.IsInt64() || n.Int64() < number {
		return number, nil
	}
	number = n.Int64() + 1
	return number, tx.SetCRLNumber(ctx, label, number)
}

// KeepCRLsFresh re-signs each CA's CRL once it has used half its lifetime,
// checking every interval until ctx ends, so a long-running `certmint serve`
// never serves an expired CRL. logf reports each publication and error.
func (s *Store) KeepCRLsFresh(ctx context.Context, interval time.Duration, logf func(format string, args ...any)) {
	check := func() {
		for _, a := range s.Authorities() {
			now := time.Now()
			if !s.CRLDue(a, now) {
				continue
			}
			p, err := s.PublishCRL(ctx, a, now)
			if err != nil {
				logf("re-signing the CRL of %s failed: %v", a.Slug, err)
				continue
			}
			logf("re-signed the CRL of %s: number %d, next update %s", a.Slug, p.Number, p.NextUpdate.Format(time.RFC3339))
		}
	}
	check()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}
