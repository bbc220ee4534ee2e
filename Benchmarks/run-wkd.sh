#!/usr/bin/env bash
# WKD serving (`make bench-wkd`), release build: ADDRESSES published addresses (each with its own key, made
# once with pysequoia, imported and bound through the keystore, every entry computed by the publisher),
# then the HOT entries fetched round robin by the direct method at CONNECTIONS concurrent connections with
# wrk for SECONDS_PER_RUN seconds, from palisade-wkd and, in the same run, from nginx serving our static
# export of the same entries (the anchor). Prints requests per second, latency percentiles and the ratio.
#
#   ADDRESSES=10000 HOT=1000 CONNECTIONS=64 SECONDS_PER_RUN=10 ROUNDS=2 Benchmarks/run-wkd.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ADDRESSES=${ADDRESSES:-10000}
HOT=${HOT:-1000}
CONNECTIONS=${CONNECTIONS:-64}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
ROUNDS=${ROUNDS:-2}
PG=Deploy/local/pg.sh
command -v wrk >/dev/null || { echo "run-wkd.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }

log=$(mktemp)
for product in WKDBenchmark palisade-wkd; do
    swift build -c release --product "$product" >"$log" 2>&1 || { grep -E "error" "$log" | head -20 >&2; exit 1; }
done
rm -f "$log"
bin=$(swift build -c release --show-bin-path)
python=$(Benchmarks/openpgp/venv.sh)
keys=.local/bench-wkd-keys-$ADDRESSES
[ -s "$keys/bench$(( ADDRESSES - 1 )).pgp" ] || "$python" Benchmarks/openpgp/make-address-keys.py "$ADDRESSES" bench.example "$keys"

cluster=$(mktemp -d /tmp/palisade-bench-pg.XXXXXX)
work=$(mktemp -d /tmp/palisade-bench-wkd.XXXXXX)
chmod 755 "$work"
service_pid=
trap '[ -z "$service_pid" ] || kill "$service_pid" 2>/dev/null || true; [ -s "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true; $PG destroy "$cluster"; rm -rf "$work"' EXIT
port=$(( 57000 + RANDOM % 900 ))
admin=$($PG start "$cluster" "$port")
base=${admin%/postgres}
$PG database "$cluster" bench_wkd >/dev/null
url() { echo "postgresql://$1@127.0.0.1:$port/bench_wkd"; }
"$bin/WKDBenchmark" "$(url palisade)" "$(url palisade_keystore)" "$(url palisade_wkd)" "$keys" "$ADDRESSES" "$work/export" "$work/hashes"

# palisade-wkd on a loopback port.
wkd_port=$(( 58000 + RANDOM % 400 ))
PALISADE_DATABASE_URL="$(url palisade_wkd)" PALISADE_LOG_LEVEL=warning "$bin/palisade-wkd" --wkd-http-port "$wkd_port" >"$work/wkd.log" 2>&1 &
service_pid=$!
ready=
for _ in $(seq 1 150); do curl -fsS -o /dev/null "http://127.0.0.1:$wkd_port/healthz" 2>/dev/null && { ready=1; break; }; sleep 0.2; done
[ -n "$ready" ] || { echo "palisade-wkd did not start:" >&2; cat "$work/wkd.log" >&2; exit 1; }
# Its first reconciliation (enqueued at start, then hourly) recomputes all entries: measure serving after it.
start=$(date +%s)
until [ "$(psql "$(url palisade)" -qtAc "SELECT count(*) FROM jobs WHERE queue = 'wkd'")" = 0 ]; do sleep 0.5; done
echo "wkd first reconciliation in the service seconds=$(( $(date +%s) - start ))"

# nginx serving the static export (as README.md shows), one worker per core like the publisher's threads.
nginx_port=$(( wkd_port + 500 ))
mkdir -p "$work/nginx/tmp"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
daemon on;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    keepalive_requests 1000000;
    open_file_cache max=20000 inactive=60s;
    etag on;
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/export/\$host;
        location /.well-known/openpgpkey/ { default_type application/octet-stream; add_header Access-Control-Allow-Origin * always; }
    }
}
NGINX
nginx -q -t -c "$work/nginx/nginx.conf" -p "$work/nginx" -e "$work/nginx/error.log"
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -e "$work/nginx/error.log"
first=$(head -1 "$work/hashes")
for target in "palisade-wkd $wkd_port" "nginx $nginx_port"; do
    set -- $target
    curl -fsS -o /dev/null -H "Host: bench.example" "http://127.0.0.1:$2/.well-known/openpgpkey/hu/$first" || { echo "$1 does not serve $first" >&2; exit 1; }
done

# Alternating rounds; each prints one line, the medians decide.
run() { # name port
    out=$(wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" --latency -s Benchmarks/wkd-get.lua "http://127.0.0.1:$2" -- "$work/hashes" "$HOT")
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out"); p90=$(awk '$1 == "90%" { print $2 }' <<<"$out"); p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    bad=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<<"$out")
    echo "wkd serve server=$1 connections=$CONNECTIONS hot=$HOT requests_per_sec=$rps p50=$p50 p90=$p90 p99=$p99 non_2xx=${bad:-0}" >&2
    echo "$rps"
}
ours=(); theirs=()
for round in $(seq 1 "$ROUNDS"); do
    ours+=("$(run palisade-wkd "$wkd_port")")
    theirs+=("$(run nginx "$nginx_port")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ours_median=$(median "${ours[@]}"); theirs_median=$(median "${theirs[@]}")
awk -v o="$ours_median" -v t="$theirs_median" 'BEGIN { printf "wkd serve median palisade-wkd=%.0f nginx=%.0f ratio=%.2fx\n", o, t, o / t }'
