#!/usr/bin/env bash
# Two throw-away PostgreSQL clusters on 127.0.0.1: a primary (wal_level=replica, a replication
# role and its pg_hba line) and a hot standby made by `pg_basebackup -R` that streams from it.
# Prints the primary's URL, then the standby's. As root, the clusters run as the postgres user.
# Usage: .ci/pg-replica.sh start DIR PRIMARY_PORT STANDBY_PORT | .ci/pg-replica.sh stop DIR
# (the steps of docs/SERVER.md «A read-only server on a PostgreSQL standby», scripted)
set -euo pipefail
action=$1; dir=$2
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bindir" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
asuser() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$action" in
  start)
    pport=$3; sport=$4
    mkdir -p "$dir"; chmod 755 "$dir"; [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/primary/PG_VERSION" ]; then
      asuser "$bindir/initdb" -D "$dir/primary" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
      cat >>"$dir/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pport
unix_socket_directories = '$dir'
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
fsync = off
max_connections = 200
EOF
      echo "host replication replicator 127.0.0.1/32 trust" >>"$dir/primary/pg_hba.conf"
    fi
    asuser "$bindir/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w -t 60 start >/dev/null
    if [ ! -f "$dir/standby/PG_VERSION" ]; then
      asuser "$bindir/psql" -h 127.0.0.1 -p "$pport" -U postgres -d postgres -qtA \
        -c "CREATE ROLE replicator WITH REPLICATION LOGIN" >/dev/null
      asuser "$bindir/pg_basebackup" -h 127.0.0.1 -p "$pport" -U replicator -D "$dir/standby" \
        -R -X stream -c fast
      echo "port = $sport" >>"$dir/standby/postgresql.auto.conf"
    fi
    asuser "$bindir/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w -t 60 start >/dev/null
    echo "postgresql+psycopg://postgres@127.0.0.1:$pport/postgres"
    echo "postgresql+psycopg://postgres@127.0.0.1:$sport/postgres"
    ;;
  stop)
    for c in standby primary; do
      [ -f "$dir/$c/PG_VERSION" ] && { asuser "$bindir/pg_ctl" -D "$dir/$c" -m fast stop >/dev/null || true; }
    done
    ;;
esac
