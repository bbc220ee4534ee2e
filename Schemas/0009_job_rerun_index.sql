-- Completing a batch looks for rerun-marked jobs among its leases (0007): through this index, which is
-- empty unless a job is marked, that look costs nothing on the hot path.
CREATE INDEX jobs_rerun ON jobs (lease_id) WHERE rerun;
