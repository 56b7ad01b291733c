package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"
)

// RevocationChannel is the PostgreSQL channel on which the trigger of
// migration 4 announces every revocation, with the CA's label as payload.
const RevocationChannel = "certmint_revocations"

// ErrNoNotifications is ListenRevocations on SQLite, which has no way to
// tell another process of a commit: callers poll RevocationMarks.
var ErrNoNotifications = errors.New("store: SQLite sends no notifications")

// ListenRevocations calls revoked with the CA label of every revocation
// any host commits to the PostgreSQL database, until ctx ends or the
// connection breaks (the error says which; callers reconnect). ready is
// called once the LISTEN is in place: a revocation committed after it
// returns is never missed. It holds one connection of the pool for as long
// as it runs.
func (db *DB) ListenRevocations(ctx context.Context, ready func(), revoked func(label string)) error {
	if !db.postgres {
		return ErrNoNotifications
	}
	conn, err := db.x.Conn(ctx)
	if err != nil {
		return fmt.Errorf("issuance database: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: the PostgreSQL driver connection is a %T", dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+RevocationChannel); err != nil {
			return fmt.Errorf("issuance database: LISTEN %s: %w", RevocationChannel, err)
		}
		// The connection goes back to the pool afterwards: leave it as found.
		defer pc.Exec(context.Background(), "UNLISTEN "+RevocationChannel)
		if ready != nil {
			ready()
		}
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("issuance database: waiting for revocations: %w", err)
			}
			revoked(n.Payload)
		}
	})
}
