-- The VKS sync worker (palisade-vks-sync): what the validating key server said of each stored key, and
-- when it is asked next. The key's own status (valid, expired, revoked) stays in keys, computed from the
-- certificate after the VKS's copy is merged in; here is only what the VKS adds: whether it knows the
-- key, and when it last answered.
CREATE TABLE key_vks_checks (
    fingerprint   text PRIMARY KEY REFERENCES keys (fingerprint) ON DELETE CASCADE,
    -- At the last answer: the VKS served the key (true) or answered 404 (false: unknown to it, never "revoked").
    found         boolean,
    -- The last answer, and the last attempt (an answer or an error).
    checked_at    timestamptz,
    attempted_at  timestamptz,
    last_error    text CHECK (length(last_error) <= 2000),
    -- When the scheduler next queues a refresh.
    next_check_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX key_vks_checks_due ON key_vks_checks (next_check_at);

-- When an account last used the key (a look-up, a signature check): such keys are refreshed sooner.
ALTER TABLE keys ADD COLUMN last_used_at timestamptz;

GRANT SELECT, INSERT, UPDATE ON key_vks_checks TO palisade_vks, palisade_keystore;
GRANT SELECT ON key_vks_checks TO palisade_admin;
