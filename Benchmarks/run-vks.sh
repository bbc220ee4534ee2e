#!/usr/bin/env bash
# VKS refreshes (`make bench-vks`), release build: KEYS keys (made once with pysequoia) imported through
# the keystore; a VKS behind the test world's nginx (HTTPS) answering each by fingerprint after LATENCY_MS;
# every key due at once, refreshed by the VKS sync worker's handlers at CONCURRENCY (refreshes per second),
# then the same burst under the rate limit RATE_PER_MINUTE for LIMITED_SECONDS (what the VKS received per
# second, at most and on average).
#
#   KEYS=10000 CONCURRENCY=8 LATENCY_MS=20 RATE_PER_MINUTE=300 LIMITED_SECONDS=20 Benchmarks/run-vks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${KEYS:-10000}
CONCURRENCY=${CONCURRENCY:-8}
LATENCY_MS=${LATENCY_MS:-20}
RATE_PER_MINUTE=${RATE_PER_MINUTE:-300}
LIMITED_SECONDS=${LIMITED_SECONDS:-20}
PG=Deploy/local/pg.sh

log=$(mktemp)
swift build -c release --product VKSBenchmark >"$log" 2>&1 || { grep -E "error" "$log" | head -20 >&2; exit 1; }
rm -f "$log"
bin=$(swift build -c release --show-bin-path)
python=$(Benchmarks/openpgp/venv.sh)
keys=.local/bench-wkd-keys-$KEYS
[ -s "$keys/bench$(( KEYS - 1 )).pgp" ] || "$python" Benchmarks/openpgp/make-address-keys.py "$KEYS" bench.example "$keys"

cluster=$(mktemp -d /tmp/palisade-bench-pg.XXXXXX)
world=$(mktemp -d /tmp/palisade-bench-world.XXXXXX)
trap '$PG destroy "$cluster"; Deploy/local/world.sh destroy "$world"' EXIT
port=$(( 57000 + RANDOM % 900 ))
admin=$($PG start "$cluster" "$port")
base=${admin%/postgres}
$PG database "$cluster" bench_vks >/dev/null
psql "$base/bench_vks" -qc "INSERT INTO accounts DEFAULT VALUES"
Deploy/local/world.sh start "$world" >/dev/null
PALISADE_TEST_WORLD=$world "$bin/VKSBenchmark" "postgresql://palisade_keystore@127.0.0.1:$port/bench_vks" \
    "postgresql://palisade_vks@127.0.0.1:$port/bench_vks" "$keys" "$KEYS" "$CONCURRENCY" "$LATENCY_MS" "$RATE_PER_MINUTE" "$LIMITED_SECONDS"
