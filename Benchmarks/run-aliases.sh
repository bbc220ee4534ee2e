#!/usr/bin/env bash
# Alias creations per second (`make bench-aliases`), release build:
#   - through AliasDirectory in-process (the code behind the API and platformctl), 1 and 4 callers;
#   - through the running palisade-aliases HTTP API, driven by wrk, 1 and 4 connections;
#   - the anchor: the statements of one creation as the service sends them (account lock and domain,
#     the checks, the insert with its triggers, the wkd.refresh job, the audit row, in a transaction), sent
#     by pgbench as plain SQL, 1 and 4 clients: the database's cost without Swift, libpq wrapper or HTTP.
#
#   ACCOUNTS=1000 CREATIONS=5000 SECONDS_PER_RUN=10 Benchmarks/run-aliases.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS=${ACCOUNTS:-1000}
CREATIONS=${CREATIONS:-5000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
PG=Deploy/local/pg.sh
command -v wrk >/dev/null || { echo "run-aliases.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }

build() {
    local log
    log=$(mktemp)
    swift build -c release --product "$1" >"$log" 2>&1 || { grep -E "error" "$log" | head -20 >&2; rm -f "$log"; exit 1; }
    rm -f "$log"
}
build AliasBenchmark
build palisade-aliases
bin=$(swift build -c release --show-bin-path)

cluster=$(mktemp -d /tmp/palisade-bench-pg.XXXXXX)
work=$(mktemp -d /tmp/palisade-bench-aliases.XXXXXX)
service_pid=
cleanup() {
    [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null || true
    $PG destroy "$cluster"
    rm -rf "$work"
}
trap cleanup EXIT
port=$(( 57000 + RANDOM % 900 ))
admin=$($PG start "$cluster" "$port")
base=${admin%/postgres}
$PG database "$cluster" bench_aliases >/dev/null
psql "$base/bench_aliases" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO domains (name, kind) VALUES ('mail.example', 'platform');
INSERT INTO accounts SELECT FROM generate_series(1, $ACCOUNTS);
INSERT INTO addresses (address, local_part, domain_id, account_id, kind)
    SELECT 'user' || id || '@mail.example', 'user' || id, 1, id, 'primary' FROM accounts;
ANALYZE;
SQL
service_url="postgresql://palisade_aliases@127.0.0.1:$port/bench_aliases"
count() { psql "$base/bench_aliases" -qtAc "SELECT count(*) FROM addresses WHERE kind = 'alias' AND address LIKE '$1%'"; }

"$bin/AliasBenchmark" "$service_url" "$ACCOUNTS" "$CREATIONS" 1,4
[ "$(count lib)" = $(( CREATIONS * 2 )) ] || { echo "library run: $(count lib) aliases, expected $(( CREATIONS * 2 ))" >&2; exit 1; }

token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
http_port=$(( 58000 + RANDOM % 900 ))
PALISADE_DATABASE_URL="$service_url" PALISADE_ALIASES_API_TOKENS="bench:$token" PALISADE_ALIASES_MAX_PER_ACCOUNT=100000 \
    PALISADE_LOG_LEVEL=warning "$bin/palisade-aliases" --aliases-http-port "$http_port" >"$work/service.log" 2>&1 &
service_pid=$!
ready=
for _ in $(seq 1 150); do curl -fsS -o /dev/null "http://127.0.0.1:$http_port/healthz" 2>/dev/null && { ready=1; break; }; sleep 0.2; done
[ -n "$ready" ] || { echo "palisade-aliases did not start:" >&2; cat "$work/service.log" >&2; exit 1; }
for connections in 1 4; do
    out=$(wrk -t "$connections" -c "$connections" -d "${SECONDS_PER_RUN}s" -s Benchmarks/alias-create.lua \
          "http://127.0.0.1:$http_port" -- "$ACCOUNTS" "http$connections" "$token")
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    bad=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<<"$out")
    echo "aliases http connections=$connections created=$(count "http$connections") creations_per_sec=$rps non_2xx=${bad:-0}"
done

# The anchor: the statements of one creation as the service sends them, from pgbench as plain SQL.
cat > "$work/create.sql" <<SQL
\set a random(1, $ACCOUNTS)
\set r random(1, 1000000000000)
BEGIN;
SELECT c.state, d.id, d.kind::text, d.account_id, alias_deletion_cutoff() FROM accounts c LEFT JOIN domains d ON d.name = 'mail.example' WHERE c.id = :a FOR UPDATE OF c;
SELECT (SELECT count(*) FROM addresses WHERE account_id = :a AND kind = 'alias'), (SELECT account_id FROM reserved_addresses WHERE address = 'sql-' || :r || '@mail.example'), EXISTS (SELECT 1 FROM reserved_addresses WHERE regexp_replace(address, '\\+[^@]*@', '@') = regexp_replace('sql-' || :r || '@mail.example', '\\+[^@]*@', '@') AND account_id <> :a), (SELECT account_id FROM addresses WHERE address = 'sql-' || :r || '@mail.example');
INSERT INTO addresses (address, local_part, domain_id, account_id, kind) VALUES ('sql-' || :r || '@mail.example', 'sql-' || :r, 1, :a, 'alias') RETURNING created_at;
INSERT INTO jobs (queue, kind, payload, unique_key) VALUES ('wkd', 'wkd.refresh', json_build_object('address', 'sql-' || :r || '@mail.example'), 'wkd.refresh:sql-' || :r || '@mail.example') ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO UPDATE SET rerun = true WHERE jobs.state = 'running' RETURNING xmax = 0;
INSERT INTO audit_log (actor, action, subject, details) VALUES ('bench', 'alias.create', 'sql-' || :r || '@mail.example', '{"outcome": "ok"}');
COMMIT;
SQL
pgbench=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/pgbench
for clients in 1 4; do
    tps=$("$pgbench" -n -c "$clients" -j "$clients" -T "$SECONDS_PER_RUN" -f "$work/create.sql" "$service_url" 2>&1 \
          | awk '/^tps = / { printf "%.0f", $3; exit }')
    echo "aliases sql-anchor clients=$clients creations_per_sec=$tps"
done
