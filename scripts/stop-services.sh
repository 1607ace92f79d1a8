#!/usr/bin/env bash
# Stops what scripts/start-services.sh started: the OpenBao dev server (by its recorded pid) and
# the private PostgreSQL cluster in .build/services/pg (pg_ctl stop). Safe to run twice.
set -euo pipefail

cd "$(dirname "$0")/.."
SERVICES="$PWD/.build/services"
PG_DIR="$SERVICES/pg"

log() { echo "stop-services: $*" >&2; }
die() { echo "stop-services: error: $*" >&2; exit 1; }
status=0

# ── OpenBao ──────────────────────────────────────────────────────────────────
if [ -f "$SERVICES/bao.pid" ]; then
    pid="$(cat "$SERVICES/bao.pid")"
    # Only signal the pid if it still is a bao server (pids are reused).
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa 'bao' "/proc/$pid/cmdline" 2>/dev/null; then
        log "stopping OpenBao (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            log "OpenBao (pid $pid) ignored SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    else
        log "OpenBao is not running (recorded pid ${pid:-none})"
    fi
    rm -f "$SERVICES/bao.pid"
else
    log "OpenBao: nothing recorded"
fi

# ── PostgreSQL ───────────────────────────────────────────────────────────────
pg_data="$(readlink -f "$PG_DIR" 2>/dev/null || echo "$PG_DIR")/data"
if [ -f "$pg_data/PG_VERSION" ]; then
    pg_ctl=""
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/pg_ctl" ] && { pg_ctl="$d/pg_ctl"; break; }
    done
    [ -n "$pg_ctl" ] || die "a cluster is in $pg_data but pg_ctl was not found"
    if [ "$(id -u)" -eq 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi
    if as_pg "$pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
        log "stopping PostgreSQL ($pg_data)"
        as_pg "$pg_ctl" -D "$pg_data" -m fast -w -t 60 stop >/dev/null || { log "pg_ctl stop failed"; status=1; }
    else
        log "PostgreSQL is not running ($pg_data)"
    fi
else
    log "PostgreSQL: no cluster in $PG_DIR"
fi

rm -f "$SERVICES/env"
exit "$status"
