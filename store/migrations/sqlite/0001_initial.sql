-- The issuance database of a certmint home (SQLite).
-- certificates and ocsp_responses are cfssl's certdb schema, copied from the
-- "Up" sections of cfssl v1.6.5 certdb/sqlite/migrations/001_CreateCertificates.sql
-- and 002_AddMetadataToCertificates.sql, so cfssl's certdb/sql Accessor works on it.
CREATE TABLE IF NOT EXISTS certificates (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  ca_label                 blob,
  status                   blob NOT NULL,
  reason                   int,
  expiry                   timestamp,
  revoked_at               timestamp,
  pem                      blob NOT NULL,
  issued_at                timestamp,
  not_before               timestamp,
  metadata                 text,
  sans                     text,
  common_name              text,
  PRIMARY KEY(serial_number, authority_key_identifier)
);

CREATE TABLE IF NOT EXISTS ocsp_responses (
  serial_number            blob NOT NULL,
  authority_key_identifier blob NOT NULL,
  body                     blob NOT NULL,
  expiry                   timestamp,
  PRIMARY KEY(serial_number, authority_key_identifier),
  FOREIGN KEY(serial_number, authority_key_identifier) REFERENCES certificates(serial_number, authority_key_identifier)
);

-- certmint's own tables.
CREATE INDEX IF NOT EXISTS certificates_common_name ON certificates(common_name);
CREATE INDEX IF NOT EXISTS certificates_serial ON certificates(serial_number);

-- One row per CA: the last CRL Number used (RFC 5280 5.2.3: monotonically increasing).
CREATE TABLE IF NOT EXISTS crl_numbers (
  ca_label    text PRIMARY KEY,
  number      integer NOT NULL,
  this_update timestamp,
  next_update timestamp
);

-- The audit trail: append-only from certmint's side.
CREATE TABLE IF NOT EXISTS audit_log (
  id        integer PRIMARY KEY AUTOINCREMENT,
  at        timestamp NOT NULL,
  action    text NOT NULL,
  serial    text,
  ca_label  text,
  template  text,
  subject   text,
  detail    text,
  os_user   text,
  host      text
);

CREATE TABLE IF NOT EXISTS certmint_meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);
