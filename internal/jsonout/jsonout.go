// Package jsonout holds the rules every `certmint ... --json` document
// follows, for the packages that define one (cmd/certmint, check, inspect):
//
//   - one JSON object on stdout, whose "schema_version" is SchemaVersion;
//   - every key always present: a list that is empty is [], a string that
//     does not apply is "" (times included), an object or a number that
//     does not apply is null; no omitempty on output types;
//   - subject alternative names written "DNS:x", "IP:y", "email:z",
//     "URI:u" (san.Name.String);
//   - times in RFC 3339, UTC, to the second (Time);
//   - serials in upper-case hex, as certmint and `openssl x509 -serial`
//     print them.
package jsonout

import "time"

// SchemaVersion is the version of every document certmint prints with
// --json: one number for all commands, so a script checks one value. It is
// raised when a key of any document is removed or changes meaning; keys
// may be added at any time without raising it.
//
// 2: every command carries it (before, only inspect, at 1, and check, at
// 2, did); inspect's "sans" became a list like every other command's.
const SchemaVersion = 2

// Time writes t in RFC 3339, UTC, to the second; "" for the zero time (a
// time that does not apply).
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// List is s, or an empty list when s is nil: a nil slice would encode as
// null where a document promises [].
func List[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
