-- SMTP TLS reports (RFC 8460) about our domains, received over HTTPS by palisade-transport or by mail
-- through `platformctl tlsrpt ingest`, and what tlsrpt.process jobs make of them.

-- Each report once: a report-id seen again from the same organisation is a duplicate (a reporter retrying, or
-- the same report sent to two rua). Per organisation because report-ids are not unique across reporters:
-- sys4's tlsrpt-reporter, for one, numbers them per day and domain, the same in every installation.
CREATE TABLE tlsrpt_reports (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id    text NOT NULL,
    organization text NOT NULL,
    contact_info text NOT NULL,
    date_start   timestamptz NOT NULL,
    date_end     timestamptz NOT NULL,
    -- https; mail-unverified (no DKIM verification yet: kept out of metrics and alerts); mail-verified.
    origin       text NOT NULL CHECK (origin IN ('https', 'mail-unverified', 'mail-verified')),
    -- For mail: From, Subject, Message-ID, TLS-Report-Domain, TLS-Report-Submitter, the DKIM d= claimed.
    envelope     jsonb,
    -- The report as RFC 8460 JSON, normalised by the parser that validated it.
    report       jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    UNIQUE (organization, report_id)
);
CREATE INDEX tlsrpt_reports_received_at ON tlsrpt_reports (received_at);
CREATE INDEX tlsrpt_reports_date_start ON tlsrpt_reports (date_start);

-- Sessions per UTC day, policy domain, policy type, reporting organisation and whether they count for alerts
-- (`alerting` is false for what came from unverified mail). Totals (`detail` false) are the reports' summaries:
-- result_type 'success' or 'failure'. Details (`detail` true) break failures down by result type and
-- receiving MX; RFC 8460 lets them overlap, so they are never summed into the failure total.
CREATE TABLE tlsrpt_daily (
    day           date NOT NULL,
    policy_domain text NOT NULL,
    policy_type   text NOT NULL,
    detail        boolean NOT NULL,
    result_type   text NOT NULL,
    receiving_mx  text NOT NULL,
    organization  text NOT NULL,
    alerting      boolean NOT NULL,
    sessions      bigint NOT NULL CHECK (sessions >= 0),
    PRIMARY KEY (day, policy_domain, policy_type, detail, result_type, receiving_mx, organization, alerting),
    CHECK (detail OR (result_type IN ('success', 'failure') AND receiving_mx = ''))
);
CREATE INDEX tlsrpt_daily_domain ON tlsrpt_daily (policy_domain, day);

-- The transport daemon takes reports over HTTPS and processes them; platformctl tlsrpt ingest (a Postfix
-- pipe) connects as palisade_transport too. Reports are deleted after tlsrpt.retention; aggregates stay.
GRANT SELECT, INSERT, UPDATE, DELETE ON tlsrpt_reports TO palisade_transport;
GRANT SELECT, INSERT, UPDATE ON tlsrpt_daily TO palisade_transport;
-- Operators read both and may feed a saved report mail in by hand.
GRANT SELECT, INSERT ON tlsrpt_reports TO palisade_admin;
GRANT SELECT ON tlsrpt_daily TO palisade_admin;
