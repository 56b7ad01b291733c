-- A partial covering index for CRL builds: what a CRL build reads (ca_label, expiry, serial,
-- revoked_at, reason of revoked rows) and nothing else, so publishing 100,000 revocations does
-- not scan past every certificate's PEM. Homes made before this migration have no such index;
-- some made by an unreleased build already have one by this name, which is replaced.
DROP INDEX IF EXISTS certificates_revoked;
CREATE INDEX certificates_revoked ON certificates(ca_label, expiry, serial_number, revoked_at, reason)
  WHERE status = 'revoked';
