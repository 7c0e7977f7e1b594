#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for Custos's tests (see docs/postgres.md).
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # prints `export CUSTOS_PG_URL=… CUSTOS_PG_DIR=…`
#                                                # (and CUSTOS_PG_TLS_CA, the server's self-signed cert)
#   npm test
#   scripts/pg-test-cluster.sh stop              # stops the cluster in $CUSTOS_PG_DIR and removes it
#
# `start` installs Debian's `postgresql` when it is missing (root only), creates a cluster in a
# fresh temp dir owned by the `postgres` user (initdb refuses to run as root), starts it on a free
# port on 127.0.0.1 with trust auth, and waits until it accepts connections. Everything but the
# final export lines goes to stderr, so `eval "$(… start)"` is safe.
set -euo pipefail

log() { echo "pg-test-cluster: $*" >&2; }

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

ensure_installed() {
  if pg_bindir >/dev/null; then return; fi
  if [ "$(id -u)" -ne 0 ]; then
    log "PostgreSQL is not installed; run: sudo apt-get install -y postgresql"
    exit 1
  fi
  log "installing Debian postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

# Runs a command as the cluster owner: the postgres user when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    su postgres -s /bin/sh -c "$1"
  else
    sh -c "$1"
  fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  ensure_installed
  local bin dir port
  bin=$(pg_bindir)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/custos-pg.XXXXXX")
  chmod 700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  log "initdb in $dir"
  as_owner "'$bin/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >'$dir/initdb.log' 2>&1" ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  # A self-signed certificate, so tests can exercise TLS (the server also accepts plain connections).
  local tls_opts=""
  if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1; then
    chmod 600 "$dir/server.key"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/server.key" "$dir/server.crt"
    tls_opts="-c ssl=on -c ssl_cert_file='$dir/server.crt' -c ssl_key_file='$dir/server.key'"
  fi
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 30 \
        -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 $tls_opts\" start" >&2; then
      echo "$port" >"$dir/port"
      log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') ready on 127.0.0.1:$port"
      echo "export CUSTOS_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
      echo "export CUSTOS_PG_DIR=$dir"
      [ -n "$tls_opts" ] && echo "export CUSTOS_PG_TLS_CA=$dir/server.crt"
      return
    fi
    log "start on port $port failed (attempt $attempt)"
    tail -n 5 "$dir/server.log" >&2 || true
  done
  exit 1
}

stop() {
  local dir="${1:-${CUSTOS_PG_DIR:-}}"
  if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
    log "nothing to stop (set CUSTOS_PG_DIR or pass the directory)"
    return
  fi
  local bin
  bin=$(pg_bindir)
  as_owner "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop" >&2 || true
  rm -rf "$dir"
  log "stopped and removed $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: $0 start | stop [dir]" >&2
    exit 2
    ;;
esac
