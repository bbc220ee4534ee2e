#!/usr/bin/env bash
# The DMARC milter (`make bench-milter`), release build: MESSAGES messages through the milter protocol to an
# in-process listener by CONNECTIONS clients, SPF/DKIM/DMARC against the test world's signed zones with warm
# DNS; messages per second and latency percentiles. The DKIM-signed half is signed by dkimpy (PyPI, in
# .build/test-venv as `make test` installs it).
#
#   MESSAGES=10000 CONNECTIONS=8 Benchmarks/run-milter.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES=${MESSAGES:-10000}
CONNECTIONS=${CONNECTIONS:-8}
venv=.build/test-venv
[ -x $venv/bin/dkimsign ] || { [ -x $venv/bin/python3 ] || python3 -m venv $venv; $venv/bin/pip install -q dkimpy==1.1.8 pynacl==1.6.2 dnspython==2.9.2; }
log=$(mktemp)
swift build -c release --product MilterBenchmark >"$log" 2>&1 || { grep -E "error" "$log" | head -20 >&2; exit 1; }
rm -f "$log"
bin=$(swift build -c release --show-bin-path)
world=$(mktemp -d /tmp/palisade-bench-world.XXXXXX)
trap 'Deploy/local/world.sh destroy "$world"' EXIT
Deploy/local/world.sh start "$world" >/dev/null
message=$world/signed.eml
printf 'From: Alice <alice@dkim.secure.palisade.example>\r\nTo: bob@example.org\r\nSubject: benchmark\r\nMessage-ID: <bench@dkim.secure.palisade.example>\r\n\r\nHello Bob,\r\nthis message is signed with DKIM and passes DMARC.\r\n' |
    $venv/bin/dkimsign rsa dkim.secure.palisade.example "$world/dkim/rsa.key" > "$message"
"$bin/MilterBenchmark" "$world" "$message" "$MESSAGES" "$CONNECTIONS"
