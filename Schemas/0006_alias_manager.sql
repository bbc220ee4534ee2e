-- What the alias manager (palisade-aliases) and platformctl's accounts/domains/aliases commands need
-- beyond 0001-0005.

-- A disabled address says since when; an enabled one has no such date.
UPDATE addresses SET disabled_at = NULL WHERE enabled AND disabled_at IS NOT NULL;
UPDATE addresses SET disabled_at = created_at WHERE NOT enabled AND disabled_at IS NULL;
ALTER TABLE addresses ADD CONSTRAINT addresses_disabled_since CHECK (enabled = (disabled_at IS NULL));

-- An address that is deleted (a custom-domain alias, or a platform alias before the cutoff) takes its
-- key bindings with it: a key cannot stay published for an address that no longer exists. The
-- deletion enqueues wkd.refresh, so the WKD publisher withdraws the entry.
ALTER TABLE key_addresses DROP CONSTRAINT key_addresses_address_id_fkey,
    ADD CONSTRAINT key_addresses_address_id_fkey FOREIGN KEY (address_id) REFERENCES addresses (id) ON DELETE CASCADE;

-- A domain's name, kind and owner never change, and a platform domain is never removed: turning a
-- platform domain into a custom one (or renaming it) would let its aliases be deleted after all, and
-- hand the provider's namespace to a customer. Nothing updates domains, so no role may.
CREATE FUNCTION domains_protect() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.kind = 'platform' THEN
        RAISE EXCEPTION 'platform domain % is never removed', OLD.name USING ERRCODE = 'PA001';
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.name <> OLD.name OR NEW.kind <> OLD.kind OR NEW.account_id IS DISTINCT FROM OLD.account_id) THEN
        RAISE EXCEPTION 'domain % keeps its name, kind and owner', OLD.name USING ERRCODE = 'PA001';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER domains_protect BEFORE UPDATE OR DELETE ON domains
    FOR EACH ROW EXECUTE FUNCTION domains_protect();
CREATE TRIGGER domains_no_truncate BEFORE TRUNCATE ON domains
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();
REVOKE UPDATE ON domains FROM palisade_aliases;

-- "Is this address a +sub-address of someone else's?" (Postfix's recipient_delimiter = +): the reserved
-- address with its +tag removed, indexed.
CREATE INDEX reserved_addresses_base ON reserved_addresses ((regexp_replace(address, '\+[^@]*@', '@')));

-- Operators manage accounts, domains and addresses with platformctl under the same rules (the triggers
-- of 0004 refuse what the rules forbid, whoever asks). Accounts are locked FOR UPDATE while they change.
GRANT INSERT, UPDATE ON accounts TO palisade_admin;
GRANT INSERT ON domains TO palisade_admin;
GRANT INSERT, UPDATE, DELETE ON addresses TO palisade_admin;
