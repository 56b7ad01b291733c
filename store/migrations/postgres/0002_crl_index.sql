-- The CRL index of SQLite's migration 2, on PostgreSQL: version 1 indexed only ca_label; a
-- covering index answers a CRL build from the index alone.
DROP INDEX IF EXISTS certificates_revoked;
CREATE INDEX certificates_revoked ON certificates(ca_label, expiry, serial_number, revoked_at, reason)
  WHERE status = 'revoked';
