#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432 (trust auth, database "test") for the integration tests.
# Order: already running -> start the Debian cluster -> a throwaway cluster from the PostgreSQL binaries
# -> install Debian's postgresql and start it.
set -euo pipefail
port=5432
ready() { pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null; }

ensure_test_db() {
  psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
    || createdb -h 127.0.0.1 -p "$port" -U postgres test
}

if ready; then ensure_test_db; echo "postgres: already running"; exit 0; fi

if ! command -v pg_ctlcluster >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do ready && break; sleep 0.5; done
fi

if ! ready; then
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  data=/tmp/vposlab-pg
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data" && chown postgres:postgres "$data"
    runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale --no-sync >/dev/null
  fi
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -o "-p $port -k $data -h 127.0.0.1" -w -l "$data/log" start >/dev/null
fi

ready || { echo "postgres: could not start" >&2; exit 1; }
ensure_test_db
echo "postgres: running on 127.0.0.1:$port"
