#!/usr/bin/env bash
# Socketmap look-ups of cached answers (`make bench-transport`), release build: DOMAINS enforce policies
# cached in palisade-transport (through PostgreSQL, then its memory) and in postfix-mta-sts-resolver (its
# internal cache, uvloop; installed from PyPI into .local/transport-venv), both answering the same requests
# from the same client, one request at a time per connection as Postfix asks, over 1 and 16 connections.
# Prints look-ups per second and p50/p99 latency of each, and ours as a ratio of the peer's; beside them a
# floor, a server that does no work (Benchmarks/transport/floor.py): what this machine's loopback round trips
# and the client allow.
#
#   DOMAINS=1000 REQUESTS=50000 Benchmarks/run-transport.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DOMAINS=${DOMAINS:-1000}
REQUESTS=${REQUESTS:-50000}
PG=Deploy/local/pg.sh

log=$(mktemp)
for product in palisade-transport TransportBenchmark; do
    swift build -c release --product "$product" >"$log" 2>&1 || { grep -E "error" "$log" | head -20 >&2; exit 1; }
done
rm -f "$log"
bin=$(swift build -c release --show-bin-path)
venv=.local/transport-venv
if [ ! -x "$venv/bin/python" ]; then
    mkdir -p .local
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r Benchmarks/transport/requirements.txt
fi

cluster=$(mktemp -d /tmp/palisade-bench-pg.XXXXXX)
work=$(mktemp -d /tmp/palisade-bench-transport.XXXXXX)
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null; $PG destroy "$cluster"; rm -rf "$work"' EXIT
port=$(( 57000 + RANDOM % 900 ))
admin=$($PG start "$cluster" "$port")
base=${admin%/postgres}
$PG database "$cluster" bench_transport >/dev/null
"$bin/TransportBenchmark" prefill "postgresql://palisade_transport@127.0.0.1:$port/bench_transport" "$DOMAINS"

ours=$(( 18400 + RANDOM % 500 ))
peer=$(( ours + 1 ))
floor=$(( ours + 2 ))
PALISADE_DATABASE_URL="postgresql://palisade_transport@127.0.0.1:$port/bench_transport" \
    "$bin/palisade-transport" --transport-socketmap-port "$ours" --transport-http-port 0 --log-level warning >"$work/ours.log" 2>&1 &
pids+=($!)
"$venv/bin/python" Benchmarks/transport/peer.py "$peer" "$DOMAINS" >"$work/peer.log" 2>&1 &
pids+=($!)
python3 Benchmarks/transport/floor.py "$floor" >"$work/floor.log" 2>&1 &
pids+=($!)
for p in "$ours" "$peer" "$floor"; do
    for _ in $(seq 1 200); do ss -Hltn "sport = :$p" | grep -q . && break; sleep 0.05; done
    ss -Hltn "sport = :$p" | grep -q . || { echo "nothing listens on $p:" >&2; cat "$work"/*.log >&2; exit 1; }
done
echo "same answer from both for d1.bench.example:"
echo "  palisade-transport:       $(/usr/sbin/postmap -q d1.bench.example "socketmap:inet:127.0.0.1:$ours:postfix")"
echo "  postfix-mta-sts-resolver: $(/usr/sbin/postmap -q d1.bench.example "socketmap:inet:127.0.0.1:$peer:postfix")"
# A first pass over every domain: ours reads each from PostgreSQL into memory once.
"$bin/TransportBenchmark" measure "$ours" postfix "$DOMAINS" 1 "$DOMAINS" >/dev/null
"$bin/TransportBenchmark" measure "$peer" postfix "$DOMAINS" 1 "$DOMAINS" >/dev/null
for connections in 1 16; do
    per=$(( REQUESTS / connections ))
    ours_line=$("$bin/TransportBenchmark" measure "$ours" postfix "$DOMAINS" "$connections" "$per")
    peer_line=$("$bin/TransportBenchmark" measure "$peer" postfix "$DOMAINS" "$connections" "$per")
    floor_line=$("$bin/TransportBenchmark" measure "$floor" postfix "$DOMAINS" "$connections" "$per")
    echo "palisade-transport        $ours_line"
    echo "postfix-mta-sts-resolver  $peer_line"
    echo "floor (no work at all)    $floor_line"
    rate() { sed -E 's/.*lookups_per_second=([0-9]+).*/\1/' <<<"$1"; }
    echo "  ratio at $connections connection(s): $(awk -v a="$(rate "$ours_line")" -v b="$(rate "$peer_line")" 'BEGIN { printf "%.1f", a / b }')x"
done
