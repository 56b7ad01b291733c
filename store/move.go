package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

// TableCount is the number of rows of one table, in the source and, after
// the copy, in the target.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

// Copied is what CopyToPostgres moved and checked.
type Copied struct {
	Tables []TableCount
	// Checksum is the SHA-256 of every certificate's serial, AKI, status
	// and reason, sorted: the same on both sides.
	Checksum string
}

// migrateColumn is one column of a copied table and how it is carried:
// the bytea columns as raw bytes (exactly what SQLite holds), the rest as
// typed values.
type migrateColumn struct {
	name string
	kind int
}

const (
	colBytes = iota // bytea on PostgreSQL: copied as bytes
	colText         // text (nullable)
	colJSON         // jsonb: text that must be JSON; "" becomes NULL
	colInt          // integer (nullable)
	colTime         // timestamptz (nullable)
)

type migrateTable struct {
	name    string
	columns []migrateColumn
	where   string // rows to skip on the source
}

// migrateTables lists every table in foreign-key order. certmint_meta
// carries what init wrote besides the schema version and the CA identity,
// which the target gets from this certmint.
var migrateTables = []migrateTable{
	{name: "certificates", columns: []migrateColumn{
		{"serial_number", colBytes}, {"authority_key_identifier", colBytes}, {"ca_label", colBytes},
		{"status", colBytes}, {"reason", colInt}, {"expiry", colTime}, {"revoked_at", colTime}, {"pem", colBytes},
		{"issued_at", colTime}, {"not_before", colTime}, {"metadata", colJSON}, {"sans", colJSON}, {"common_name", colText},
		{"released_at", colTime}}},
	{name: "ocsp_responses", columns: []migrateColumn{
		{"serial_number", colBytes}, {"authority_key_identifier", colBytes}, {"body", colBytes}, {"expiry", colTime}}},
	{name: "crl_numbers", columns: []migrateColumn{
		{"ca_label", colText}, {"number", colInt}, {"this_update", colTime}, {"next_update", colTime}}},
	{name: "audit_log", columns: []migrateColumn{
		{"id", colInt}, {"at", colTime}, {"action", colText}, {"serial", colText}, {"ca_label", colText},
		{"template", colText}, {"subject", colText}, {"detail", colText}, {"os_user", colText}, {"host", colText}}},
	{name: "certmint_meta", columns: []migrateColumn{{"key", colText}, {"value", colText}},
		where: `WHERE key NOT IN ('schema_version', 'issuing_ca')`},
}

// migrateBatch rows go into one INSERT (13 columns x 500 stays far below
// PostgreSQL's 65,535 parameters).
const migrateBatch = 500

