-- The physical limit: claim the next :batch due jobs with SKIP LOCKED, then complete them, on
-- Palisade's own `jobs` table and indexes. pgbench counts one transaction per batch.
-- Run with `pgbench -D batch=N -f claim-complete.sql`.
WITH next AS (
    SELECT id FROM jobs WHERE queue = 'bench' AND state = 'ready' AND run_at <= now()
    ORDER BY priority DESC, run_at, id LIMIT :batch FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET state = 'running', attempts = jobs.attempts + 1, lease_id = gen_random_uuid(),
                lease_owner = 'pgbench-' || :client_id, lease_expires_at = now() + interval '60 seconds'
FROM next WHERE jobs.id = next.id;
DELETE FROM jobs WHERE lease_owner = 'pgbench-' || :client_id;
