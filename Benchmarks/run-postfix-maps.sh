#!/usr/bin/env bash
# Postfix alias look-ups per second (`make bench-postfix`): the lookup table of Deploy/postfix/ over
# ALIASES aliases, queried by the real postmap (a process per look-up, and one process reading keys from
# stdin), beside the same query run directly by pgbench as palisade_postfix (1 and 4 clients).
#
#   ALIASES=10000 LOOKUPS=10000 Benchmarks/run-postfix-maps.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"
ALIASES=${ALIASES:-10000}
LOOKUPS=${LOOKUPS:-10000}
PG=Deploy/local/pg.sh
command -v postmap >/dev/null || { echo "run-postfix-maps.sh: postmap not found (apt-get install postfix postfix-pgsql)" >&2; exit 1; }

cluster=$(mktemp -d /tmp/palisade-bench-pg.XXXXXX)
work=$(mktemp -d /tmp/palisade-bench-postfix.XXXXXX)
trap '$PG destroy "$cluster"; rm -rf "$work"' EXIT
port=$(( 57000 + RANDOM % 900 ))
admin=$($PG start "$cluster" "$port")
base=${admin%/postgres}
$PG database "$cluster" bench_postfix >/dev/null
psql "$base/bench_postfix" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO domains (name, kind) VALUES ('mail.example', 'platform');
INSERT INTO accounts SELECT FROM generate_series(1, $ALIASES);
INSERT INTO addresses (address, local_part, domain_id, account_id, kind)
    SELECT 'user' || id || '@mail.example', 'user' || id, 1, id, 'primary' FROM accounts;
INSERT INTO addresses (address, local_part, domain_id, account_id, kind)
    SELECT 'alias' || id || '@mail.example', 'alias' || id, 1, id, 'alias' FROM accounts;
ANALYZE;
SQL
sed -e "s/^hosts = .*/hosts = inet:127.0.0.1:$port/" -e "s/^dbname = .*/dbname = bench_postfix/" \
    Deploy/postfix/pgsql-virtual-alias-maps.cf > "$work/aliases.cf"
rate() { awk -v n="$1" -v s="$2" -v e="$3" 'BEGIN { printf "%.0f", n / ((e - s) / 1e9) }'; }

for i in $(seq 1 "$LOOKUPS"); do echo "alias$(( (RANDOM * 32768 + RANDOM) % ALIASES + 1 ))@mail.example"; done > "$work/keys"
[ "$(postmap -q alias1@mail.example "pgsql:$work/aliases.cf")" = "user1@mail.example" ] || { echo "postmap: wrong answer" >&2; exit 1; }

n=$(( LOOKUPS < 500 ? LOOKUPS : 500 ))
start=$(date +%s%N)
head -n "$n" "$work/keys" | while read -r key; do postmap -q "$key" "pgsql:$work/aliases.cf" >/dev/null; done
end=$(date +%s%N)
echo "postfix postmap-process-per-lookup lookups=$n lookups_per_sec=$(rate "$n" "$start" "$end")"

start=$(date +%s%N)
found=$(postmap -q - "pgsql:$work/aliases.cf" < "$work/keys" | wc -l)
end=$(date +%s%N)
[ "$found" = "$LOOKUPS" ] || { echo "postmap -q -: $found of $LOOKUPS found" >&2; exit 1; }
echo "postfix postmap-stdin lookups=$LOOKUPS lookups_per_sec=$(rate "$LOOKUPS" "$start" "$end")"

# The query the lookup table sends, as a plain query (as Postfix sends it).
cat > "$work/lookup.sql" <<SQL
\set n random(1, $ALIASES)
SELECT * FROM postfix_alias_destination('alias' || :n || '@mail.example');
SQL
pgbench=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/pgbench
for clients in 1 4; do
    tps=$("$pgbench" -n -c "$clients" -j "$clients" -t $(( LOOKUPS / clients )) -f "$work/lookup.sql" \
          "postgresql://palisade_postfix@127.0.0.1:$port/bench_postfix" 2>&1 | awk '/^tps = / { printf "%.0f", $3; exit }')
    echo "postfix direct-query clients=$clients lookups=$LOOKUPS lookups_per_sec=$tps"
done
