#!/usr/bin/env bash
# Real WKD clients against a publisher on this machine: GnuPG (gpg --locate-keys through dirmngr) and
# Sequoia (sq wkd get) fetch each ADDRESS over HTTPS on port 443, either from an nginx on 127.0.0.2 with a
# certificate of the test world's CA, which proxies to a running palisade-wkd (--upstream HOST:PORT, the
# TLS-terminating proxy of README.md) or serves a static export (--root DIR), or from a publisher's own
# HTTPS listener already on IP:443 with certificates of that CA (--server IP). The clients run in a
# private mount namespace whose /etc/hosts (the only source of host names there) sends the address's
# domain (and, for the advanced method, its openpgpkey host) to that address and whose CA bundle trusts
# the test CA; nothing outside changes.
#
#   wkd-clients.sh WORKDIR CA.pem CA.key (--upstream HOST:PORT | --root DIR | --server IP) (advanced|direct) ADDRESS...
#
# For each ADDRESS it writes WORKDIR/gpg-ADDRESS.pgp and WORKDIR/sq-ADDRESS.pgp: what each client fetched
# (empty when it found nothing), and their logs beside them. Needs root (port 443, mount namespaces).
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
usage() { echo "usage: wkd-clients.sh WORKDIR CA.pem CA.key (--upstream HOST:PORT | --root DIR | --server IP) (advanced|direct) ADDRESS..." >&2; exit 64; }
[ $# -ge 7 ] || usage
work=$1 ca=$2 ca_key=$3 mode=$4 target=$5 method=$6
shift 6
[ "$(id -u)" = 0 ] || { echo "wkd-clients.sh: needs root (nginx on 127.0.0.2:443, a private mount namespace); CI runs as root" >&2; exit 77; }
case "$mode" in --upstream|--root|--server) ;; *) usage ;; esac
case "$method" in advanced|direct) ;; *) usage ;; esac
mkdir -p "$work"
work=$(cd "$work" && pwd)

# Host names: each address's domain, and its openpgpkey host for the advanced method.
names=()
for address in "$@"; do
    domain=${address##*@}
    names+=("$domain" "openpgpkey.$domain")
done
mapfile -t names < <(printf '%s\n' "${names[@]}" | sort -u)
sans=$(printf 'DNS:%s,' "${names[@]}"); sans=${sans%,}

server_ip=127.0.0.2
if [ "$mode" = --server ]; then
    server_ip=$target
else
    # A certificate for those names from the test CA.
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/wkd.key" -out "$work/wkd.csr" \
        -subj "/CN=${names[0]}" -addext "subjectAltName=$sans" 2>/dev/null
    openssl x509 -req -in "$work/wkd.csr" -CA "$ca" -CAkey "$ca_key" -CAcreateserial -days 2 -copy_extensions copy \
        -out "$work/wkd.pem" 2>/dev/null

    # nginx on 127.0.0.2:443: the TLS-terminating proxy of the README, or the static export.
    mkdir -p "$work/nginx/tmp"
    if [ "$mode" = --upstream ]; then
        location="location /.well-known/openpgpkey/ { proxy_pass http://$target; proxy_set_header Host \$host; proxy_http_version 1.1; }"
    else
        location="root $target/\$host; location /.well-known/openpgpkey/ { default_type application/octet-stream; add_header Access-Control-Allow-Origin * always; }"
    fi
    cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 64; }
http {
    log_format hosts '\$host \$request_uri \$status';
    access_log $work/nginx/access.log hosts;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    server_names_hash_bucket_size 128;
    server {
        listen 127.0.0.2:443 ssl;
        server_name ${names[*]};
        ssl_certificate $work/wkd.pem;
        ssl_certificate_key $work/wkd.key;
        $location
    }
}
EOF
    nginx -q -t -c "$work/nginx/nginx.conf" -p "$work/nginx" -e "$work/nginx/error.log"
    # In the foreground as our child, so that it is gone (and 127.0.0.2:443 free) when this script is.
    nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -e "$work/nginx/error.log" -g "daemon off;" &
    nginx_pid=$!
    stop_nginx() { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; }
    trap stop_nginx EXIT
    for _ in $(seq 1 100); do [ -s "$work/nginx/nginx.pid" ] && break; sleep 0.05; done
fi

# The clients' view: hosts and a CA bundle with the test CA.
{
    echo "127.0.0.1 localhost"
    for address in "$@"; do
        domain=${address##*@}
        # Advanced against the publisher itself: only the openpgpkey host exists, so a client cannot fall back to
        # the direct method unseen (there is no nginx log to tell).
        if [ "$method" = direct ]; then echo "$server_ip $domain"
        elif [ "$mode" = --server ]; then echo "$server_ip openpgpkey.$domain"
        else echo "$server_ip openpgpkey.$domain $domain"; fi
    done
} > "$work/hosts"
cat /etc/ssl/certs/ca-certificates.crt "$ca" > "$work/ca-bundle.crt"
# Host names from that file only: no DNS, so a test never reaches out and "does not exist" is certain.
sed -E 's/^hosts:.*/hosts: files/' /etc/nsswitch.conf > "$work/nsswitch.conf"

cat > "$work/clients.sh" <<'EOF'
set -euo pipefail
work=$1; shift
mount --bind "$work/hosts" /etc/hosts
mount --bind "$work/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$work/ca-bundle.crt" /etc/ssl/certs/ca-certificates.crt
for address in "$@"; do
    home="$work/gnupg-$address"
    rm -rf "$home"; mkdir -m 700 "$home"
    # The system resolver (so /etc/hosts counts); no keyserver: WKD only.
    echo standard-resolver > "$home/dirmngr.conf"
    gpg --homedir "$home" --batch --no-tty --auto-key-locate clear,nodefault,wkd --locate-keys "$address" > "$work/gpg-$address.log" 2>&1 || true
    gpg --homedir "$home" --batch --export "$address" > "$work/gpg-$address.pgp" 2>>"$work/gpg-$address.log" || true
    gpgconf --homedir "$home" --kill all >/dev/null 2>&1 || true
    HOME="$home" SSL_CERT_FILE="$work/ca-bundle.crt" sq wkd get --binary --output "$work/sq-$address.pgp" "$address" > "$work/sq-$address.log" 2>&1 || : > "$work/sq-$address.pgp"
done
EOF
unshare --mount --propagation private bash "$work/clients.sh" "$work" "$@"
