-- The transport-policy daemon's cache, shared by every instance (and so by every MTA asking them): per
-- destination domain, what MTA-STS (the last good policy, kept until it expires) and DANE were found to say.
-- Each half is a JSON document written by one kind of job (mta-sts.refresh, dane.refresh), so the two
-- never overwrite each other. A change is announced on palisade_transport, which keeps each instance's
-- memory copy in step.
CREATE TABLE transport_policies (
    domain        text PRIMARY KEY CHECK (domain = lower(domain) AND length(domain) <= 253),
    sts           jsonb NOT NULL,
    dane          jsonb NOT NULL,
    -- The earlier of the two halves' next checks, for the operator's view.
    next_check_at timestamptz NOT NULL,
    -- Approximately the last look-up (set when a look-up asks for a refresh): unused domains are pruned.
    used_at       timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transport_policies_used_at ON transport_policies (used_at);

CREATE FUNCTION transport_policies_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('palisade_transport', OLD.domain);
    ELSIF TG_OP = 'INSERT' OR NEW.sts IS DISTINCT FROM OLD.sts OR NEW.dane IS DISTINCT FROM OLD.dane THEN
        PERFORM pg_notify('palisade_transport', NEW.domain);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER transport_policies_notify AFTER INSERT OR UPDATE OR DELETE ON transport_policies
    FOR EACH ROW EXECUTE FUNCTION transport_policies_notify();

GRANT SELECT, INSERT, UPDATE, DELETE ON transport_policies TO palisade_transport;
GRANT SELECT ON transport_policies TO palisade_admin;
