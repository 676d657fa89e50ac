#!/usr/bin/env bash
# Runs a private, throwaway PostgreSQL for the tests (the ctest fixture postgres_start/_stop).
#   pg-test-server.sh start DIR    initdb + start on a free 127.0.0.1 port (idempotent)
#   pg-test-server.sh stop DIR     stop it and remove DIR and the cluster
#   pg-test-server.sh restart DIR  restart on the same port (tests restart the DB under load)
#   pg-test-server.sh url DIR      print postgresql://postgres:PASSWORD@127.0.0.1:PORT/postgres
# DIR holds only url, port, password, cluster (path of the real cluster) and log (a symlink).
# The cluster itself lives in a mktemp dir under /tmp: as root the server runs as `postgres`,
# which may not be able to traverse or write DIR's parents, and /tmp keeps the unix socket path
# under its 107-byte limit.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|restart|url DIR" >&2
  exit 2
}
(($# == 2)) || usage
cmd=$1
dir=$(realpath -m -- "$2")
[[ $dir != / ]] || usage

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

# Newest /usr/lib/postgresql/N/bin (Debian's layout), else what pg_config reports.
find_bindir() {
  local d="" dirs
  dirs=(/usr/lib/postgresql/*/bin)
  [[ -d ${dirs[0]} ]] && d=$(printf '%s\n' "${dirs[@]}" | sort -V | tail -n 1)
  if [[ -z $d || ! -x $d/initdb ]] && command -v pg_config >/dev/null; then
    d=$(pg_config --bindir)
  fi
  [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]] ||
    die "PostgreSQL server binaries (initdb, pg_ctl) not found; install the Debian package" \
      "'postgresql' (scripts/setup.sh installs it)"
  echo "$d"
}
bindir=$(find_bindir)

# PostgreSQL refuses to run as root: run the server tools as `postgres` then. cd / because
# the caller's cwd may be unreadable for postgres (initdb and pg_ctl warn or fail on that).
as_pg() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}
if ((EUID == 0)); then
  id -u postgres >/dev/null 2>&1 || die "user 'postgres' missing; install the Debian package 'postgresql'"
fi

# pg_ctl leaves the postmaster running in the background: close every fd above 2 first so it
# does not hold our flock (fd 9, which would block the next call) or a caller's pipe open.
pg_ctl() {
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done 2>/dev/null
    as_pg "$bindir/pg_ctl" "$@"
  )
}

cluster() { cat "$dir/cluster" 2>/dev/null || true; }
# pg_ctl status alone is fooled by a dead postmaster not yet reaped (a zombie still has its PID,
# seen for ~1 s here): also require the port to answer.
alive() {
  local c
  c=$(cluster)
  [[ -n $c && -d $c/data ]] && pg_ctl -D "$c/data" status >/dev/null 2>&1
}
running() { [[ -f $dir/port ]] && port_in_use "$(cat "$dir/port")" && alive; }
# A server wedged by a load test may not stop fast: then immediate (it is thrown away anyway).
# pg_ctl stop fails on a postmaster that died (kill -9, crash): fine when nothing is left.
stop_server() {
  alive || return 0
  pg_ctl -D "$(cluster)/data" -m fast -w -t 30 -s stop 2>/dev/null ||
    pg_ctl -D "$(cluster)/data" -m immediate -w -t 10 -s stop 2>/dev/null ||
    ! alive || echo "pg-test-server: could not stop the server in $(cluster)" >&2
}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Only ever rm -rf something this script made.
remove_cluster() {
  local c
  c=$(cluster)
  if [[ $c == /tmp/hermes-pg.* ]]; then rm -rf -- "$c"; fi
}

# Serialise concurrent invocations on the same DIR (e.g. two ctest runs sharing a build dir).
lock() {
  mkdir -p -- "$dir"
  exec 9>"$dir/.lock"
  flock 9
}

start() {
  lock
  if running; then
    echo "postgres: already running on 127.0.0.1:$(cat "$dir/port") ($dir)"
    return 0
  fi
  # A stale DIR (crash, reboot wiped /tmp): start from scratch, the tests create their own DBs.
  stop_server
  remove_cluster
  rm -f -- "$dir"/{url,port,password,cluster,log}

  local c password
  # /tmp, not $TMPDIR: root's may be private to root, and a long one breaks the socket path.
  c=$(mktemp -d /tmp/hermes-pg.XXXXXX)
  echo "$c" >"$dir/cluster"
  ln -s "$c/log" "$dir/log"
  if ((EUID == 0)); then chown postgres: "$c"; fi

  password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (umask 077 && printf '%s\n' "$password" >"$dir/password")
  # initdb (as postgres) cannot read root's 600 file: give it its own copy, deleted right after.
  # --no-sync: a throwaway cluster needs no fsync (halves initdb time here).
  (umask 077 && printf '%s\n' "$password" >"$c/pwfile")
  if ((EUID == 0)); then chown postgres: "$c/pwfile"; fi
  if ! as_pg "$bindir/initdb" -D "$c/data" --auth-local=trust --auth-host=scram-sha-256 \
    --username=postgres --pwfile="$c/pwfile" --encoding=UTF8 --locale=C.UTF-8 --no-sync \
    >"$c/initdb.log" 2>&1; then
    cat "$c/initdb.log" >&2
    die "initdb failed"
  fi
  rm -f -- "$c/pwfile"

  # Durability off (a test DB is thrown away) and no TCP but loopback; socket in the cluster.
  cat >>"$c/data/postgresql.conf" <<EOF

# pg-test-server.sh: throwaway test server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$c'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 32MB
EOF

  # Random ports rather than a fixed one so parallel runs and other servers do not collide;
  # skip ports something listens on, and retry when we lose a race for the bind.
  local port
  for _ in $(seq 20); do
    port=$((20000 + RANDOM % 12768))  # below Linux's ephemeral ports (32768-60999)
    port_in_use "$port" && continue
    rm -f -- "$c/log"
    if pg_ctl -D "$c/data" -l "$c/log" -o "-p $port" -w -t 30 -s start \
      >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      (umask 077 && printf '%s\n' "postgresql://postgres:$password@127.0.0.1:$port/postgres" >"$dir/url")
      echo "postgres: running on 127.0.0.1:$port ($dir)"
      return 0
    fi
    grep -q 'Address already in use' "$c/log" 2>/dev/null || {
      tail -n 20 "$c/log" >&2 || true
      die "pg_ctl start failed (log: $c/log)"
    }
  done
  die "no free port in 20000-32767 after 20 tries"
}

stop() {
  [[ -d $dir ]] || return 0
  lock
  stop_server
  remove_cluster
  # Remove only our files, not rm -rf: a mistyped DIR must not wipe a tree.
  rm -f -- "$dir"/{url,port,password,cluster,log,.lock}
  rmdir -- "$dir" 2>/dev/null || echo "pg-test-server: left $dir (holds other files)" >&2
}

restart() {
  [[ -f $dir/port ]] || die "no server in $dir (start it first)"
  lock
  local c
  c=$(cluster)
  # -o again: the port must stay what DIR/url says.
  pg_ctl -D "$c/data" -l "$c/log" -o "-p $(cat "$dir/port")" -m fast -w -t 30 -s \
    restart >/dev/null || die "pg_ctl restart failed (log: $c/log)"
  echo "postgres: restarted on 127.0.0.1:$(cat "$dir/port") ($dir)"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  url)
    [[ -f $dir/url ]] || die "no server in $dir (missing $dir/url)"
    cat "$dir/url"
    ;;
  *) usage ;;
esac
