# Sourced by the benchmarks: a throwaway PostgreSQL cluster from Debian's server binaries, on a
# free loopback port, in a folder of its own. PostgreSQL refuses to run as root, so as root the
# cluster runs as the `postgres` user.
#
#   throwaway_postgres_start DIR [SERVER OPTIONS...]
#       initdb in DIR/data, start it with its socket in DIR and its log in DIR/server.log; sets
#       pg_bin, as_pg (the prefix that runs a command as the cluster's owner), pg_port and
#       DATABASE_URL (exported).
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

throwaway_postgres_stop() {
  if [ -n "$pg_bin" ]; then $as_pg "$pg_bin/pg_ctl" -D "$1/data" -m immediate stop >/dev/null 2>&1 || true; fi
}
