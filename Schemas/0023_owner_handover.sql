-- What 0022 began: objects a superuser or the database owner creates in a later migration (applied as
-- themselves, so that a migration may still create roles) are handed to palisade_owner by the migrator
-- calling palisade_hand_over() in the same transaction; palisade_owner may pass on USAGE of the schema and
-- CONNECT to the database, as later migrations that add a role must (0003 and 0005 grant both); and this
-- migration fails if anything in the schema is not palisade_owner's.

CREATE FUNCTION palisade_hand_over() RETURNS void LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    object record;
BEGIN
    FOR object IN
        SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relowner = current_user::regrole
    LOOP
        EXECUTE format('ALTER %s %I OWNER TO palisade_owner',
                       CASE object.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                       object.relname);
    END LOOP;
    FOR object IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner = current_user::regrole
    LOOP
        EXECUTE format('ALTER SEQUENCE %I OWNER TO palisade_owner', object.relname);
    END LOOP;
    FOR object IN
        SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm') AND t.typowner = current_user::regrole
    LOOP
        EXECUTE format('ALTER TYPE %I OWNER TO palisade_owner', object.typname);
    END LOOP;
    FOR object IN
        SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner = current_user::regrole
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO palisade_owner', object.signature);
    END LOOP;
END
$$;
SELECT palisade_hand_over();

GRANT USAGE ON SCHEMA public TO palisade_owner WITH GRANT OPTION;
DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO palisade_owner WITH GRANT OPTION', current_database()); END $$;

DO $$
DECLARE
    stray text;
BEGIN
    SELECT string_agg(c.relname, ', ') INTO stray FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND c.relowner <> 'palisade_owner'::regrole;
    IF stray IS NOT NULL THEN
        RAISE EXCEPTION 'objects not owned by palisade_owner (hand them over, then migrate again): %', stray;
    END IF;
END
$$;