// CopyToPostgres copies a SQLite issuance database onto an empty
// PostgreSQL one: every row of certificates, ocsp_responses, crl_numbers
// and audit_log, in one PostgreSQL transaction, which commits only after
// the row counts and a checksum of the serials match the source and the
// event that event returns is added to the copied trail. A target that
// holds certmint data is refused. The SQLite database stays write-locked
// from the first read until switch has run (after the commit), so a caller
// that switches its configuration there loses no issuance in between.
func CopyToPostgres(ctx context.Context, src, dst *DB, identity string, event func(Copied) Event, switchOver func(Copied) error) (Copied, error) {
	var res Copied
	if src.postgres || !dst.postgres {
		return res, fmt.Errorf("store: CopyToPostgres copies SQLite to PostgreSQL")
	}
	// _txlock=immediate: this read transaction holds SQLite's write lock.
	stx, err := src.x.BeginTxx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("issuance database %s: %w", src.url, err)
	}
	defer stx.Rollback()
	if _, err := dst.Migrate(ctx); err != nil {
		return res, err
	}
	ptx, err := dst.x.BeginTxx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("issuance database %s: %w", dst.url, err)
	}
	defer ptx.Rollback()
	// The same lock as init's claim: two copies (or an init) into one
	// database cannot both find it empty.
	if err := (&Tx{tx: ptx, postgres: true}).lockSchema(ctx); err != nil {
		return res, err
	}
	if what, err := dst.dataSummary(ctx, ptx); err != nil {
		return res, err
	} else if what != "" {
		return res, &DatabaseInUseError{URL: dst.url, What: what}
	}
	for _, t := range migrateTables {
		n, err := copyTable(ctx, stx, ptx, t)
		if err != nil {
			return res, err
		}
		res.Tables = append(res.Tables, TableCount{Table: t.name, Rows: n})
	}
	if err := setMeta(ctx, ptx, "issuing_ca", identity); err != nil {
		return res, err
	}
	// New audit events continue after the copied ids.
	if _, err := ptx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('audit_log', 'id'), max(id))
		FROM audit_log HAVING max(id) IS NOT NULL`); err != nil {
		return res, fmt.Errorf("issuance database %s: audit_log id sequence: %w", dst.url, err)
	}

	// Verify, inside the transaction, before anything points at it.
	for _, tc := range res.Tables {
		t := migrateTableNamed(tc.Table)
		var want, got int64
		if err := stx.GetContext(ctx, &want, `SELECT count(*) FROM `+t.name+` `+t.where); err != nil {
			return res, fmt.Errorf("issuance database %s: %w", src.url, err)
		}
		if err := ptx.GetContext(ctx, &got, `SELECT count(*) FROM `+t.name+` `+t.where); err != nil {
			return res, fmt.Errorf("issuance database %s: %w", dst.url, err)
		}
		if want != tc.Rows || got != want {
			return res, fmt.Errorf("db migrate: %s: %d rows in SQLite, %d copied, %d in PostgreSQL; nothing was changed", t.name, want, tc.Rows, got)
		}
	}
	srcSum, err := certificateChecksum(ctx, stx)
	if err != nil {
		return res, fmt.Errorf("issuance database %s: %w", src.url, err)
	}
	dstSum, err := certificateChecksum(ctx, ptx)
	if err != nil {
		return res, fmt.Errorf("issuance database %s: %w", dst.url, err)
	}
	if srcSum != dstSum {
		return res, fmt.Errorf("db migrate: the serials copied to PostgreSQL differ from SQLite's (checksum %s, want %s); nothing was changed", dstSum, srcSum)
	}
	res.Checksum = srcSum
	if err := audit(ctx, ptx, event(res)); err != nil {
		return res, err
	}
	if err := ptx.Commit(); err != nil {
		return res, fmt.Errorf("issuance database %s: committing the copy: %w; nothing was changed", dst.url, err)
	}
	return res, switchOver(res)
}

func migrateTableNamed(name string) migrateTable {
	for _, t := range migrateTables {
		if t.name == name {
			return t
		}
	}
	panic("store: no migrate table " + name)
}

// copyTable copies every row of t from the SQLite transaction to the
// PostgreSQL one, migrateBatch rows per INSERT, and returns the count.
func copyTable(ctx context.Context, from, to *sqlx.Tx, t migrateTable) (int64, error) {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	cols := strings.Join(names, ", ")
	rows, err := from.QueryContext(ctx, `SELECT `+cols+` FROM `+t.name+` `+t.where)
	if err != nil {
		return 0, fmt.Errorf("db migrate: reading %s: %w", t.name, err)
	}
	defer rows.Close()
	var n int64
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + t.name + ` (` + cols + `) VALUES `)
		for r := 0; r < len(args)/len(t.columns); r++ {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for c := range t.columns {
				if c > 0 {
					b.WriteString(", ")
				}
				b.WriteString("$" + strconv.Itoa(r*len(t.columns)+c+1))
			}
			b.WriteString(")")
		}
		if _, err := to.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("db migrate: writing %s: %w", t.name, err)
		}
		args = args[:0]
		return nil
	}
	for rows.Next() {
		vals := make([]any, len(t.columns))
		dest := make([]any, len(t.columns))
		for i, c := range t.columns {
			switch c.kind {
			case colBytes, colText, colJSON:
				dest[i] = new(sql.NullString)
			case colInt:
				dest[i] = new(sql.NullInt64)
			case colTime:
				dest[i] = new(sql.NullTime)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return n, fmt.Errorf("db migrate: reading %s: %w", t.name, err)
		}
		for i, c := range t.columns {
			switch c.kind {
			case colBytes:
				if s := dest[i].(*sql.NullString); s.Valid {
					vals[i] = []byte(s.String) // exactly the bytes SQLite holds
				} else {
					vals[i] = nil
				}
			case colJSON:
				s := dest[i].(*sql.NullString)
				switch {
				case !s.Valid || s.String == "":
					vals[i] = nil
				case !json.Valid([]byte(s.String)):
					return n, fmt.Errorf("db migrate: %s row %d: %s is not JSON: %.60q", t.name, n+1, c.name, s.String)
				default:
					vals[i] = s.String
				}
			case colText:
				vals[i] = *dest[i].(*sql.NullString)
			case colInt:
				vals[i] = *dest[i].(*sql.NullInt64)
			case colTime:
				vals[i] = *dest[i].(*sql.NullTime)
			}
		}
		args = append(args, vals...)
		n++
		if len(args) >= migrateBatch*len(t.columns) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("db migrate: reading %s: %w", t.name, err)
	}
	return n, flush()
}

// certificateChecksum is the SHA-256 of "serial aki status reason", one
// line per certificate, sorted: it does not depend on row order or on how
// the driver returns bytea.
func certificateChecksum(ctx context.Context, tx *sqlx.Tx) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT serial_number, authority_key_identifier, status, reason FROM certificates`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var serial, aki, status []byte
		var reason sql.NullInt64
		if err := rows.Scan(&serial, &aki, &status, &reason); err != nil {
			return "", err
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %d", serial, aki, status, reason.Int64))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l + "\n"))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
