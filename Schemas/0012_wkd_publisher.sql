-- The WKD publisher (palisade-wkd): which custom domains use WKD as a service, and the ready-to-serve
-- body of every published address, recomputed by wkd.refresh jobs so that serving never parses OpenPGP.

-- Custom domains whose owner pointed openpgpkey.<domain> (or the domain) at us. Platform domains are
-- always served.
CREATE TABLE wkd_service_domains (
    domain_id  bigint PRIMARY KEY REFERENCES domains (id),
    enabled_at timestamptz NOT NULL DEFAULT now()
);

-- One row per published address: the certificate minimised to the address's User ID, binary.
CREATE TABLE wkd_entries (
    -- Core's EmailAddress.canonical.
    address       text PRIMARY KEY CHECK (address = lower(address) AND length(address) <= 254),
    -- A-label, lower case.
    domain        text NOT NULL CHECK (domain = lower(domain) AND length(domain) <= 253),
    -- z-base-32 SHA-1 of the local part as written with ASCII letters lower-cased (the draft's hash) …
    hash          text NOT NULL CHECK (hash ~ '^[ybndrfg8ejkmcpqxot1uwisza345h769]{32}$'),
    -- … and, for a non-ASCII local part, the one clients compute lower-casing every letter.
    unicode_hash  text CHECK (unicode_hash ~ '^[ybndrfg8ejkmcpqxot1uwisza345h769]{32}$'),
    fingerprint   text NOT NULL,
    body          bytea NOT NULL CHECK (length(body) BETWEEN 1 AND 1048576),
    -- A strong validator of the body (quoted, as sent in ETag).
    etag          text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX wkd_entries_hash ON wkd_entries (domain, hash);
CREATE INDEX wkd_entries_unicode_hash ON wkd_entries (domain, unicode_hash) WHERE unicode_hash IS NOT NULL;

-- Every publisher instance keeps the entries in memory: a change of an entry or of the served domains is
-- announced on palisade_wkd (payload: the address, or "domains").
CREATE FUNCTION wkd_entries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('palisade_wkd', coalesce(NEW.address, OLD.address));
    RETURN NULL;
END $$;
CREATE TRIGGER wkd_entries_notify AFTER INSERT OR UPDATE OR DELETE ON wkd_entries
    FOR EACH ROW EXECUTE FUNCTION wkd_entries_notify();

CREATE FUNCTION wkd_domains_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('palisade_wkd', 'domains');
    RETURN NULL;
END $$;
CREATE TRIGGER wkd_domains_notify AFTER INSERT OR DELETE ON domains
    FOR EACH STATEMENT EXECUTE FUNCTION wkd_domains_notify();
CREATE TRIGGER wkd_service_domains_notify AFTER INSERT OR DELETE ON wkd_service_domains
    FOR EACH STATEMENT EXECUTE FUNCTION wkd_domains_notify();

GRANT SELECT, INSERT, UPDATE, DELETE ON wkd_entries TO palisade_wkd;
GRANT SELECT ON wkd_service_domains, accounts TO palisade_wkd;
-- Operators turn the service on and off for a customer's domain (platformctl domains wkd …) and export.
GRANT SELECT, INSERT, DELETE ON wkd_service_domains TO palisade_admin;
GRANT SELECT ON wkd_entries TO palisade_admin;
