# Sourced by the benchmarks: a throwaway PostgreSQL cluster from Debian's server binaries, on a
# free loopback port, in a folder of its own. PostgreSQL refuses to run as root, so as root the
# cluster runs as the `postgres` user.
#
#   throwaway_postgres_start DIR [SERVER OPTIONS...]
#       initdb in DIR/data, start it with its socket in DIR and its log in DIR/server.log; sets
#       pg_bin, as_pg (the prefix that runs a command as the cluster's owner), pg_port and
#       DATABASE_URL (exported).
#   throwaway_postgres_warm_wal MB
#       writes about MB megabytes of WAL and checkpoints, so that the cluster has that much WAL
#       recycled, ready to be written over, as a server that has been running does. A new
#       cluster has none: each 16 MB segment is first created, filled with zeros and fsynced by
#       whichever backend needs it. The three `\copy` baselines, timed after the batch, find the
#       batch's segments recycled; warming first puts the batch on the same footing.
#   throwaway_postgres_stop DIR
#       stops it at once, if it was started (for an EXIT trap).

pg_bin=""
as_pg=""

throwaway_postgres_start() {
  local dir=$1
  shift
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; as_pg="runuser -u postgres --"; fi
  pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  $as_pg "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  $as_pg "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-k $dir -p $pg_port -c listen_addresses=127.0.0.1 $*" start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
}

throwaway_postgres_warm_wal() {
  # A row of 200 characters writes about 250 bytes of WAL.
  psql "$DATABASE_URL" -q -c "CREATE TABLE wal_warmup AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, $1 * 4000) g" \
    -c "DROP TABLE wal_warmup" -c "CHECKPOINT"
}

throwaway_postgres_stop() {
  if [ -n "$pg_bin" ]; then $as_pg "$pg_bin/pg_ctl" -D "$1/data" -m immediate stop >/dev/null 2>&1 || true; fi
}
