-- Record before release: a certificate is recorded (released_at NULL) before any file holding
-- it exists, and marked released once its files are in place. A row still NULL after its
-- command ended is one whose files may be staged or missing: `certmint doctor --repair`
-- finishes it or revokes it. Every certificate recorded before this migration was released.
ALTER TABLE certificates ADD COLUMN released_at timestamp;
UPDATE certificates SET released_at = COALESCE(issued_at, not_before, CURRENT_TIMESTAMP);
CREATE INDEX certificates_unreleased ON certificates(issued_at) WHERE released_at IS NULL;
