-- What palisade-transport's DMARC milter decided, per day and per source address, author domain, disposition
-- and authentication results: the rows a DMARC aggregate report (RFC 7489 section 7.2) is made from. One row per
-- distinct combination, its count raised per message; pruned after transport.milter.aggregateRetention.
CREATE TABLE dmarc_aggregate (
    day            date NOT NULL,
    source_ip      inet NOT NULL,
    header_from    text NOT NULL,
    policy_domain  text NOT NULL,
    policy         text NOT NULL,
    disposition    text NOT NULL,
    dmarc          text NOT NULL,
    spf_domain     text NOT NULL,
    spf_result     text NOT NULL,
    -- Each signature as "d=<domain> s=<selector> <result>", sorted and joined by ", ".
    dkim           text NOT NULL,
    dkim_aligned   boolean NOT NULL,
    spf_aligned    boolean NOT NULL,
    messages       bigint NOT NULL DEFAULT 0,
    first_seen     timestamptz NOT NULL DEFAULT now(),
    last_seen      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, source_ip, header_from, policy_domain, disposition, dmarc, spf_domain, spf_result, dkim)
);
CREATE INDEX dmarc_aggregate_policy_domain ON dmarc_aggregate (policy_domain, day);
GRANT SELECT, INSERT, UPDATE, DELETE ON dmarc_aggregate TO palisade_transport;
GRANT SELECT ON dmarc_aggregate TO palisade_admin;
