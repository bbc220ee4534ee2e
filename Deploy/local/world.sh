#!/usr/bin/env bash
# The test world: real DNS with DNSSEC and real HTTPS on loopback, for the tests and benchmarks of every
# library that looks things up or fetches them.
#
#   world.sh start DIR    build the world in DIR (zones signed now, a CA and certificates issued now),
#                         start nsd, unbound and nginx, wait until each answers, write DIR/world.env
#   world.sh stop DIR     stop them; harmless if they are not running
#   world.sh destroy DIR  stop them and remove DIR
#
# DNS: nsd serves palisade.example (signed; its KSK is the trust anchor in DIR/dns/anchor.ds) and its
# children: secure (signed, DS in the parent), insecure (unsigned, no DS), expired (signatures expired
# in 2020: bogus), broken (a record changed after signing: bogus) and dead (its server never answers);
# and lame.example.net, sent to nsd, which does not serve it and answers REFUSED; example itself (unsigned, above the
# anchor: the top of a CAA search). b1…b5000.bench.secure
# carry TXT records for the look-up benchmark. A delegation cannot carry a port, so resolvers are given
# stub zones (PALISADE_TEST_DNS_STUBS). An unbound daemon (validating, same stubs and anchor) listens
# at PALISADE_TEST_DNS_FORWARDER, for forwarder mode and for dig.
# MTA-STS and DANE: sts-* (one with max_age 0), dane-* and nullmx.secure.palisade.example and insecure.palisade.example carry
# the transport tests' cases, with policy hosts mta-sts.<domain> served by nginx from DIR/https/mta-sts.
# HTTPS: nginx with the world's CA (DIR/https/ca.pem) serves www, wrong-host (another name's
# certificate), lapsed (expired) and self-signed .secure.palisade.example, with a redirect, an echo
# endpoint, a 2 MiB body with and without Content-Length, and a trickling body; and the key-discovery hosts:
# WKD hosts serving what the tests write under DIR/https/wkd/<host>/ (advanced only, direct only, both,
# neither, one answering 503), and keys.secure.palisade.example proxying to the tests' VKS server on
# PALISADE_TEST_VKS_BACKEND_PORT.
# platformctl doctor: doctor-good.secure.palisade.example publishes everything right (CAA, MTA-STS whose id is the
# doctor tests' policy's, TLSA for the key its MX presents and for the next key, TLSRPT, DMARC, WKD over both
# methods), doctor-bad.secure.palisade.example everything wrong (TLSA of the next key only, a stranger CA, a stale
# id, a report URL that is not there, a broken DMARC record, no WKD); palisade.example has a DMARC p=none that insecure.palisade.example
# inherits. Their MX hosts resolve to a real Postfix (its own instance, STARTTLS with the world CA's certificate for
# both MX names) on 127.0.0.1:PALISADE_TEST_SMTP_PORT, and with smtpd_milters = inet:127.0.0.1:PALISADE_TEST_MILTER_PORT
# (where the milter tests run palisade-transport's milter) on 127.0.0.1:PALISADE_TEST_SMTP_MILTER_PORT, queueing what
# it accepts for the discard transport (or holding what the milter quarantines); Postfix runs only as root, so without root that is empty
# and the doctor tests say so.
# OpenDMARC (Debian's opendmarc, root only, like Postfix): a third listener of the same Postfix,
# 127.0.0.1:PALISADE_TEST_SMTP_OPENDMARC_PORT, runs PALISADE_TEST_MILTER_PORT's milter and then OpenDMARC (authserv-id
# opendmarc.test.example, trusting the results of mx.test.example, the Public Suffix List DIR/opendmarc/public_suffix_list.dat:
# Debian's with the test TLD "example" added) and holds every message, for the tests comparing verdicts. OpenDMARC looks
# up DNS through the C library, which knows only port 53: unbound also listens on a 127.53.x.y address on port 53, and
# OpenDMARC runs in a mount namespace of its own where /etc/resolv.conf names that address.
# DKIM: keys made at every start under DIR/dkim (rsa: 2048 bits, small: 512 bits, ed: Ed25519; dkimpy's key file
# formats), published at <selector>._domainkey.dkim.secure.palisade.example with revoked (empty p=).
# Everything listens on 127.0.0.1 on free ports picked at start.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

