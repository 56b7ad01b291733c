package templates

// MaxDays bounds every validity in days that certmint takes from a user:
// --days, the days column of a batch CSV, and init's --root-days and
// --issuing-days. 100 years is more than any certificate of a small CA
// needs, and far below the 106,751 days a time.Duration can hold, so a
// bounded count times 24h never overflows: --days 106752 used to wrap to a
// negative lifetime that slipped past the "would outlive the issuing CA"
// check.
const MaxDays = 36500
