-- The failure-rate warning of a policy domain's day, said once: the transaction that processes a report and
-- finds the day over the threshold inserts here, and only the one whose insert lands logs it.
CREATE TABLE tlsrpt_alerts (
    policy_domain text NOT NULL,
    day           date NOT NULL,
    alerted_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (policy_domain, day)
);
GRANT SELECT, INSERT, DELETE ON tlsrpt_alerts TO palisade_transport;
GRANT SELECT ON tlsrpt_alerts TO palisade_admin;
