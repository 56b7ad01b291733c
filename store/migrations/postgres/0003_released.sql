-- Record before release, as SQLite's migration 3: released_at stays NULL from the moment a
-- certificate is recorded until its files are in place; older rows were all released.
ALTER TABLE certificates ADD COLUMN released_at timestamptz;
UPDATE certificates SET released_at = COALESCE(issued_at, not_before, CURRENT_TIMESTAMP);
CREATE INDEX certificates_unreleased ON certificates(issued_at) WHERE released_at IS NULL;
