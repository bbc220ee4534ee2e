-- Palisade's shared tables: domains, accounts, their addresses, users' keys and which addresses they
-- are bound to, settings, and an append-only audit log. Later migrations add each service's own tables.

CREATE TABLE settings (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]*$'),
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE settings IS 'Platform-wide settings that the database itself must know (for example the alias deletion cutoff read by triggers).';

CREATE TABLE accounts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state      text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'closed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    closed_at  timestamptz,
    CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);

CREATE TYPE domain_kind AS ENUM ('platform', 'custom');

CREATE TABLE domains (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- A-label form, lower case, no trailing dot (Core's DomainName).
    name       text NOT NULL UNIQUE CHECK (name = lower(name) AND length(name) BETWEEN 3 AND 253 AND name !~ '\.$'),
    kind       domain_kind NOT NULL,
    -- The customer account that owns a custom domain; platform domains belong to nobody.
    account_id bigint REFERENCES accounts (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'platform') = (account_id IS NULL))
);

CREATE TYPE address_kind AS ENUM ('primary', 'alias');

CREATE TABLE addresses (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Core's EmailAddress.canonical: lower-case local part, A-label domain. Unique forever.
    address     text NOT NULL UNIQUE CHECK (address = lower(address) AND length(address) <= 254),
    -- The local part as the user wrote it, for display.
    local_part  text NOT NULL CHECK (length(local_part) BETWEEN 1 AND 64),
    domain_id   bigint NOT NULL REFERENCES domains (id),
    account_id  bigint NOT NULL REFERENCES accounts (id),
    kind        address_kind NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);
CREATE UNIQUE INDEX addresses_one_primary ON addresses (account_id) WHERE kind = 'primary';
CREATE INDEX addresses_account ON addresses (account_id);

CREATE TABLE keys (
    -- Upper-case hex: 40 digits for v4, 64 for v6 (Core's Fingerprint).
    fingerprint text PRIMARY KEY CHECK (fingerprint ~ '^([0-9A-F]{40}|[0-9A-F]{64})$'),
    version     smallint NOT NULL CHECK (version IN (4, 6)),
    account_id  bigint REFERENCES accounts (id),
    -- The canonicalised certificate, binary OpenPGP.
    certificate bytea NOT NULL CHECK (length(certificate) <= 1048576),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX keys_account ON keys (account_id);

-- Which of an account's addresses a key is bound to, through which exact User ID.
CREATE TABLE key_addresses (
    fingerprint text NOT NULL REFERENCES keys (fingerprint) ON DELETE CASCADE,
    address_id  bigint NOT NULL REFERENCES addresses (id),
    user_id     text NOT NULL CHECK (length(user_id) <= 4096),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (fingerprint, address_id)
);
CREATE INDEX key_addresses_address ON key_addresses (address_id);

-- Who did what, for operators and investigations. Rows are never changed or removed.
CREATE TABLE audit_log (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL CHECK (length(actor) <= 200),
    action  text NOT NULL CHECK (length(action) <= 200),
    subject text CHECK (length(subject) <= 1000),
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
