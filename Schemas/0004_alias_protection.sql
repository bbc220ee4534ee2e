-- The platform's promise, kept by the database itself: from the cutoff on, an alias on a platform
-- domain is never deleted, renamed or moved to another account, and no address ever assigned is handed
-- to another account. A bug, a script or a hand-typed statement run as any role meets these triggers;
-- the alias manager checks the same rules first so users get a clear answer.

-- The cutoff (an ISO 8601 timestamp). It may be moved earlier, never later: moving it later would
-- reopen deletion.
INSERT INTO settings (key, value) VALUES ('aliases.deletion_cutoff', '2022-01-01T00:00:00Z')
    ON CONFLICT (key) DO NOTHING;

CREATE FUNCTION alias_deletion_cutoff() RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT value::timestamptz FROM settings WHERE key = 'aliases.deletion_cutoff'), '2022-01-01T00:00:00Z'::timestamptz)
$$;

CREATE FUNCTION settings_protect_alias_cutoff() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.key = 'aliases.deletion_cutoff' THEN
        RAISE EXCEPTION 'aliases.deletion_cutoff cannot be removed' USING ERRCODE = 'PA001';
    END IF;
    IF TG_OP = 'UPDATE' AND (OLD.key = 'aliases.deletion_cutoff' OR NEW.key = 'aliases.deletion_cutoff') THEN
        IF NEW.key <> OLD.key OR NEW.value::timestamptz > OLD.value::timestamptz THEN
            RAISE EXCEPTION 'aliases.deletion_cutoff may only move earlier (now %)', OLD.value USING ERRCODE = 'PA001';
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER settings_alias_cutoff BEFORE UPDATE OR DELETE ON settings
    FOR EACH ROW EXECUTE FUNCTION settings_protect_alias_cutoff();

-- TRUNCATE skips row triggers: refuse it outright on the tables these rules protect.
CREATE FUNCTION refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'TRUNCATE of % is refused: its rows are protected one by one', TG_TABLE_NAME USING ERRCODE = 'PA001';
END
$$;
CREATE TRIGGER settings_no_truncate BEFORE TRUNCATE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

-- Every address ever assigned, and to whom: never deleted, so an address cannot pass to someone else.
CREATE TABLE reserved_addresses (
    address     text PRIMARY KEY CHECK (address = lower(address) AND length(address) <= 254),
    account_id  bigint NOT NULL REFERENCES accounts (id),
    reserved_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE reserved_addresses IS 'Every address ever assigned, with its account; rows are never changed or removed.';
CREATE FUNCTION reserved_addresses_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'reserved addresses are kept for ever: % refused', TG_OP USING ERRCODE = 'PA001';
END
$$;
CREATE TRIGGER reserved_addresses_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON reserved_addresses
    FOR EACH STATEMENT EXECUTE FUNCTION reserved_addresses_append_only();

-- Runs as the table owner, so service roles need no write access to reserved_addresses.
CREATE FUNCTION addresses_reserve() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    holder bigint;
BEGIN
    SELECT account_id INTO holder FROM reserved_addresses WHERE address = NEW.address;
    IF holder IS NOT NULL AND holder <> NEW.account_id THEN
        RAISE EXCEPTION 'address % was assigned to another account and stays reserved', NEW.address
            USING ERRCODE = 'PA002';
    END IF;
    INSERT INTO reserved_addresses (address, account_id) VALUES (NEW.address, NEW.account_id) ON CONFLICT (address) DO NOTHING;
    RETURN NEW;
END
$$;
CREATE TRIGGER addresses_reserve BEFORE INSERT ON addresses
    FOR EACH ROW EXECUTE FUNCTION addresses_reserve();

CREATE FUNCTION addresses_protect() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    platform boolean;
BEGIN
    IF OLD.kind = 'primary' AND TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'primary address % can never be deleted', OLD.address USING ERRCODE = 'PA001';
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.address <> OLD.address OR NEW.account_id <> OLD.account_id) THEN
        RAISE EXCEPTION 'address % cannot be renamed or moved to another account: it stays with its account', OLD.address
            USING ERRCODE = 'PA001';
    END IF;
    SELECT kind = 'platform' INTO platform FROM domains WHERE id = OLD.domain_id;
    IF OLD.kind = 'alias' AND platform AND now() >= alias_deletion_cutoff() THEN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'alias_deletion_forbidden: alias % is on a platform domain and platform aliases cannot be deleted since %',
                OLD.address, alias_deletion_cutoff() USING ERRCODE = 'PA001';
        END IF;
        IF NEW.domain_id <> OLD.domain_id OR NEW.local_part <> OLD.local_part OR NEW.kind <> OLD.kind THEN
            RAISE EXCEPTION 'alias % is on a platform domain: it cannot be renamed or changed since %', OLD.address, alias_deletion_cutoff()
                USING ERRCODE = 'PA001';
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER addresses_protect BEFORE UPDATE OR DELETE ON addresses
    FOR EACH ROW EXECUTE FUNCTION addresses_protect();
CREATE TRIGGER addresses_no_truncate BEFORE TRUNCATE ON addresses
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();

GRANT SELECT ON reserved_addresses TO palisade_aliases, palisade_admin;
