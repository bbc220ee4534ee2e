-- Migrations from here on run as palisade_owner, which owns every object of the schema. palisade_admin
-- (platformctl db migrate) may become it (SET ROLE) and no service role may, so only palisade_admin (and the
-- database owner who bootstrapped the schema) can migrate. palisade_admin does not inherit palisade_owner's
-- rights (NOINHERIT): it holds them only while migrating, and its everyday grants stay those given to it.
-- Creating roles stays with the database owner: a migration that needs a new role must be applied by it.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'palisade_owner') THEN
        BEGIN
            CREATE ROLE palisade_owner NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
END
$$;
-- Roles belong to the whole cluster: another database's migration may change them at the same moment, which
-- fails one of the two ("tuple concurrently updated", or a duplicate membership) with the same outcome.
DO $$
BEGIN
    IF (SELECT rolinherit FROM pg_roles WHERE rolname = 'palisade_admin') THEN
        BEGIN
            ALTER ROLE palisade_admin NOINHERIT;
        EXCEPTION WHEN OTHERS THEN
            IF (SELECT rolinherit FROM pg_roles WHERE rolname = 'palisade_admin') THEN RAISE; END IF;
        END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_auth_members WHERE roleid = 'palisade_owner'::regrole AND member = 'palisade_admin'::regrole) THEN
        BEGIN
            GRANT palisade_owner TO palisade_admin;
        EXCEPTION WHEN OTHERS THEN
            IF NOT EXISTS (SELECT FROM pg_auth_members WHERE roleid = 'palisade_owner'::regrole AND member = 'palisade_admin'::regrole) THEN RAISE; END IF;
        END;
    END IF;
    -- Handing objects over needs membership of the new owner (a superuser has it anyway).
    IF NOT pg_has_role(current_user, 'palisade_owner', 'MEMBER') THEN
        EXECUTE format('GRANT palisade_owner TO %I', current_user);
    END IF;
END
$$;
GRANT USAGE, CREATE ON SCHEMA public TO palisade_owner;

DO $$
DECLARE
    object record;
BEGIN
    -- Tables, views and foreign tables; a table's identity and serial sequences go with it.
    FOR object IN
        SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relowner = current_user::regrole
    LOOP
        EXECUTE format('ALTER %s %I OWNER TO palisade_owner',
                       CASE object.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                       object.relname);
    END LOOP;
    -- Sequences of no table.
    FOR object IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner = current_user::regrole
    LOOP
        EXECUTE format('ALTER SEQUENCE %I OWNER TO palisade_owner', object.relname);
    END LOOP;
    FOR object IN
        SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') AND t.typowner = current_user::regrole
    LOOP
        EXECUTE format('ALTER TYPE %I OWNER TO palisade_owner', object.typname);
    END LOOP;
    -- Functions, the triggers' among them (SECURITY DEFINER ones then run as palisade_owner, the tables' owner).
    FOR object IN
        SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner = current_user::regrole
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO palisade_owner', object.signature);
    END LOOP;
END
$$;

-- platformctl db status runs as palisade_admin without becoming the owner.
GRANT SELECT ON schema_migrations TO palisade_admin;
