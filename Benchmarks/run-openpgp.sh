#!/usr/bin/env bash
# The OpenPGP benchmark (`make bench-openpgp`): parse, canonicalise (verify every self-signature) and
# write a keyring of CERTS certificates, Palisade beside `sq keyring filter` doing the same work on the
# same file (sq canonicalises each certificate, verifying its self-signatures, then writes it).
#
#   CERTS=10000 ROUNDS=3 Benchmarks/run-openpgp.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CERTS=${CERTS:-10000}
ROUNDS=${ROUNDS:-3}
command -v sq >/dev/null || { echo "run-openpgp.sh: sq not found (apt-get install sq)" >&2; exit 1; }

swift build -c release --product OpenPGPBenchmark >/dev/null
python=$(Benchmarks/openpgp/venv.sh)
keyring=.local/bench-keyring-$CERTS.pgp
if [ ! -s "$keyring" ]; then
    echo "== making $keyring ($CERTS certificates, once)"
    "$python" Benchmarks/openpgp/make-keyring.py "$CERTS" "$keyring"
fi
echo "== keyring: $keyring, $(du -h "$keyring" | cut -f1)"
for round in $(seq 1 "$ROUNDS"); do
    .build/release/OpenPGPBenchmark "$keyring" 1 | sed "s/round=1 /round=$round /"
    start=$(date +%s%N)
    sq keyring filter --binary --domain example.org --output /dev/null "$keyring" 2>/dev/null || sq keyring filter --binary --domain example.org "$keyring" > /dev/null
    end=$(date +%s%N)
    awk -v n="$CERTS" -v s="$start" -v e="$end" -v r="$round" 'BEGIN { printf "openpgp sq round=%d certificates=%d seconds=%.2f certs_per_sec=%.0f\n", r, n, (e - s) / 1e9, n / ((e - s) / 1e9) }'
done
