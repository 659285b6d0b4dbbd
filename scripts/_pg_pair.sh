# Sourced by scripts/pg-pair and scripts/pg-failover: where the pair lives and how to reach it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PRIMARY_PORT=${PG_PAIR_PRIMARY_PORT:-15432}
REPLICA_PORT=${PG_PAIR_REPLICA_PORT:-15433}
# PostgreSQL refuses to run as root; as root the servers run as the postgres user, whose data
# directory must not sit under a folder only root can enter.
if [ "$(id -u)" = 0 ]; then
  PAIR_DIR=${PG_PAIR_DIR:-/tmp/headroom-pg-pair-$(printf '%s' "$PWD" | sha1sum | cut -c1-8)}
else
  PAIR_DIR=${PG_PAIR_DIR:-$PWD/var/pg-pair}
fi
PRIMARY_DIR=$PAIR_DIR/primary
REPLICA_DIR=$PAIR_DIR/replica

say() { echo "==> $(basename "$0"): $*"; }

find_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    say "PostgreSQL server binaries not found; installing them with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$dir"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_at() {  # port, sql
  psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -tAq -c "$2"
}

wait_ready() {  # port, name
  for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$1"; then return 0; fi
    sleep 0.5
  done
  say "$2 did not become ready on port $1; log: $PAIR_DIR/$2.log" >&2
  tail -n 20 "$PAIR_DIR/$2.log" >&2 || true
  return 1
}

