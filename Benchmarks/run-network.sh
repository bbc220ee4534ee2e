#!/usr/bin/env bash
# The network benchmark (`make bench-network`): DNS look-ups and HTTPS fetches per second against the
# test world on loopback, with dig and curl run in the same loops beside Palisade:
#   - dig -f (one process, queries in sequence) against the world's unbound daemon, configured like
#     Palisade's resolver (same stub zones, same trust anchor, validating): the same work, done by unbound;
#   - curl -K (one process, connection reused) in sequence, and with --parallel --parallel-max 32.
#
#   LOOKUPS=5000 FETCHES=2000 Benchmarks/run-network.sh
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
cd "$(dirname "$0")/.."
LOOKUPS=${LOOKUPS:-5000}
FETCHES=${FETCHES:-2000}
WORLD=Deploy/local/world.sh

swift build -c release --product NetworkBenchmark >/dev/null
world=$(mktemp -d /tmp/palisade-bench-world.XXXXXX)
work=$(mktemp -d /tmp/palisade-bench-net.XXXXXX)
cleanup() {
    $WORLD destroy "$world"
    rm -rf "$work"
}
trap cleanup EXIT
$WORLD start "$world" >/dev/null
# shellcheck disable=SC1091
source "$world/world.env"

echo "== Palisade (release build): DNS via libunbound, HTTPS via libcurl"
.build/release/NetworkBenchmark "$world" "$LOOKUPS" "$FETCHES"

# rate COUNT START_NS END_NS: operations per second.
rate() { awk -v n="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.0f", n / ((e - s) / 1e9) }'; }

echo "== unbound $(unbound -V | head -1 | awk '{print $2}') daemon of the test world (same stubs and anchor, validating), queried by dig -f in sequence"
port=${PALISADE_TEST_DNS_FORWARDER#*@}
dig -p "$port" @127.0.0.1 +short long.secure.palisade.example TXT >/dev/null
n=$(( LOOKUPS < 5000 ? LOOKUPS : 5000 ))
for i in $(seq 1 "$n"); do echo "b$i.bench.secure.palisade.example TXT"; done > "$work/uncached.txt"
for i in $(seq 1 "$LOOKUPS"); do echo "long.secure.palisade.example TXT"; done > "$work/cached.txt"
start=$(date +%s%N); dig -p "$port" @127.0.0.1 +dnssec +noall +answer -f "$work/uncached.txt" > "$work/dig.out"; end=$(date +%s%N)
[ "$(grep -c 'RRSIG' "$work/dig.out")" -ge "$n" ] || { echo "dig: unexpected answers" >&2; exit 1; }
grep -q ' ad;\|flags:.* ad' <(dig -p "$port" @127.0.0.1 +dnssec b1.bench.secure.palisade.example TXT) || { echo "unbound did not validate" >&2; exit 1; }
echo "dns dig-unbound uncached concurrency=1 lookups=$n lookups_per_sec=$(rate "$n" "$start" "$end")"
start=$(date +%s%N); dig -p "$port" @127.0.0.1 +noall +answer -f "$work/cached.txt" > /dev/null; end=$(date +%s%N)
echo "dns dig-unbound cached concurrency=1 lookups=$LOOKUPS lookups_per_sec=$(rate "$LOOKUPS" "$start" "$end")"

echo "== curl $(curl --version | head -1 | awk '{print $2}') -K: one process, connection reused"
host=www.secure.palisade.example
for _ in $(seq 1 "$FETCHES"); do echo "url = \"https://$host:$PALISADE_TEST_HTTPS_PORT/small.txt\""; echo "output = /dev/null"; done > "$work/urls.txt"
for concurrency in 1 32; do
    parallel=()
    [ "$concurrency" -gt 1 ] && parallel=(--parallel --parallel-max "$concurrency")
    start=$(date +%s%N)
    curl -sf --no-progress-meter --http2 --cacert "$PALISADE_TEST_HTTPS_CA" --resolve "$host:$PALISADE_TEST_HTTPS_PORT:127.0.0.1" "${parallel[@]}" -K "$work/urls.txt"
    end=$(date +%s%N)
    echo "https curl concurrency=$concurrency fetches=$FETCHES fetches_per_sec=$(rate "$FETCHES" "$start" "$end")"
done
