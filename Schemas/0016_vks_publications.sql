-- Publishing a user's key at the validating key server, with their consent (the VKS publishes an address
-- only once its owner confirmed it from the e-mail the VKS sends). One row per address the user chose,
-- with the VKS's last word on it.
CREATE TABLE vks_publications (
    account_id   bigint NOT NULL REFERENCES accounts (id),
    fingerprint  text NOT NULL,
    address      text NOT NULL CHECK (address = lower(address) AND length(address) <= 254),
    -- The VKS's state: unpublished, pending (verification mail sent), published, revoked.
    state        text NOT NULL CHECK (state IN ('unpublished', 'pending', 'published', 'revoked')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, fingerprint, address),
    FOREIGN KEY (account_id, fingerprint) REFERENCES account_keys (account_id, fingerprint) ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE ON vks_publications TO palisade_keystore;
GRANT SELECT ON vks_publications TO palisade_admin;
