#!/usr/bin/env bash
# Real TLS reports from sys4's tlsrpt-reporter (PyPI), delivered to palisade-transport over HTTPS and, by
# "mail", to `platformctl tlsrpt ingest` as a Postfix pipe would run it. Sessions go in as libtlsrpt's
# datagrams (one JSON object per delivery attempt) to tlsrpt-collectd; SIGUSR2 (its development roll-over)
# makes today's sessions yesterday's, which tlsrpt-reportd then reports at once.
#
# usage: tlsrpt-reporter.sh VENV WORKDIR HTTPS_HOST HTTPS_PORT PATH CA_FILE SENDMAIL_COMMAND
# Exits 0 when reportd says every report was delivered (curl --fail and the ingest command exit 0), 1 when
# a delivery failed for good.
set -euo pipefail
# Signals can arrive blocked from the parent (a test runner's thread mask is inherited through exec):
# collectd's roll-over needs SIGUSR2 and the clean-up SIGTERM, so start again with none blocked.
if [ -z "${TLSRPT_SIGNALS_UNBLOCKED:-}" ]; then
    export TLSRPT_SIGNALS_UNBLOCKED=1
    exec "$1/bin/python" -c 'import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv("/bin/bash", ["bash"] + sys.argv[1:])' "$0" "$@"
fi
venv=$1 work=$2 host=$3 port=$4 path=$5 ca=$6 sendmail=$7
mkdir -p "$work"
cat > "$work/tlsrpt.cfg" <<CFG
[tlsrpt_collectd]
storage = sqlite://$work/collectd.sqlite
socketname = $work/collectd.sock
sockettimeout = 1
logfilename = $work/collectd.log
log_level = info

[tlsrpt_fetcher]
storage = sqlite://$work/collectd.sqlite
logfilename = $work/fetcher.log

[tlsrpt_reportd]
dbname = $work/reportd.sqlite
logfilename = $work/reportd.log
log_level = info
fetchers = $venv/bin/tlsrpt-fetcher --config_file $work/tlsrpt.cfg
organization_name = Example Sender Org
contact_info = tlsrpt-admin@sender.example
sender_address = tlsrpt-noreply@sender.example
http_script = curl --silent --show-error --fail --cacert $ca --resolve $host:$port:127.0.0.1 --header 'Content-Type: application/tlsrpt+gzip' --data-binary @-
sendmail_script = $sendmail
spread_out_delivery = 1
interval_main_loop = 2
min_wait_delivery = 1
max_wait_delivery = 2
max_retries_delivery = 2
min_wait_domainlist = 1
max_wait_domainlist = 2
min_wait_domaindetails = 1
max_wait_domaindetails = 2
CFG

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
sqlite() { "$venv/bin/python" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$@" 2>/dev/null || echo 0; }

"$venv/bin/tlsrpt-collectd" --config_file "$work/tlsrpt.cfg" >"$work/collectd.out" 2>&1 &
collectd=$!
pids+=("$collectd")
for _ in $(seq 100); do [ -S "$work/collectd.sock" ] && break; sleep 0.1; done

# mail.example: sts, rua https (3 successes, 2 validation-failure, 1 sts-webpki-invalid); custom.example: tlsa, rua mailto
# (2 successes, 1 tlsa-invalid); both.example: no-policy-found, both rua (1 success, 2 starttls-not-supported).
"$venv/bin/python" - "$work/collectd.sock" "https://$host:$port$path" <<'PY'
import json, socket, sys
sock, https = sys.argv[1], sys.argv[2]
mail = "mailto:tlsrpt@reports.mail.example"
def datagram(domain, rua, policy):
    return {"d": domain, "pr": "v=TLSRPTv1; rua=" + rua, "dpv": "1", "policies": [policy]}
def policy(kind, domain, strings=None, mx=None, failures=()):
    p = {"policy-type": kind, "policy-domain": domain, "t": len(failures), "f": int(bool(failures))}
    if strings: p["policy-string"] = strings
    if mx: p["mx-host"] = mx
    if failures: p["failure-details"] = list(failures)
    return p
sts = ["version: STSv1", "mode: enforce", "mx: mx1.mail.example", "max_age: 86400"]
tlsa = ["3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"]
grams = [datagram("mail.example", https, policy(2, "mail.example", sts, ["mx1.mail.example"])) for _ in range(3)]
grams += [datagram("mail.example", https, policy(2, "mail.example", sts, ["mx1.mail.example"], [
    {"c": 205, "s": "127.0.0.1", "n": "mx1.mail.example", "r": "127.0.0.2", "f": "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"}])) for _ in range(2)]
grams += [datagram("mail.example", https, policy(2, "mail.example", sts, ["mx1.mail.example"], [{"c": 303, "s": "127.0.0.1", "n": "mx1.mail.example"}]))]
grams += [datagram("custom.example", mail, policy(1, "custom.example", tlsa)) for _ in range(2)]
grams += [datagram("custom.example", mail, policy(1, "custom.example", tlsa, failures=[{"c": 304, "s": "127.0.0.1", "n": "mx.custom.example"}]))]
grams += [datagram("both.example", mail + "," + https, policy(9, "both.example"))]
grams += [datagram("both.example", mail + "," + https, policy(9, "both.example", failures=[{"c": 201, "s": "127.0.0.1", "n": "mx.both.example"}])) for _ in range(2)]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for g in grams:
    s.sendto(json.dumps(g).encode(), sock)
PY

# Wait until collectd has committed the 12 sessions, then roll the day over.
# (Conditions are polled: these programs offer nothing to wait on.)
fail() { echo "$1"; cat "$work/collectd.log"; exit 1; }
for try in $(seq 300); do [ "$(sqlite "$work/collectd.sqlite" 'select coalesce(sum(cntrtotal), 0) from finalresults')" = 12 ] && break; sleep 0.1; done
[ "$try" -lt 300 ] || fail "collectd did not commit the 12 sessions in 30 s"
kill -USR2 "$collectd"
yesterday=$(date -u -d yesterday +%F)
for try in $(seq 300); do "$venv/bin/tlsrpt-fetcher" --config_file "$work/tlsrpt.cfg" "$yesterday" 2>/dev/null | grep -qx mail.example && break; sleep 0.1; done
[ "$try" -lt 300 ] || fail "the fetcher does not list yesterday's domains 30 s after the roll-over"

"$venv/bin/tlsrpt-reportd" --config_file "$work/tlsrpt.cfg" >"$work/reportd.out" 2>&1 &
pids+=("$!")
# Four deliveries: mail.example by HTTPS, custom.example by mail, both.example by both.
for _ in $(seq 1200); do
    sent=$(sqlite "$work/reportd.sqlite" "select count(*) from destinations where status = 'sent'")
    failed=$(sqlite "$work/reportd.sqlite" "select count(*) from destinations where status is not null and status <> 'sent'")
    [ "$sent" = 4 ] && exit 0
    if [ "$failed" != 0 ]; then echo "a delivery failed for good"; "$venv/bin/tlsrptctl" status --config_file "$work/tlsrpt.cfg" || true; cat "$work/reportd.log"; exit 1; fi
    sleep 0.1
done
echo "reportd did not deliver 4 reports in 120 s"; cat "$work/reportd.log"; exit 1
