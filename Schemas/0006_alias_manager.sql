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

-- Operators manage accounts, domains and addresses with platformctl under the same rules (the triggers
-- of 0004 refuse what the rules forbid, whoever asks).
GRANT INSERT, UPDATE ON accounts, domains TO palisade_admin;
GRANT INSERT, UPDATE, DELETE ON addresses TO palisade_admin;
