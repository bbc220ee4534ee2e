-- Key discovery (palisade-keystore's GET /v1/lookup): what the sources said about other people's
-- addresses, shared by every instance. One row per address asked, replaced by each new look-up: the
-- outcome (found / not_found / failed), the keys found (minimised to the asked User ID), what every
-- source said, and until when the answer may be given again without asking.
CREATE TABLE key_lookups (
    -- Core's EmailAddress.canonical.
    address      text PRIMARY KEY CHECK (address = lower(address) AND length(address) <= 254),
    outcome      text NOT NULL CHECK (outcome IN ('found', 'not_found', 'failed')),
    source       text CHECK (source IN ('wkd', 'vks')),
    -- [{fingerprint, expiresAt}] of the keys found, in the order of their certificates.
    keys         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(keys) = 'array'),
    -- The found certificates, binary, one after another (a keyring), each with only the asked User ID.
    certificates bytea CHECK (length(certificates) <= 4194304),
    -- [{source, method, url, result, detail, retryAfter}], in the order the sources were asked.
    attempts     jsonb NOT NULL CHECK (jsonb_typeof(attempts) = 'array'),
    looked_up_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    CHECK ((outcome = 'found') = (source IS NOT NULL AND certificates IS NOT NULL AND jsonb_array_length(keys) > 0))
);
CREATE INDEX key_lookups_expires ON key_lookups (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON key_lookups TO palisade_keystore, palisade_admin;

-- An account may import a key a look-up found on one of our own domains: its source is then local.
ALTER TABLE account_keys DROP CONSTRAINT account_keys_source_check;
ALTER TABLE account_keys ADD CONSTRAINT account_keys_source_check CHECK (source IN ('upload', 'wkd', 'vks', 'local'));
