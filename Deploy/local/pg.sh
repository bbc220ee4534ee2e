#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for `make run`, `make test` and the benchmarks.
#
#   pg.sh start DIR PORT   initdb (first time) and start on 127.0.0.1:PORT; prints the superuser URL
#   pg.sh stop DIR         stop it (fast shutdown); harmless if it is not running
#   pg.sh restart DIR      pg_ctl restart, keeping data (used by the restart-survival test)
#   pg.sh url DIR          the superuser URL of a running cluster
#   pg.sh database DIR NAME  create database NAME in the running cluster and apply Schemas/ to it (as the
#                          benchmarks do, without platformctl); prints its superuser URL
#
# The cluster listens on loopback only, trusts local connections (it holds test data only), and trades
# durability for speed (fsync off). As root, PostgreSQL refuses to run, so the cluster belongs to the
# `postgres` system user; its data then lives under /var/tmp when DIR is not reachable by that user.
set -euo pipefail

# The server must not inherit our caller's descriptors: a parent waiting for a pipe to close (make's
# $(...), Foundation's Process) would otherwise wait as long as PostgreSQL runs.
for fd in $(ls /proc/$$/fd); do
    if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

command=${1:?usage: pg.sh start|stop|restart|destroy|url|database DIR [PORT|NAME]}
dir=${2:?usage: pg.sh start|stop|restart|destroy|url|database DIR [PORT|NAME]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/initdb" ]; then bindir=$candidate; break; fi
done
if [ -z "$bindir" ] && command -v pg_config >/dev/null; then bindir=$(pg_config --bindir); fi
[ -x "$bindir/initdb" ] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Where the data directory really is: DIR/data, or a directory under /var/tmp that `postgres` can reach.
data_dir() {
    if [ -L "$dir/data" ] || [ -d "$dir/data" ]; then readlink -f "$dir/data"; return; fi
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$dir"; then
        local real
        real=$(mktemp -d /var/tmp/palisade-pg.XXXXXX)
        ln -s "$real" "$dir/data"
        echo "$real"
    else
        mkdir -p "$dir/data"
        echo "$dir/data"
    fi
}

url() {
    echo "postgresql://palisade@127.0.0.1:$(cat "$dir/port")/postgres"
}

case "$command" in
start)
    port=${3:?usage: pg.sh start DIR PORT}
    data=$(data_dir)
    [ "$(id -u)" = 0 ] && chown postgres "$data" && chmod 700 "$data"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$bindir/initdb" -D "$data" --username=palisade --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    echo "$port" >"$dir/port"
    sockets="$data/sockets"
    as_owner mkdir -p "$sockets"
    if as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        url
        exit 0
    fi
    # max_connections: the test suite runs its suites at once, each test with a database and pools of its own
    # (at 300 a full run could see "too many clients", which a child platformctl reports as unreachable).
    as_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$sockets -c max_connections=1000 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB" \
        >/dev/null || { tail -n 30 "$data/server.log" >&2; exit 1; }
    url
    ;;
stop)
    if [ -e "$dir/data" ]; then
        data=$(readlink -f "$dir/data")
        if [ -f "$data/PG_VERSION" ]; then
            as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
        fi
    fi
    ;;
restart)
    data=$(readlink -f "$dir/data")
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 restart >/dev/null
    ;;
destroy)
    "$0" stop "$dir"
    if [ -L "$dir/data" ]; then rm -rf "$(readlink -f "$dir/data")"; fi
    rm -rf "$dir"
    ;;
url)
    url
    ;;
database)
    name=${3:?usage: pg.sh database DIR NAME}
    [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "pg.sh: database name $name is not a lower-case identifier" >&2; exit 2; }
    admin=$(url)
    base=${admin%/postgres}
    schemas=$(cd "$(dirname "$0")/../../Schemas" && pwd)
    psql "$admin" -qc "CREATE DATABASE $name"
    for f in "$schemas"/[0-9]*.sql; do psql "$base/$name" -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null; done
    echo "$base/$name"
    ;;
*)
    echo "pg.sh: unknown command $command" >&2
    exit 2
    ;;
esac
