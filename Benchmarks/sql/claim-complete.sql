-- The physical limit: claim the next :batch due jobs with SKIP LOCKED, then complete them by ID, on
-- Palisade's own `jobs` table and indexes. pgbench counts one transaction per batch.
-- Run with `pgbench -D batch=N -f claim-complete.sql`.
WITH next AS (
    SELECT id FROM jobs WHERE queue = 'bench' AND state = 'ready' AND run_at <= now()
    ORDER BY priority DESC, run_at, id LIMIT :batch FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE jobs SET state = 'running', attempts = jobs.attempts + 1, lease_id = gen_random_uuid(),
                    lease_owner = 'pgbench', lease_expires_at = now() + interval '60 seconds'
    FROM next WHERE jobs.id = next.id
    RETURNING jobs.id
)
SELECT quote_literal(coalesce(array_agg(id), '{}')::text) AS ids FROM claimed \gset
DELETE FROM jobs WHERE id = ANY(:ids::bigint[]);
