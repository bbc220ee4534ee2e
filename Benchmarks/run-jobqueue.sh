#!/usr/bin/env bash
# The job-queue benchmark (`make bench`): Palisade's queue against the physical limit on this machine
# (a plain-SQL SKIP LOCKED claim-and-complete loop driven by pgbench, single-row and 100-row batches)
# and against pgqueuer, all on one throw-away PostgreSQL cluster in one run. Prints figures and ratios.
#
#   JOBS=100000 ROUNDS=3 Benchmarks/run-jobqueue.sh
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-100000}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-"1 4"}
PG=Deploy/local/pg.sh

swift build -c release --product JobQueueBenchmark >/dev/null
venv=.local/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    mkdir -p .local
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r Benchmarks/pgqueuer/requirements.txt
fi

cluster=$(mktemp -d /tmp/palisade-bench-pg.XXXXXX)
trap '$PG destroy "$cluster"' EXIT
admin=$($PG start "$cluster" $(( 57000 + RANDOM % 900 )))
base=${admin%/postgres}
results=$(mktemp)

$PG database "$cluster" bench_sql >/dev/null
pgbench=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/pgbench

# sql_limit BATCH CLIENTS: the plain-SQL claim-and-complete loop over JOBS fresh jobs.
sql_limit() {
    local batch=$1 clients=$2 tps left
    psql "$base/bench_sql" -qc "TRUNCATE jobs" -c "INSERT INTO jobs (queue, kind) SELECT 'bench', 'noop' FROM generate_series(1, $JOBS)" -c "VACUUM ANALYZE jobs"
    tps=$("$pgbench" -n -c "$clients" -j "$clients" -t $(( JOBS / batch / clients )) -D batch="$batch" -f Benchmarks/sql/claim-complete.sql "$base/bench_sql" 2>&1 \
          | awk '/^tps = / { print $3; exit }')
    left=$(psql "$base/bench_sql" -qtAc "SELECT count(*) FROM jobs")
    echo "sqllimit batch=$batch clients=$clients jobs=$JOBS left=$left jobs_per_sec=$(awk -v t="$tps" -v b="$batch" 'BEGIN { printf "%.0f", t * b }')" | tee -a "$results"
}

# This machine's speed drifts over minutes, so Palisade and the batched limit are measured in
# alternating rounds and compared by their medians.
for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round: Palisade (release build; one JobWorker per worker, batch 100, concurrency 200)"
    .build/release/JobQueueBenchmark "$admin" "$JOBS" "$(echo $WORKERS | tr ' ' ,)" 100 | tee -a "$results"
    echo "== round $round: physical limit, pgbench running plain SQL on the same jobs table, 100-row batches"
    for clients in $WORKERS; do sql_limit 100 "$clients"; done
done
echo "== physical limit, single-row batches (once: it is slow)"
for clients in $WORKERS; do sql_limit 1 "$clients"; done

echo "== pgqueuer $(grep pgqueuer Benchmarks/pgqueuer/requirements.txt) (batch 100)"
psql "$admin" -qc "CREATE DATABASE bench_pgqueuer"
for workers in $WORKERS; do
    "$venv/bin/python" Benchmarks/pgqueuer/bench.py --dsn "$base/bench_pgqueuer" --jobs "$JOBS" --workers "$workers" --batch-size 100 \
        | sed 's/^pgqueuer workers/pgqueuer drain workers/' | tee -a "$results"
done

echo "== summary"
python3 - "$results" <<'PY'
import re, statistics, sys
rows = [dict(re.findall(r"(\w+)=([\d.]+)", line), name=line.split()[0]) for line in open(sys.argv[1]) if "jobs_per_sec" in line]
def rate(name, **match):
    values = [float(r["jobs_per_sec"]) for r in rows
              if r["name"] == name and all(r.get(k) == str(v) for k, v in match.items())]
    return statistics.median(values), len(values)
for workers in sorted({r["workers"] for r in rows if r["name"] == "palisade" and "claims" in r}, key=int):
    (ours, n), (batched, _) = rate("palisade", workers=workers, batch=100), rate("sqllimit", batch=100, clients=workers)
    (single, _), (pgq, _) = rate("sqllimit", batch=1, clients=workers), rate("pgqueuer", workers=workers)
    print(f"workers={workers} (medians of {n} rounds): palisade {ours:,.0f} jobs/s = {ours / batched:.2f}x the 100-row SQL limit ({batched:,.0f}), "
          f"{ours / single:.2f}x the single-row SQL limit ({single:,.0f}), {ours / pgq:.2f}x pgqueuer ({pgq:,.0f})")
PY