for fd in $(ls /proc/$$/fd); do
    if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

command=${1:?usage: world.sh start|stop|destroy DIR}
dir=${2:?usage: world.sh start|stop|destroy DIR}
here=$(cd "$(dirname "$0")" && pwd)/world

# The doctor tests' MTA-STS policy (transport.ownPolicy: mode enforce, this MX, max_age 7 days), CRLF lines
# as palisade-transport serves it; its _mta-sts id is the first 20 hex digits of its SHA-256.
doctor_policy() { printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.doctor-good.secure.palisade.example\r\nmax_age: 604800\r\n'; }

# txt_strings TEXT: TEXT as zone-file character-strings of at most 200 octets each.
txt_strings() { local text=$1 out=""; while [ -n "$text" ]; do out+="\"${text:0:200}\" "; text=${text:200}; done; echo "$out"; }

# DKIM keys for the milter tests: RSA (PKCS#1 PEM, as dkimsign reads it) and Ed25519 (the base64 seed, as dkimpy
# writes it), and their key records.
make_dkim_keys() {
    local dkim=$dir/dkim
    mkdir -p "$dkim"
    openssl genrsa -traditional -out "$dkim/rsa.key" 2048 2>/dev/null
    openssl genrsa -traditional -out "$dkim/small.key" 512 2>/dev/null
    openssl genpkey -algorithm ed25519 -out "$dkim/ed.pem" 2>/dev/null
    openssl pkey -in "$dkim/ed.pem" -outform DER | tail -c 32 | base64 -w0 > "$dkim/ed.key"
    {
        for name in rsa small; do
            echo "$name._domainkey.dkim  TXT  $(txt_strings "v=DKIM1; k=rsa; p=$(openssl rsa -in "$dkim/$name.key" -pubout -outform DER 2>/dev/null | base64 -w0)")"
        done
        echo "ed._domainkey.dkim  TXT  \"v=DKIM1; k=ed25519; p=$(openssl pkey -in "$dkim/ed.pem" -pubout -outform DER | tail -c 32 | base64 -w0)\""
        echo 'revoked._domainkey.dkim  TXT  "v=DKIM1; k=rsa; p="'
    } > "$dkim/records"
}

# spki_sha256 CERT.pem: the TLSA 3 1 1 data of the certificate's key.
spki_sha256() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1 | tr a-f A-F; }

need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
            echo "world.sh: $tool not found (apt-get install nsd ldnsutils unbound nginx libnginx-mod-http-js openssl bind9-dnsutils curl iproute2)" >&2
            exit 1
        }
    done
}

# A TCP and UDP port on 127.0.0.1 that nothing uses now.
free_port() {
    local port
    while :; do
        # Below Linux's ephemeral range (32768 up), so an outgoing connection cannot take it meanwhile.
        port=$(( 20000 + RANDOM % 12000 ))
        if ! ss -Hltun "sport = :$port" | grep -q .; then echo "$port"; return; fi
    done
}

stop() {
    [ -d "$dir" ] || return 0
    # Absolute, as start wrote it into the daemons' command lines (make run passes .local/world).
    dir=$(cd "$dir" && pwd)
    # The gpg-agent of the keys the tests made in DIR/gnupg.
    if [ -d "$dir/gnupg" ]; then gpgconf --homedir "$dir/gnupg" --kill all >/dev/null 2>&1 || true; fi
    for pidfile in "$dir/dns/nsd.pid" "$dir/dns/unbound.pid" "$dir/https/nginx.pid" "$dir/smtp/queue/pid/master.pid" "$dir/opendmarc/opendmarc.pid"; do
        if [ -s "$pidfile" ]; then
            local pid
            pid=$(tr -d ' ' < "$pidfile")
            # Only ours: a stale pidfile (after a reboot) may name an unrelated process.
            case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
                nsd*|unbound*|nginx*|opendmarc*) kill "$pid" 2>/dev/null || true ;;
                # Postfix's master, only the one of this world (the system's is a master too).
                master) if tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "-c $dir/smtp"; then kill "$pid" 2>/dev/null || true; else rm -f "$pidfile"; continue; fi ;;
                *) rm -f "$pidfile"; continue ;;
            esac
            # Wait for it to go, so the ports are free when we return.
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
            rm -f "$pidfile"
        fi
    done
}

