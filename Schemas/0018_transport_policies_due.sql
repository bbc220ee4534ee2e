-- The transport daemon's sweep (transport.sweep) looks for domains whose refresh is due.
CREATE INDEX transport_policies_next_check ON transport_policies (next_check_at);
