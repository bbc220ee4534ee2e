-- The keystore (palisade-keystore): certificates are stored once per fingerprint in `keys`, merged from
-- every copy that arrived; each account's keystore is the set of keys it holds (`account_keys`), with
-- where each came from; an account's own secret keys are kept exactly as its client encrypted them.

-- Accounts hold keys through account_keys: the owner column of 0001 said "one account per key", which
-- is wrong for public keys (many accounts keep a correspondent's key).
ALTER TABLE keys DROP COLUMN account_id;
ALTER TABLE keys ADD COLUMN status text NOT NULL DEFAULT 'valid'
    CHECK (status IN ('valid', 'invalid', 'not_yet_valid', 'expired', 'revoked'));
ALTER TABLE keys ADD COLUMN has_user_id boolean NOT NULL DEFAULT true;

CREATE TABLE account_keys (
    account_id  bigint NOT NULL REFERENCES accounts (id),
    fingerprint text NOT NULL REFERENCES keys (fingerprint) ON DELETE CASCADE,
    -- How it arrived: upload (the account's own import), wkd, vks.
    source      text NOT NULL CHECK (source IN ('upload', 'wkd', 'vks')),
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, fingerprint)
);
CREATE INDEX account_keys_fingerprint ON account_keys (fingerprint);

-- An account's own secret key, exactly as its client encrypted it (S2K-protected secret key packets,
-- binary). Never decrypted here; handed back only to its account; gone with the account's key.
CREATE TABLE secret_keys (
    account_id  bigint NOT NULL,
    fingerprint text NOT NULL,
    packets     bytea NOT NULL CHECK (length(packets) <= 1048576),
    stored_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, fingerprint),
    FOREIGN KEY (account_id, fingerprint) REFERENCES account_keys (account_id, fingerprint) ON DELETE CASCADE
);

-- One published key per address: binding another replaces it.
CREATE UNIQUE INDEX key_addresses_one_per_address ON key_addresses (address_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON account_keys, secret_keys TO palisade_keystore;
-- No other role reads secret_keys, operators included.
GRANT SELECT ON account_keys TO palisade_wkd, palisade_vks, palisade_admin;

-- Operators manage keystores with platformctl keys … under the same rules.
GRANT INSERT, UPDATE, DELETE ON keys, key_addresses, account_keys TO palisade_admin;