sign_dns() {
    local dns=$dir/dns zone
    mkdir -p "$dns"
    cp "$here"/*.zone "$dns/"
    # Distinct names for the uncached look-up benchmark (a wildcard could be answered from cache, RFC 8198).
    for i in $(seq 1 5000); do echo "b$i.bench TXT \"benchmark $i\""; done >> "$dns/secure.palisade.example.zone"
    local mx_key next_key policy_id
    mx_key=$(spki_sha256 "$dir/https/mx.pem")
    next_key=$(spki_sha256 "$dir/https/mx-next.pem")
    policy_id=$(doctor_policy | sha256sum | cut -c1-20)
    cat >> "$dns/secure.palisade.example.zone" <<EOF
doctor-good              A     127.0.0.1
doctor-good              MX    10 mx.doctor-good
doctor-good              CAA   0 issue "ca.palisade.example"
doctor-good              CAA   0 iodef "mailto:security@palisade.example"
mx.doctor-good           A     127.0.0.1
_25._tcp.mx.doctor-good  TLSA  3 1 1 $mx_key
_25._tcp.mx.doctor-good  TLSA  3 1 1 $next_key
_mta-sts.doctor-good     TXT   "v=STSv1; id=$policy_id"
mta-sts.doctor-good      A     127.0.0.1
_smtp._tls.doctor-good   TXT   "v=TLSRPTv1; rua=https://www.secure.palisade.example:$https_port/echo,mailto:tlsrpt@doctor-good.secure.palisade.example"
_dmarc.doctor-good       TXT   "v=DMARC1; p=reject; rua=mailto:dmarc@doctor-good.secure.palisade.example"
openpgpkey.doctor-good   A     127.0.0.1
doctor-bad               MX    10 mx.doctor-bad
mx.doctor-bad            A     127.0.0.1
_25._tcp.mx.doctor-bad   TLSA  3 1 1 $next_key
doctor-bad               CAA   0 issue "other-ca.example"
_mta-sts.doctor-bad      TXT   "v=STSv1; id=stale1"
mta-sts.doctor-bad       A     127.0.0.1
_smtp._tls.doctor-bad    TXT   "v=TLSRPTv1; rua=https://www.secure.palisade.example:$https_port/missing"
_dmarc.doctor-bad        TXT   "v=DMARC1; p=bogus"
EOF
    echo '_dmarc   TXT   "v=DMARC1; p=none"' >> "$dns/palisade.example.zone"
    cat "$dir/dkim/records" >> "$dns/secure.palisade.example.zone"
    cd "$dns"
    # ldns-keygen prints the key's base name; the KSK gets a .ds file, used as the parent's DS.
    keys() { local ksk zsk; ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$1"); zsk=$(ldns-keygen -a ECDSAP256SHA256 "$1"); echo "$ksk $zsk"; }
    for zone in secure expired broken; do
        read -r ksk zsk < <(keys "$zone.palisade.example")
        if [ "$zone" = expired ]; then
            ldns-signzone -i 20200101000000 -e 20200201000000 "$zone.palisade.example.zone" "$ksk" "$zsk"
        else
            ldns-signzone -e "$(date -u -d '+30 days' +%Y%m%d%H%M%S)" "$zone.palisade.example.zone" "$ksk" "$zsk"
        fi
        grep -v '^;' "$ksk.ds" >> palisade.example.zone
    done
    sed -i 's/"as signed"/"changed after signing"/' broken.palisade.example.zone.signed
    cp insecure.palisade.example.zone insecure.palisade.example.zone.signed
    cp example.zone example.zone.signed
    read -r ksk zsk < <(keys palisade.example)
    ldns-signzone -e "$(date -u -d '+30 days' +%Y%m%d%H%M%S)" palisade.example.zone "$ksk" "$zsk"
    grep -v '^;' "$ksk.ds" > anchor.ds
    cd - >/dev/null
}

start_dns() {
    local dns=$dir/dns port=$1 zones="" zone
    for zone in example palisade.example secure.palisade.example insecure.palisade.example expired.palisade.example broken.palisade.example; do
        zones+=$'zone:\n'"    name: $zone"$'\n'"    zonefile: $dns/$zone.zone.signed"$'\n'
    done
    cat > "$dns/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1
    port: $port
    username: ""
    chroot: ""
    zonesdir: "$dns"
    pidfile: "$dns/nsd.pid"
    database: ""
    zonelistfile: "$dns/zone.list"
    xfrdfile: "$dns/xfrd.state"
    xfrdir: "$dns"
    logfile: "$dns/nsd.log"
    server-count: 1
    verbosity: 1
    hide-version: yes
    refuse-any: yes
    # No response-rate limiting: every query of the tests and benchmarks comes from 127.0.0.1.
    rrl-ratelimit: 0
remote-control:
    control-enable: no
$zones
EOF
    nsd-checkconf "$dns/nsd.conf"
    nsd -c "$dns/nsd.conf"
    wait_for "nsd" dig -p "$port" @127.0.0.1 +time=1 +tries=1 +norecurse palisade.example SOA
}

issue_certificates() {
    local https=$dir/https days=30 host
    mkdir -p "$https/ca/newcerts" "$https/www" "$https/tmp"
    cd "$https"
    : > ca/index.txt
    echo 1000 > ca/serial
    cat > ca/ca.cnf <<EOF
[ ca ]
default_ca = world
[ world ]
dir = $https/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[ any ]
commonName = supplied
EOF
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days $days \
        -subj "/CN=Palisade Test World CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    # name certificate-name [ca options]: a key and a CA-issued certificate for certificate-name.
    issue() {
        local name=$1 cn=$2; shift 2
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" -out "$name.csr" \
            -subj "/CN=$cn" -addext "subjectAltName=DNS:$cn" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
        openssl ca -batch -notext -config ca/ca.cnf -cert ca.pem -keyfile ca.key -in "$name.csr" -out "$name.pem" "$@" 2>/dev/null
    }
    issue www www.secure.palisade.example -days $days
    # The doctor tests' MX (both MX names on one Postfix) and the key it is to use next.
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout mx.key -out mx.csr -subj "/CN=mx.doctor-good.secure.palisade.example" \
        -addext "subjectAltName=DNS:mx.doctor-good.secure.palisade.example,DNS:mx.doctor-bad.secure.palisade.example" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
    openssl ca -batch -notext -config ca/ca.cnf -cert ca.pem -keyfile ca.key -in mx.csr -out mx.pem -days $days 2>/dev/null
    issue mx-next mx.doctor-good.secure.palisade.example -days $days
    issue other other.secure.palisade.example -days $days
    # One certificate for every key-discovery host (WKD hosts and the VKS).
    local names="" name
    for name in openpgpkey.wkd-advanced wkd-direct openpgpkey.wkd-both wkd-both wkd-none openpgpkey.wkd-broken keys openpgpkey.doctor-good doctor-good; do
        names+="${names:+,}DNS:$name.secure.palisade.example"
    done
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout discovery.key -out discovery.csr \
        -subj "/CN=keys.secure.palisade.example" -addext "subjectAltName=$names" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
    openssl ca -batch -notext -config ca/ca.cnf -cert ca.pem -keyfile ca.key -in discovery.csr -out discovery.pem -days $days 2>/dev/null
    mkdir -p wkd
    # One certificate for every MTA-STS policy host of the transport tests, and their policies.
    names=""
    for name in $mta_sts_hosts; do names+="${names:+,}DNS:$name"; done
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout mta-sts.key -out mta-sts.csr \
        -subj "/CN=mta-sts.sts-enforce.secure.palisade.example" -addext "subjectAltName=$names" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
    openssl ca -batch -notext -config ca/ca.cnf -cert ca.pem -keyfile ca.key -in mta-sts.csr -out mta-sts.pem -days $days 2>/dev/null
    # policy HOST MODE [MX…]: HOST's policy file, CRLF line ends (as RFC 8461's ABNF writes them).
    policy() {
        local host=$1 mode=$2 mx; shift 2
        mkdir -p "mta-sts/$host/.well-known"
        { printf 'version: STSv1\r\nmode: %s\r\n' "$mode"; for mx in "$@"; do printf 'mx: %s\r\n' "$mx"; done; printf 'max_age: %s\r\n' "${MAX_AGE:-86400}"; } \
            > "mta-sts/$host/.well-known/mta-sts.txt"
    }
    local s=secure.palisade.example
    policy mta-sts.sts-enforce.$s enforce mx1.sts-enforce.$s
    policy mta-sts.sts-testing.$s testing mx.sts-testing.$s
    policy mta-sts.sts-none.$s none
    policy mta-sts.sts-wild.$s enforce "*.sts-wild.$s"
    policy mta-sts.sts-nomatch.$s enforce mx1.sts-nomatch.$s
    policy mta-sts.sts-two.$s enforce mx.sts-two.$s
    policy mta-sts.sts-wrongtype.$s enforce mx.sts-wrongtype.$s
    policy mta-sts.sts-dane.$s enforce mx.sts-dane.$s
    policy mta-sts.insecure.palisade.example enforce mx.insecure.palisade.example
    MAX_AGE=0 policy mta-sts.sts-maxage0.$s enforce mx.sts-maxage0.$s
    for name in doctor-good doctor-bad; do
        mkdir -p "mta-sts/mta-sts.$name.$s/.well-known"
        doctor_policy > "mta-sts/mta-sts.$name.$s/.well-known/mta-sts.txt"
    done
    # doctor-good's WKD policy files, advanced and direct.
    mkdir -p "wkd/openpgpkey.doctor-good.$s/.well-known/openpgpkey/doctor-good.$s" "wkd/doctor-good.$s/.well-known/openpgpkey"
    : > "wkd/openpgpkey.doctor-good.$s/.well-known/openpgpkey/doctor-good.$s/policy"
    : > "wkd/doctor-good.$s/.well-known/openpgpkey/policy"
    policy mta-sts.sts-oversize.$s enforce mx.sts-oversize.$s
    # Past RFC 8461's 64 KiB with lines a parser would otherwise ignore.
    for i in $(seq 1 2000); do printf 'x_padding: %s\r\n' "$(head -c 24 /dev/zero | tr '\0' p)"; done >> "mta-sts/mta-sts.sts-oversize.$s/.well-known/mta-sts.txt"
    issue lapsed lapsed.secure.palisade.example -startdate 20200101000000Z -enddate 20200201000000Z
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self-signed.key -out self-signed.pem -days $days \
        -subj "/CN=self-signed.secure.palisade.example" -addext "subjectAltName=DNS:self-signed.secure.palisade.example" 2>/dev/null
    echo "hello from the Palisade test world" > www/small.txt
    head -c 2097152 /dev/zero | tr '\0' 'x' > www/large.bin
    head -c 1024 /dev/zero | tr '\0' 's' > www/slow.bin
    cd - >/dev/null
}

# The MTA-STS policy hosts of the transport tests (see secure.palisade.example.zone).
# Those served from files (the others have server blocks of their own in nginx.conf.in).
mta_sts_served=""
for name in enforce testing none wild nomatch two oversize dane maxage0; do
    mta_sts_served+=" mta-sts.sts-$name.secure.palisade.example"
done
mta_sts_served+=" mta-sts.doctor-good.secure.palisade.example mta-sts.doctor-bad.secure.palisade.example"
mta_sts_served+=" mta-sts.insecure.palisade.example"
mta_sts_hosts="$mta_sts_served"
for name in unavailable wrongtype redirect; do mta_sts_hosts+=" mta-sts.sts-$name.secure.palisade.example"; done

start_https() {
    local https=$dir/https port=$1 vks_port=$2 module
    module=$(ls /usr/lib/nginx/modules/ngx_http_js_module.so /usr/share/nginx/modules/ngx_http_js_module.so 2>/dev/null | head -1)
    [ -n "$module" ] || { echo "world.sh: nginx's njs module not found (apt-get install libnginx-mod-http-js)" >&2; exit 1; }
    cp "$here/echo.js" "$https/echo.js"
    sed -e "s|@DIR@|$https|g" -e "s|@PORT@|$port|g" -e "s|@VKSPORT@|$vks_port|g" -e "s|@JSMODULE@|$module|g" -e "s|@MTASTSHOSTS@|$mta_sts_served|g" \
        "$here/nginx.conf.in" > "$https/nginx.conf"
    nginx -q -t -c "$https/nginx.conf" -p "$https" -e "$https/error.log"
    nginx -c "$https/nginx.conf" -p "$https" -e "$https/error.log"
    wait_for "nginx" curl -sf --cacert "$https/ca.pem" --resolve "www.secure.palisade.example:$port:127.0.0.1" \
        "https://www.secure.palisade.example:$port/small.txt" -o /dev/null
}

# A Postfix instance of its own (master run directly with -c: postfix(1) would want the directory listed in the
# system's main.cf) that speaks STARTTLS with the doctor MX certificate on 127.0.0.1:PORT and delivers nothing.
start_smtp() {
    local smtp=$dir/smtp port=$1 milter_smtp_port=$2 milter_port=$3 opendmarc_smtp_port=$4
    mkdir -p "$smtp/queue/pid" "$smtp/queue/public" "$smtp/queue/private" "$smtp/data"
    # The queue directories cleanup and qmgr use, owned as postfix-files has them.
    local queue
    for queue in incoming active deferred defer bounce hold corrupt flush saved trace maildrop; do
        mkdir -p "$smtp/queue/$queue"
        chown postfix "$smtp/queue/$queue"
        chmod 700 "$smtp/queue/$queue"
    done
    # Postfix's daemons run as the postfix user and must reach the queue (a umask of 077 would stop them).
    chmod o+x "$dir" "$smtp" "$smtp/queue"
    chown postfix "$smtp/queue/public" "$smtp/queue/private" "$smtp/data"
    cat > "$smtp/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $smtp/queue
data_directory = $smtp/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.doctor-good.secure.palisade.example
mydestination =
local_recipient_maps =
alias_maps =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = reject
default_transport = discard
relay_transport = discard
milter_default_action = tempfail
milter_protocol = 6
smtpd_tls_chain_files = $dir/https/mx.key, $dir/https/mx.pem
smtpd_tls_security_level = may
maillog_file = $smtp/maillog
maillog_file_prefixes = $smtp
EOF
    cat > "$smtp/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
127.0.0.1:$milter_smtp_port inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$milter_port -o smtpd_relay_restrictions=permit_mynetworks,reject
postlog   unix-dgram n - n - 1 postlogd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
discard   unix  - - n - - discard
anvil     unix - - n - 1 anvil
tlsmgr    unix - - n 1000? 1 tlsmgr
proxymap  unix - - n - - proxymap
EOF
    if [ -n "$opendmarc_smtp_port" ]; then
        echo "127.0.0.1:$opendmarc_smtp_port inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$milter_port,unix:$dir/opendmarc/opendmarc.sock -o smtpd_relay_restrictions=permit_mynetworks,reject -o smtpd_end_of_data_restrictions=check_client_access,static:HOLD" >> "$smtp/master.cf"
    fi
    # -w: returns once the daemon is up (or has failed, with a non-zero status).
    /usr/lib/postfix/sbin/master -c "$smtp" -w </dev/null >/dev/null 2>"$smtp/master.err" || {
        echo "world.sh: postfix did not start: $(cat "$smtp/master.err"); see $smtp/maillog" >&2
        exit 1
    }
    wait_for "postfix" curl -s --ssl-reqd -k --request NOOP --max-time 1 "smtp://127.0.0.1:$port/probe"
}

# OpenDMARC on DIR/opendmarc/opendmarc.sock, in a mount namespace whose /etc/resolv.conf names unbound's
# port-53 address ($1): the C library's resolver cannot be given a port. Fails (status 1, saying why) without
# stopping the world: only the OpenDMARC comparison needs it.
start_opendmarc() {
    local od=$dir/opendmarc address=$1
    mkdir -p "$od"
    echo "nameserver $address" > "$od/resolv.conf"
    # No host is exempt (OpenDMARC's default exempts 127.0.0.1, where all test mail comes from).
    : > "$od/ignore-hosts"
    { cat /usr/share/publicsuffix/public_suffix_list.dat; printf '\n// The test world: RFC 2606 top-level domain\nexample\n'; } > "$od/public_suffix_list.dat"
    cat > "$od/opendmarc.conf" <<EOF
Socket local:$od/opendmarc.sock
UMask 000
PidFile $od/opendmarc.pid
AuthservID opendmarc.test.example
TrustedAuthservIDs mx.test.example
IgnoreHosts $od/ignore-hosts
PublicSuffixList $od/public_suffix_list.dat
SPFSelfValidate false
SPFIgnoreResults false
RejectFailures false
FailureReports false
RequiredHeaders false
Syslog false
Background true
EOF
    # A private mount propagation: the bind mount never reaches the host's /etc/resolv.conf.
    unshare --mount --propagation private sh -c "mount --bind '$od/resolv.conf' /etc/resolv.conf && exec opendmarc -c '$od/opendmarc.conf'" </dev/null >"$od/opendmarc.out" 2>&1 || {
        echo "world.sh: opendmarc did not start (it needs a mount namespace: unshare --mount): $(cat "$od/opendmarc.out")" >&2
        return 1
    }
    local deadline=$((SECONDS + 10))
    until [ -S "$od/opendmarc.sock" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then echo "world.sh: opendmarc made no socket; see $od" >&2; return 1; fi
        sleep 0.05
    done
}

# A validating unbound daemon with the same stub zones and anchor, for forwarder mode and for dig; as root also on
# port 53 of the address $3, for OpenDMARC.
start_forwarder() {
    local dns=$dir/dns port=$1 stubs=$2 port53=${3:-} stub
    {
        echo "server:"
        echo "    interface: 127.0.0.1@$port"
        if [ -n "$port53" ]; then echo "    interface: $port53@53"; fi
        echo "    do-not-query-localhost: no"
        echo "    username: \"\""
        echo "    chroot: \"\""
        echo "    directory: \"$dns\""
        echo "    pidfile: \"$dns/unbound.pid\""
        echo "    use-syslog: no"
        echo "    logfile: \"$dns/unbound.log\""
        echo "    num-threads: 1"
        echo "    trust-anchor-file: \"$dns/anchor.ds\""
        echo "remote-control:"
        echo "    control-enable: no"
        IFS=, read -ra entries <<< "$stubs"
        for stub in "${entries[@]}"; do
            echo "stub-zone:"
            echo "    name: ${stub%%=*}"
            echo "    stub-addr: ${stub#*=}"
        done
    } > "$dns/unbound.conf"
    unbound-checkconf "$dns/unbound.conf" >/dev/null
    unbound -c "$dns/unbound.conf"
    wait_for "unbound" dig -p "$port" @127.0.0.1 +time=1 +tries=1 palisade.example SOA
    if [ -n "$port53" ]; then wait_for "unbound on $port53" dig @"$port53" +time=1 +tries=1 palisade.example SOA; fi
}

# An address in 127.53.0.0/16 on whose port 53 nothing listens.
free_address53() {
    local address
    for _ in $(seq 1 100); do
        address=127.53.$((RANDOM % 254 + 1)).$((RANDOM % 254 + 1))
        if ! ss -Hltun "sport = :53" | awk '{print $5}' | grep -qE "^($address|0\.0\.0\.0|\*|\[::\]):53$"; then echo "$address"; return; fi
    done
    echo "world.sh: no free address for a port-53 listener in 127.53.0.0/16" >&2
    return 1
}

# wait_for NAME COMMAND...: until COMMAND succeeds (the server is up), at most 10 s in all.
wait_for() {
    local name=$1 deadline=$((SECONDS + 10)); shift
    while [ "$SECONDS" -lt "$deadline" ]; do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    echo "world.sh: $name did not come up; see $dir" >&2
    exit 1
}

case "$command" in
start)
    need nsd nsd-checkconf ldns-keygen ldns-signzone unbound unbound-checkconf nginx openssl dig curl ss
    if [ "$(id -u)" = 0 ]; then
        [ -x /usr/lib/postfix/sbin/master ] && id postfix >/dev/null 2>&1 || { echo "world.sh: postfix not found (apt-get install postfix)" >&2; exit 1; }
        [ -f /usr/share/publicsuffix/public_suffix_list.dat ] || { echo "world.sh: the Public Suffix List is missing (apt-get install publicsuffix)" >&2; exit 1; }
    fi
    stop
    rm -rf "$dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    dns_port=$(free_port)
    dead_port=$(free_port)
    https_port=$(free_port)
    forwarder_port=$(free_port)
    vks_port=$(free_port)
    smtp_port=$(free_port)
    milter_smtp_port=$(free_port)
    milter_port=$(free_port)
    opendmarc_smtp_port=$(free_port)
    while [ "$(printf '%s\n' "$dns_port" "$dead_port" "$https_port" "$forwarder_port" "$vks_port" "$smtp_port" "$milter_smtp_port" "$milter_port" "$opendmarc_smtp_port" | sort -u | wc -l)" != 9 ]; do
        dead_port=$(free_port); https_port=$(free_port); forwarder_port=$(free_port); vks_port=$(free_port); smtp_port=$(free_port)
        milter_smtp_port=$(free_port); milter_port=$(free_port); opendmarc_smtp_port=$(free_port)
    done
    # Certificates first: the signed zones carry TLSA records of some of them.
    issue_certificates
    make_dkim_keys
    sign_dns
    start_dns "$dns_port"
    start_https "$https_port" "$vks_port"
    stubs="palisade.example=127.0.0.1@$dns_port"
    for zone in secure insecure expired broken; do stubs+=",$zone.palisade.example=127.0.0.1@$dns_port"; done
    stubs+=",dead.palisade.example=127.0.0.1@$dead_port,lame.example.net=127.0.0.1@$dns_port,example=127.0.0.1@$dns_port"
    if [ "$(id -u)" = 0 ]; then
        # OpenDMARC only where it can run; without it only the comparison with it fails, saying so.
        address53=""
        if command -v opendmarc >/dev/null && command -v unshare >/dev/null; then address53=$(free_address53) || address53=""
        else echo "world.sh: opendmarc or unshare not found (apt-get install opendmarc): no OpenDMARC listener" >&2; fi
        start_forwarder "$forwarder_port" "$stubs" "$address53"
        if [ -z "$address53" ] || ! start_opendmarc "$address53"; then opendmarc_smtp_port=""; fi
        start_smtp "$smtp_port" "$milter_smtp_port" "$milter_port" "$opendmarc_smtp_port"
    else
        start_forwarder "$forwarder_port" "$stubs"
        smtp_port=""; milter_smtp_port=""; opendmarc_smtp_port=""
        echo "world.sh: not root: no Postfix nor OpenDMARC (the doctor and milter tests need them)" >&2
    fi
    cat > "$dir/world.env" <<EOF
PALISADE_TEST_DNS_PORT=$dns_port
PALISADE_TEST_DNS_DEAD_PORT=$dead_port
PALISADE_TEST_DNS_ANCHOR=$dir/dns/anchor.ds
PALISADE_TEST_DNS_STUBS=$stubs
PALISADE_TEST_DNS_FORWARDER=127.0.0.1@$forwarder_port
PALISADE_TEST_HTTPS_PORT=$https_port
PALISADE_TEST_HTTPS_CA=$dir/https/ca.pem
PALISADE_TEST_WKD_ROOT=$dir/https/wkd
PALISADE_TEST_VKS_BACKEND_PORT=$vks_port
PALISADE_TEST_SMTP_PORT=$smtp_port
PALISADE_TEST_SMTP_MILTER_PORT=$milter_smtp_port
PALISADE_TEST_MILTER_PORT=$milter_port
PALISADE_TEST_SMTP_OPENDMARC_PORT=$opendmarc_smtp_port
EOF
    cat "$dir/world.env"
    ;;
stop)
    stop
    ;;
destroy)
    stop
    rm -rf "$dir"
    ;;
*)
    echo "usage: world.sh start|stop|destroy DIR" >&2
    exit 64
    ;;
esac
