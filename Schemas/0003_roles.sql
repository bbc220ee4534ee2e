-- One PostgreSQL role per service, each granted only what that service does. Roles can log in but have
-- no password here: operators set one (ALTER ROLE … PASSWORD) or map them with peer/cert authentication.
-- palisade_admin is for operators' tools (platformctl); migrations run as the database owner.

DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['palisade_keystore', 'palisade_wkd', 'palisade_vks', 'palisade_aliases',
                                     'palisade_transport', 'palisade_admin'] LOOP
        -- Roles belong to the whole cluster: another database's migration may create one at the same moment.
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN', role_name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
-- Only the owner creates objects (PostgreSQL 14 and older let every role create in public).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO palisade_keystore, palisade_wkd, palisade_vks, palisade_aliases, palisade_transport, palisade_admin', current_database()); END $$;
GRANT USAGE ON SCHEMA public TO palisade_keystore, palisade_wkd, palisade_vks, palisade_aliases, palisade_transport, palisade_admin;

-- Every service takes and hands over work and writes the audit log.
GRANT SELECT, INSERT, UPDATE, DELETE ON jobs TO palisade_keystore, palisade_wkd, palisade_vks, palisade_aliases, palisade_transport;
-- DELETE: every worker prunes finished jobs past jobs.historyRetention.
GRANT SELECT, INSERT, DELETE ON job_history TO palisade_keystore, palisade_wkd, palisade_vks, palisade_aliases, palisade_transport;
GRANT SELECT, INSERT, UPDATE ON job_schedules TO palisade_keystore, palisade_wkd, palisade_vks, palisade_aliases, palisade_transport;
GRANT INSERT ON audit_log TO palisade_keystore, palisade_wkd, palisade_vks, palisade_aliases, palisade_transport;
GRANT SELECT ON settings TO palisade_keystore, palisade_wkd, palisade_vks, palisade_aliases, palisade_transport;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO palisade_keystore, palisade_wkd, palisade_vks, palisade_aliases, palisade_transport;

-- keystore: users' keys and their bindings; reads who owns which address.
GRANT SELECT ON domains, accounts, addresses TO palisade_keystore;
GRANT SELECT, INSERT, UPDATE, DELETE ON keys, key_addresses TO palisade_keystore;

-- WKD publisher: reads keys and addresses to compute what it serves.
GRANT SELECT ON domains, addresses, keys, key_addresses TO palisade_wkd;

-- VKS sync: refreshes key status (expiry, revocation) from the key server.
GRANT SELECT ON addresses, key_addresses TO palisade_vks;
GRANT SELECT, UPDATE ON keys TO palisade_vks;

-- alias manager: accounts and their addresses (aliases on custom domains may be deleted; the alias
-- rules' own migration adds the trigger that refuses deleting platform-domain aliases).
GRANT SELECT, INSERT, UPDATE ON domains, accounts TO palisade_aliases;
GRANT SELECT, INSERT, UPDATE, DELETE ON addresses TO palisade_aliases;
GRANT SELECT ON keys, key_addresses TO palisade_aliases;

-- transport-policy: which domains are ours.
GRANT SELECT ON domains TO palisade_transport;

-- operators' CLI: read everything, manage jobs and settings; the audit log stays append-only.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO palisade_admin;
GRANT INSERT, UPDATE, DELETE ON jobs, job_history, job_schedules, settings TO palisade_admin;
GRANT INSERT ON audit_log TO palisade_admin;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO palisade_admin;
