-- A revocation announces itself: every host's `certmint serve` LISTENs on certmint_revocations and
-- republishes the CRL of the CA named in the payload (a CA shared by several hosts, each publishing
-- into its own public/). A trigger rather than a NOTIFY in certmint's revoke: every path that marks
-- a certificate revoked (revoke, renew --revoke-old, doctor --repair) is covered, and the
-- notification is sent only if the revoking transaction commits.
CREATE OR REPLACE FUNCTION certmint_notify_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('certmint_revocations', COALESCE(convert_from(NEW.ca_label, 'UTF8'), ''));
  RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS certificates_revocation_notify ON certificates;
CREATE TRIGGER certificates_revocation_notify AFTER UPDATE OF status ON certificates
  FOR EACH ROW WHEN (NEW.status = 'revoked' AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION certmint_notify_revocation();
