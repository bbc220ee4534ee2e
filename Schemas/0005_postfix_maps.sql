-- What Postfix reads straight from PostgreSQL (Deploy/postfix/*.cf): where mail for an address goes,
-- and which login may send as it. Postfix connects as palisade_postfix, which can read these two views
-- and nothing else. A disabled address, or one of a closed account, is in neither: it stops receiving
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

DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO palisade_postfix', current_database()); END $$;
GRANT USAGE ON SCHEMA public TO palisade_postfix;
GRANT SELECT ON postfix_virtual_aliases, postfix_sender_logins TO palisade_postfix;
