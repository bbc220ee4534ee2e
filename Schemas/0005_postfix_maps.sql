-- What Postfix reads straight from PostgreSQL (Deploy/postfix/*.cf): where mail for an address goes,
-- and which login may send as it. Postfix connects as palisade_postfix, which can read these two views
-- (through the two functions below) and nothing else. A disabled address, or one of a closed account, is in neither: it stops receiving
-- and cannot be used as a sender.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'palisade_postfix') THEN
        BEGIN
            CREATE ROLE palisade_postfix LOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;

-- virtual_alias_maps: an enabled address → its account's primary address (the mailbox).
CREATE VIEW postfix_virtual_aliases AS
    SELECT a.address, p.address AS destination
    FROM addresses a
    JOIN accounts c ON c.id = a.account_id AND c.state = 'active'
    JOIN addresses p ON p.account_id = a.account_id AND p.kind = 'primary' AND p.enabled
    WHERE a.enabled;

-- smtpd_sender_login_maps: an enabled address → the login allowed to send as it (the primary address,
-- which is the account's login name).
CREATE VIEW postfix_sender_logins AS
    SELECT address, destination AS login FROM postfix_virtual_aliases;

-- Postfix sends each look-up as a plain query, which PostgreSQL plans anew every time; planning the
-- three-way join cost more than running it. These functions keep their plan for the connection's life
-- (PL/pgSQL caches it), so a look-up is planned once per Postfix connection. No row: not found.
CREATE FUNCTION postfix_alias_destination(wanted text) RETURNS SETOF text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT destination FROM postfix_virtual_aliases WHERE address = lower(wanted);
END
$$;
CREATE FUNCTION postfix_sender_login(wanted text) RETURNS SETOF text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT login FROM postfix_sender_logins WHERE address = lower(wanted);
END
$$;
REVOKE ALL ON FUNCTION postfix_alias_destination(text), postfix_sender_login(text) FROM PUBLIC;

DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO palisade_postfix', current_database()); END $$;
GRANT USAGE ON SCHEMA public TO palisade_postfix;
GRANT SELECT ON postfix_virtual_aliases, postfix_sender_logins TO palisade_postfix;
GRANT EXECUTE ON FUNCTION postfix_alias_destination(text), postfix_sender_login(text) TO palisade_postfix;
