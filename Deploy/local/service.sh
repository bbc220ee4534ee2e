#!/usr/bin/env bash
# Starts and stops one Palisade service in the background for `make run` / `make stop`.
#
#   service.sh start NAME DIR HEALTH_URL COMMAND…   run COMMAND, log to DIR/NAME.log, pid in DIR/NAME.pid,
#                                                  and wait until HEALTH_URL answers 200 (or the process dies)
#   service.sh stop NAME DIR                       SIGTERM it and wait for it to exit
set -euo pipefail

action=${1:?usage: service.sh start|stop NAME DIR …}
name=${2:?service name}
dir=${3:?directory}
pidfile="$dir/$name.pid"

running() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "$action" in
start)
    health=${4:?health URL}
    shift 4
    if running; then
        echo "$name is already running (pid $(cat "$pidfile"))"
        exit 0
    fi
    nohup "$@" >>"$dir/$name.log" 2>&1 &
    echo $! >"$pidfile"
    # Readiness: the service answers its health check. A start-up failure (bad configuration, port in
    # use) ends the process, which is reported with the end of its log.
    for _ in $(seq 1 300); do
        if ! running; then
            echo "$name did not start; the end of $dir/$name.log:" >&2
            tail -n 20 "$dir/$name.log" >&2
            exit 1
        fi
        if curl -fsS -o /dev/null --max-time 2 "$health" 2>/dev/null; then
            echo "$name is running (pid $(cat "$pidfile"))"
            exit 0
        fi
        sleep 0.2
    done
    echo "$name did not become healthy within 60 s; see $dir/$name.log" >&2
    exit 1
    ;;
stop)
    if running; then
        pid=$(cat "$pidfile")
        kill -TERM "$pid"
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then echo "$name did not stop within 30 s; killing it" >&2; kill -KILL "$pid"; fi
    fi
    rm -f "$pidfile"
    ;;
*)
    echo "usage: service.sh start|stop NAME DIR …" >&2
    exit 64
    ;;
esac
