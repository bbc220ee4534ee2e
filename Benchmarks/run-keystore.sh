#!/usr/bin/env bash
# Certificate imports per second (`make bench-keystore`), release build: the 10,000-certificate keyring of
# the OpenPGP benchmark (made once with pysequoia), each certificate uploaded on its own through
# AccountKeystore into 1,000 accounts, with 1 and 4 concurrent callers, each on a fresh database: a first
# pass (every certificate new) and a second (every one merged with the stored copy and found unchanged).
# Beside it, the peer: `gpg --import` of the same keyring into an empty keyring.
#
#   CERTS=10000 ACCOUNTS=1000 Benchmarks/run-keystore.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CERTS=${CERTS:-10000}
ACCOUNTS=${ACCOUNTS:-1000}
PG=Deploy/local/pg.sh

log=$(mktemp)
swift build -c release --product KeystoreBenchmark >"$log" 2>&1 || { grep -E "error" "$log" | head -20 >&2; exit 1; }
rm -f "$log"
venv=.local/openpgp-venv
if [ ! -x "$venv/bin/python" ]; then
    mkdir -p .local
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r Benchmarks/openpgp/requirements.txt
fi
keyring=.local/bench-keyring-$CERTS.pgp
[ -s "$keyring" ] || "$venv/bin/python" Benchmarks/openpgp/make-keyring.py "$CERTS" "$keyring"
bin=$(swift build -c release --show-bin-path)

cluster=$(mktemp -d /tmp/palisade-bench-pg.XXXXXX)
gnupg=$(mktemp -d /tmp/palisade-bench-gpg.XXXXXX)
trap '$PG destroy "$cluster"; gpgconf --homedir "$gnupg" --kill all >/dev/null 2>&1 || true; rm -rf "$gnupg"' EXIT
port=$(( 57000 + RANDOM % 900 ))
admin=$($PG start "$cluster" "$port")
base=${admin%/postgres}
echo "== keyring: $keyring ($CERTS certificates, $(du -h "$keyring" | cut -f1))"
for concurrency in 1 4; do
    db=bench_keystore_$concurrency
    psql "$admin" -qc "CREATE DATABASE $db"
    for f in Schemas/[0-9]*.sql; do psql "$base/$db" -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null; done
    psql "$base/$db" -qc "INSERT INTO accounts SELECT FROM generate_series(1, $ACCOUNTS)"
    "$bin/KeystoreBenchmark" "postgresql://palisade_keystore@127.0.0.1:$port/$db" "$keyring" "$ACCOUNTS" "$concurrency"
done

chmod 700 "$gnupg"
start=$(date +%s%N)
gpg --homedir "$gnupg" --batch --quiet --import "$keyring" 2>/dev/null || true
end=$(date +%s%N)
imported=$(gpg --homedir "$gnupg" --batch --with-colons --list-keys 2>/dev/null | grep -c '^pub:' || true)
awk -v n="$imported" -v s="$start" -v e="$end" 'BEGIN { printf "gpg import certificates=%d seconds=%.2f imports_per_sec=%.0f\n", n, (e - s) / 1e9, n / ((e - s) / 1e9) }'
