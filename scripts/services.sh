#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis servers the tests talk to are up on 127.0.0.1.
set -euo pipefail

wait_for() {
  local what=$1; shift
  for _ in $(seq 1 50); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$what did not come up" >&2
  return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  else
    echo "PostgreSQL is not running on 127.0.0.1:5432 and pg_ctlcluster is not installed" >&2
    exit 1
  fi
  wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "starting Redis" >&2
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
  else
    echo "Redis is not running on 127.0.0.1:6379 and redis-server is not installed" >&2
    exit 1
  fi
  wait_for Redis sh -c 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG'
fi

# PgBouncer in transaction pooling mode on 127.0.0.1:6432, in front of that PostgreSQL, as
# production deployments run it (the tests start PgBouncers of their own from the same
# package). It refuses to run as root: as root it runs as postgres.
if ! command -v pgbouncer >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing PgBouncer" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
  else
    echo "PgBouncer is not installed: run 'sudo apt-get install pgbouncer'" >&2
    exit 1
  fi
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6432) 2>/dev/null; then
  echo "starting PgBouncer" >&2
  directory=${TMPDIR:-/tmp}/fulfilment-pgbouncer
  mkdir -p "$directory"
  cat >"$directory/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6432
unix_socket_dir =
auth_type = trust
auth_file = $directory/userlist.txt
pool_mode = transaction
default_pool_size = 10
max_client_conn = 1000
logfile = $directory/pgbouncer.log
pidfile = $directory/pgbouncer.pid
INI
  echo '"postgres" ""' >"$directory/userlist.txt"
  as_user=()
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres "$directory"
    as_user=(-u postgres)
  fi
  pgbouncer -d "${as_user[@]}" "$directory/pgbouncer.ini"
  wait_for PgBouncer bash -c 'exec 3<>/dev/tcp/127.0.0.1/6432'
fi
