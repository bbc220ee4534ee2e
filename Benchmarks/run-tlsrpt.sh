#!/usr/bin/env bash
# TLS report intake and aggregation (`make bench-tlsrpt`), release build, against a throw-away cluster:
# REPORTS distinct gzipped reports about DOMAINS of our domains taken in by CALLERS at once (reports per
# second), then aggregated by tlsrpt.process jobs on WORKERS (aggregation time, reports per second).
#
#   REPORTS=10000 DOMAINS=100 CALLERS=8 WORKERS=8 Benchmarks/run-tlsrpt.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPORTS=${REPORTS:-10000}
DOMAINS=${DOMAINS:-100}
CALLERS=${CALLERS:-8}
WORKERS=${WORKERS:-8}
PG=Deploy/local/pg.sh

log=$(mktemp)
swift build -c release --product TLSReportBenchmark >"$log" 2>&1 || { grep -E "error" "$log" | head -20 >&2; exit 1; }
rm -f "$log"
bin=$(swift build -c release --show-bin-path)
cluster=$(mktemp -d /tmp/palisade-bench-pg.XXXXXX)
trap '$PG destroy "$cluster"' EXIT
port=$(( 57000 + RANDOM % 900 ))
admin=$($PG start "$cluster" "$port")
base=${admin%/postgres}
$PG database "$cluster" bench_tlsrpt >/dev/null
psql "$base/bench_tlsrpt" -qc "INSERT INTO domains (name, kind) SELECT 'd' || i || '.bench.example', 'platform' FROM generate_series(0, $DOMAINS - 1) i"
"$bin/TLSReportBenchmark" "postgresql://palisade_transport@127.0.0.1:$port/bench_tlsrpt" "$REPORTS" "$DOMAINS" "$CALLERS" "$WORKERS"
