#!/usr/bin/env bash
# Certificate imports per second (`make bench-keystore`), release build: the 10,000-certificate keyring of
# the OpenPGP benchmark (made once with pysequoia), each certificate uploaded on its own through
# AccountKeystore into 1,000 accounts, with 1 and 4 concurrent callers, each on a fresh database: a first
# pass (every certificate new) and a second (every one merged with the stored copy and found unchanged).
# Beside it, the peer: `gpg --import` of the same keyring into an empty keyring.
#
# Then key look-ups (GET /v1/lookup): ADDRESSES addresses whose keys (made once with pysequoia) a WKD host of
# the test world serves, looked up once (WKD over HTTPS), then answered from the PostgreSQL cache
# LOOKUPS times by 1 and by 32 callers, in-process (KeyLookup) and through the running palisade-keystore
# with wrk (1 and 32 connections). The floor beside them: pgbench running the cache's one SELECT.
#
#   CERTS=10000 ACCOUNTS=1000 ADDRESSES=200 LOOKUPS=50000 SECONDS_PER_RUN=10 Benchmarks/run-keystore.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CERTS=${CERTS:-10000}
ACCOUNTS=${ACCOUNTS:-1000}
ADDRESSES=${ADDRESSES:-200}
LOOKUPS=${LOOKUPS:-50000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
PG=Deploy/local/pg.sh
command -v wrk >/dev/null || { echo "run-keystore.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }

log=$(mktemp)
for product in KeystoreBenchmark LookupBenchmark palisade-keystore; do
    swift build -c release --product "$product" >"$log" 2>&1 || { grep -E "error" "$log" | head -20 >&2; exit 1; }
done
rm -f "$log"
python=$(Benchmarks/openpgp/venv.sh)
keyring=.local/bench-keyring-$CERTS.pgp
[ -s "$keyring" ] || "$python" Benchmarks/openpgp/make-keyring.py "$CERTS" "$keyring"
bin=$(swift build -c release --show-bin-path)

address_keys=.local/bench-address-keys-$ADDRESSES
[ -s "$address_keys/bench$(( ADDRESSES - 1 )).pgp" ] || "$python" Benchmarks/openpgp/make-address-keys.py "$ADDRESSES" wkd-direct.secure.palisade.example "$address_keys"

cluster=$(mktemp -d /tmp/palisade-bench-pg.XXXXXX)
gnupg=$(mktemp -d /tmp/palisade-bench-gpg.XXXXXX)
world=$(mktemp -d /tmp/palisade-bench-world.XXXXXX)
service_pid=
trap '[ -z "$service_pid" ] || kill "$service_pid" 2>/dev/null || true; $PG destroy "$cluster"; Deploy/local/world.sh destroy "$world"; gpgconf --homedir "$gnupg" --kill all >/dev/null 2>&1 || true; rm -rf "$gnupg"' EXIT
port=$(( 57000 + RANDOM % 900 ))
admin=$($PG start "$cluster" "$port")
base=${admin%/postgres}
echo "== keyring: $keyring ($CERTS certificates, $(du -h "$keyring" | cut -f1))"
for concurrency in 1 4; do
    db=bench_keystore_$concurrency
    $PG database "$cluster" $db >/dev/null
    psql "$base/$db" -qc "INSERT INTO accounts SELECT FROM generate_series(1, $ACCOUNTS)"
    "$bin/KeystoreBenchmark" "postgresql://palisade_keystore@127.0.0.1:$port/$db" "$keyring" "$ACCOUNTS" "$concurrency"
done

chmod 700 "$gnupg"
start=$(date +%s%N)
gpg --homedir "$gnupg" --batch --quiet --import "$keyring" 2>/dev/null || true
end=$(date +%s%N)
imported=$(gpg --homedir "$gnupg" --batch --with-colons --list-keys 2>/dev/null | grep -c '^pub:' || true)
awk -v n="$imported" -v s="$start" -v e="$end" 'BEGIN { printf "gpg import certificates=%d seconds=%.2f imports_per_sec=%.0f\n", n, (e - s) / 1e9, n / ((e - s) / 1e9) }'

# Key look-ups.
Deploy/local/world.sh start "$world" >/dev/null
export PALISADE_TEST_WORLD=$world
db=bench_lookups
$PG database "$cluster" $db >/dev/null
"$bin/LookupBenchmark" "postgresql://palisade_keystore@127.0.0.1:$port/$db" "$address_keys" "$ADDRESSES" "$LOOKUPS"

# The same cached answers through the service, as the webmail asks for them.
. "$world/world.env"
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
http_port=$(( 58000 + RANDOM % 900 ))
stubs=$(tr ',' '\n' <<<"$PALISADE_TEST_DNS_STUBS" | sed 's/.*/"&"/' | paste -sd, -)
cat > "$world/keystore.yaml" <<YAML
database: { url: "postgresql://palisade_keystore@127.0.0.1:$port/$db", maxConnections: 32 }
log: { level: warning }
dns: { trustAnchorFiles: ["$PALISADE_TEST_DNS_ANCHOR"], stubZones: [$stubs] }
http: { caFile: "$PALISADE_TEST_HTTPS_CA" }
discovery: { vks: { url: "https://keys.secure.palisade.example:$PALISADE_TEST_HTTPS_PORT" }, wkd: { port: $PALISADE_TEST_HTTPS_PORT }, allowPrivateAddresses: true }
keystore: { http: { port: $http_port } }
YAML
PALISADE_KEYSTORE_API_TOKENS="bench:$token" "$bin/palisade-keystore" --config "$world/keystore.yaml" >"$world/keystore.log" 2>&1 &
service_pid=$!
ready=
for _ in $(seq 1 150); do curl -fsS -o /dev/null "http://127.0.0.1:$http_port/healthz" 2>/dev/null && { ready=1; break; }; sleep 0.2; done
[ -n "$ready" ] || { echo "palisade-keystore did not start:" >&2; cat "$world/keystore.log" >&2; exit 1; }
url="http://127.0.0.1:$http_port/v1/lookup?email=bench0%40wkd-direct.secure.palisade.example"
curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$url"
for connections in 1 32; do
    threads=$(( connections < 2 ? 1 : 2 ))
    out=$(wrk -t "$threads" -c "$connections" -d "${SECONDS_PER_RUN}s" -H "Authorization: Bearer $token" "$url")
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    bad=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<<"$out")
    echo "lookup http cached connections=$connections lookups_per_sec=$rps non_2xx=${bad:-0}"
done

# The floor: the cache's one SELECT (what a cached answer costs PostgreSQL), from pgbench.
cat > "$world/cached.sql" <<SQL
\set i random(0, $(( ADDRESSES - 1 )))
SELECT EXISTS (SELECT 1 FROM domains WHERE name = 'wkd-direct.secure.palisade.example') AS own, l.outcome, l.source, l.keys::text, l.certificates, l.attempts::text, l.looked_up_at, l.expires_at FROM (SELECT 1) AS one LEFT JOIN key_lookups l ON l.address = 'bench' || :i || '@wkd-direct.secure.palisade.example';
SQL
for clients in 1 32; do
    tps=$(pgbench -n -M prepared -c "$clients" -j "$(( clients < 2 ? 1 : 2 ))" -T "$SECONDS_PER_RUN" -f "$world/cached.sql" \
          "postgresql://palisade_keystore@127.0.0.1:$port/$db" 2>/dev/null | awk '/^tps/ { printf "%.0f", $3 }')
    echo "lookup sql floor clients=$clients selects_per_sec=$tps"
done
