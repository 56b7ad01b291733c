package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// notIssued are the templates of the certificates a CA makes for itself,
// which Count leaves out too (TestCountByTemplateAddsUpToCount holds the
// two to the same list).
var notIssued = []string{IssuingCATemplate, OCSPResponderTemplate}

// CountByTemplate is Count per template: the end-entity records in each
// state as of now, keyed by the template recorded at issuance ("" for a
// record without one). Expiring are the valid ones that end before
// warnBefore. One aggregate query grouped in SQL, as cheap as Count: the
// metrics endpoint runs it on every scrape of a home that may hold
// 100,000 certificates.
func (db *DB) CountByTemplate(ctx context.Context, now, warnBefore time.Time) (map[string]Counts, error) {
	template := `json_extract(metadata, '$.template')`
	if db.postgres {
		template = `(metadata->>'template')`
	}
	q := db.x.Rebind(`SELECT COALESCE(` + template + `, '') AS template,
		COALESCE(SUM(CASE WHEN status = 'good' AND expiry > ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'good' AND expiry > ? AND expiry <= ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'good' AND expiry <= ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'revoked' THEN 1 ELSE 0 END), 0)
		FROM certificates WHERE COALESCE(` + template + `, '') NOT IN (?` + strings.Repeat(", ?", len(notIssued)-1) + `) GROUP BY 1`)
	n, w := now.UTC(), warnBefore.UTC()
	args := []any{n, n, w, n}
	for _, t := range notIssued {
		args = append(args, t)
	}
	rows, err := db.x.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("issuance database: counting certificates: %w", err)
	}
	defer rows.Close()
	out := map[string]Counts{}
	for rows.Next() {
		var name sql.NullString
		var c Counts
		if err := rows.Scan(&name, &c.Valid, &c.Expiring, &c.Expired, &c.Revoked); err != nil {
			return nil, fmt.Errorf("issuance database: counting certificates: %w", err)
		}
		out[name.String] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("issuance database: counting certificates: %w", err)
	}
	return out, nil
}
