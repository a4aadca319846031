#!/usr/bin/env bash
# services.sh: starts and stops the private MariaDB and ZooKeeper 3.8 servers that
# Osprey's tests and development setup use. Both listen on free 127.0.0.1 ports
# and keep all their state (data, sockets, logs, pid files) in one directory, so
# they never touch a system-wide MariaDB or ZooKeeper.
#
# Usage: deploy/scripts/services.sh start|stop|restart|status|env
#   start    start both (reusing servers that already run), wait until they
#            answer, write $STATE/env.sh
#   stop     stop both, then kill anything left over that still runs from $STATE
#   restart  stop, then start
#   status   say what runs where; exit 0 only when both answer
#   env      print $STATE/env.sh (exit 1 if the services are not running)
#
# State dir: $OSPREY_SERVICES_DIR, default <repo>/.cache/services.
# $STATE/env.sh exports OSPREY_TEST_MYSQL_DSN (go-sql-driver DSN without a
# database, e.g. root@tcp(127.0.0.1:PORT)/) and OSPREY_TEST_ZK (127.0.0.1:PORT), and
# CHROMIUM_PATH (the system Chromium, unless already set) for the Playwright tests.
# Start-up deadline per service: $OSPREY_SERVICES_TIMEOUT seconds (default 90).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
STATE=${OSPREY_SERVICES_DIR:-$REPO/.cache/services}
TIMEOUT=${OSPREY_SERVICES_TIMEOUT:-90}

MY=$STATE/mariadb
ZK=$STATE/zookeeper

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# now_ms prints the wall clock in milliseconds (for start-up timings).
now_ms() { date +%s%3N; }

# find_bin prints the first of the given programs found in PATH or the sbin dirs.
find_bin() {
  local n d
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    for d in /usr/sbin /usr/local/sbin /sbin; do
      if [ -x "$d/$n" ]; then echo "$d/$n"; return 0; fi
    done
  done
  return 1
}

# pid_alive succeeds when the pid file names a running process whose command
# line mentions $2 (so a recycled pid of some other process is not mistaken
# for our server).
pid_alive() {
  local pidfile=$1 marker=$2 pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker"
}

# port_in_use succeeds when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port prints a port on 127.0.0.1 that nothing listens on. It prefers $1
# (the port used last time) so env.sh stays the same across restarts.
free_port() {
  local want=${1:-} p i
  if [[ $want =~ ^[0-9]+$ ]] && ! port_in_use "$want"; then echo "$want"; return 0; fi
  for i in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if ! port_in_use "$p"; then echo "$p"; return 0; fi
  done
  die "no free port found on 127.0.0.1"
}

# zk_cmd sends a four-letter word to 127.0.0.1:$1 and prints the answer.
zk_cmd() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf %s "$2" >&3 && cat <&3' _ "$1" "$2" 2>/dev/null
}

# zk_serving succeeds when ZooKeeper on 127.0.0.1:$1 answers ruok with imok and
# serves requests: ruok says imok as soon as the port is open, while srvr says
# "not currently serving requests" until the database is loaded.
zk_serving() {
  [ "$(zk_cmd "$1" ruok)" = imok ] && zk_cmd "$1" srvr | grep -q '^Mode: '
}

mysql_client() {
  find_bin mariadb mysql
}

# mysql_query runs SQL against the server on 127.0.0.1:$1 over TCP, as the
# password-less root that tests use.
mysql_query() {
  local port=$1; shift
  timeout 10 "$(mysql_client)" --no-defaults --protocol=TCP -h127.0.0.1 -P"$port" -uroot \
    --connect-timeout=3 -N -B -e "$*" 2>&1
}

mysql_ok() {
  local port
  port=$(cat "$MY/port" 2>/dev/null) || return 1
  pid_alive "$MY/mariadbd.pid" "$MY/data" || return 1
  [ "$(mysql_query "$port" 'SELECT 1' 2>/dev/null)" = 1 ]
}

zk_ok() {
  local port
  port=$(cat "$ZK/port" 2>/dev/null) || return 1
  pid_alive "$ZK/zookeeper.pid" "$ZK/zoo.cfg" || return 1
  zk_serving "$port"
}

# socket_path prints where the MariaDB unix socket goes: in the state dir unless
# that path exceeds the 107-byte sun_path limit, then under /tmp.
socket_path() {
  local s=$MY/mysqld.sock
  if [ ${#s} -gt 100 ]; then
    s=/tmp/osprey-mysqld-$(printf %s "$MY" | cksum | cut -d' ' -f1).sock
  fi
  echo "$s"
}

start_mysql() {
  if mysql_ok; then
    log "mariadb: already running on 127.0.0.1:$(cat "$MY/port") (pid $(cat "$MY/mariadbd.pid"))"
    return 0
  fi
  stop_mysql quiet
  local mariadbd install_db t0 port sock attempt
  mariadbd=$(find_bin mariadbd mysqld) || die "mariadbd not found: run deploy/scripts/install-deps.sh"
  install_db=$(find_bin mariadb-install-db mysql_install_db) || die "mariadb-install-db not found: run deploy/scripts/install-deps.sh"
  mysql_client >/dev/null || die "mariadb client not found: run deploy/scripts/install-deps.sh"
  mkdir -p "$MY/tmp"
  t0=$(now_ms)
  if [ ! -d "$MY/data/mysql" ]; then
    rm -rf "$MY/data"
    local userarg=()
    [ "$(id -u)" = 0 ] && userarg=(--user=root)
    # --no-defaults keeps /etc/mysql/my.cnf (system paths, port 3306) out of it.
    if ! "$install_db" --no-defaults "${userarg[@]}" --datadir="$MY/data" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$MY/install.log" 2>&1; then
      tail -n 30 "$MY/install.log" >&2
      die "mariadb-install-db failed (log: $MY/install.log)"
    fi
  fi
  # Root over TCP without a password: the init file runs at every start and is
  # idempotent, so a data dir from an older run keeps working.
  cat >"$MY/init.sql" <<'SQL'
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
SQL
  sock=$(socket_path)
  for attempt in 1 2 3; do
    port=$(free_port "$(cat "$MY/port" 2>/dev/null || true)")
    echo "$port" >"$MY/port"
    local args=(--no-defaults --datadir="$MY/data" --bind-address=127.0.0.1 --port="$port"
      --socket="$sock" --pid-file="$MY/mariadbd.pid" --log-error="$MY/error.log"
      --tmpdir="$MY/tmp" --init-file="$MY/init.sql"
      --skip-name-resolve --skip-log-bin --performance-schema=OFF
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
      --innodb-buffer-pool-size=128M --innodb-log-file-size=64M
      --innodb-flush-log-at-trx-commit=2 --max-connections=500)
    # Test data: durability across power loss is not needed, speed is.
    [ "$(id -u)" = 0 ] && args+=(--user=root)
    : >"$MY/error.log"
    # 9>&-: the server must not inherit (and hold) the state dir lock.
    setsid "$mariadbd" "${args[@]}" </dev/null >>"$MY/error.log" 2>&1 9>&- &
    local pid=$! deadline=$(( $(date +%s) + TIMEOUT )) ok=0
    echo "$pid" >"$MY/mariadbd.pid"
    while [ "$(date +%s)" -lt "$deadline" ]; do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if [ "$(mysql_query "$port" 'SELECT 1' 2>/dev/null)" = 1 ]; then ok=1; break; fi
      sleep 0.2
    done
    if [ "$ok" = 1 ]; then
      log "mariadb: started on 127.0.0.1:$port (pid $pid) in $(( $(now_ms) - t0 ))ms; $(mysql_query "$port" 'SELECT VERSION()')"
      return 0
    fi
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      log "mariadb: did not answer on 127.0.0.1:$port within ${TIMEOUT}s; last lines of $MY/error.log:"
      tail -n 30 "$MY/error.log" >&2
      die "mariadb did not start"
    fi
    # It exited: most often the port was taken between the check and the bind.
    if grep -q 'Address already in use' "$MY/error.log" && [ "$attempt" -lt 3 ]; then
      log "mariadb: port $port taken, retrying on another"
      rm -f "$MY/port"
      continue
    fi
    log "mariadb: exited during start-up; last lines of $MY/error.log:"
    tail -n 30 "$MY/error.log" >&2
    die "mariadb did not start"
  done
}

# zk_classpath prints the class path for Debian's ZooKeeper 3.8: the server jar
# (its manifest lists its dependencies) and slf4j-simple so it logs to stderr.
zk_classpath() {
  local cp=${OSPREY_ZOOKEEPER_CLASSPATH:-}
  if [ -n "$cp" ]; then echo "$cp"; return 0; fi
  [ -f /usr/share/java/zookeeper.jar ] || return 1
  cp=/usr/share/java/zookeeper.jar
  [ -f /usr/share/java/slf4j-simple.jar ] && cp=$cp:/usr/share/java/slf4j-simple.jar
  echo "$cp"
}

start_zk() {
  if zk_ok; then
    log "zookeeper: already running on 127.0.0.1:$(cat "$ZK/port") (pid $(cat "$ZK/zookeeper.pid"))"
    return 0
  fi
  stop_zk quiet
  local java cp t0 port attempt
  java=$(find_bin java) || die "java not found: run deploy/scripts/install-deps.sh"
  cp=$(zk_classpath) || die "ZooKeeper jar /usr/share/java/zookeeper.jar not found: run deploy/scripts/install-deps.sh"
  mkdir -p "$ZK/data"
  t0=$(now_ms)
  for attempt in 1 2 3; do
    port=$(free_port "$(cat "$ZK/port" 2>/dev/null || true)")
    echo "$port" >"$ZK/port"
    cat >"$ZK/zoo.cfg" <<CFG
# Generated by deploy/scripts/services.sh; rewritten at every start.
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$ZK/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
CFG
    # Small heap, serial GC and C1 only: a test server, started often, on a
    # 2-core machine. preferIPv4Stack and no JMX: start-up needs no network.
    : >"$ZK/zookeeper.log"
    setsid "$java" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Djava.net.preferIPv4Stack=true -Dzookeeper.admin.enableServer=false \
      -Dorg.slf4j.simpleLogger.showDateTime=true \
      -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$ZK/zoo.cfg" \
      </dev/null >>"$ZK/zookeeper.log" 2>&1 9>&- &
    local pid=$! deadline=$(( $(date +%s) + TIMEOUT )) ok=0
    echo "$pid" >"$ZK/zookeeper.pid"
    while [ "$(date +%s)" -lt "$deadline" ]; do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if zk_serving "$port"; then ok=1; break; fi
      sleep 0.2
    done
    if [ "$ok" = 1 ]; then
      log "zookeeper: started on 127.0.0.1:$port (pid $pid) in $(( $(now_ms) - t0 ))ms; $(zk_cmd "$port" srvr | head -n1)"
      return 0
    fi
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      log "zookeeper: no imok from 127.0.0.1:$port within ${TIMEOUT}s; last lines of $ZK/zookeeper.log:"
      tail -n 30 "$ZK/zookeeper.log" >&2
      die "zookeeper did not start"
    fi
    if grep -q 'Address already in use' "$ZK/zookeeper.log" && [ "$attempt" -lt 3 ]; then
      log "zookeeper: port $port taken, retrying on another"
      rm -f "$ZK/port"
      continue
    fi
    log "zookeeper: exited during start-up; last lines of $ZK/zookeeper.log:"
    tail -n 30 "$ZK/zookeeper.log" >&2
    die "zookeeper did not start"
  done
}

# stop_pid sends TERM to the process in $1, waits up to $2 seconds, then KILLs.
stop_pid() {
  local pidfile=$1 wait_s=$2 marker=$3 name=$4 quiet=${5:-} pid i
  if ! pid_alive "$pidfile" "$marker"; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $(( wait_s * 10 ))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: pid $pid ignored TERM for ${wait_s}s, killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  [ -n "$quiet" ] || log "$name: stopped (pid $pid)"
}

# kill_leftovers kills processes whose command line mentions $1 (a path inside
# this state dir, so only servers this script started from here match).
kill_leftovers() {
  local marker=$1 name=$2 pid args
  while read -r pid args; do
    [ "$pid" = $$ ] && continue
    # Only servers: not this script, an editor or a tail -f on the logs.
    case "$args" in
      *mariadbd*|*mysqld*|*QuorumPeerMain*)
        log "$name: killing leftover pid $pid"
        kill -KILL "$pid" 2>/dev/null || true ;;
    esac
  done < <(ps -eo pid=,args= | grep -F -- "$marker" || true)
}

stop_mysql() {
  stop_pid "$MY/mariadbd.pid" 30 "$MY/data" mariadb "${1:-}"
  kill_leftovers "$MY/data" mariadb
  rm -f "$(socket_path)"
}

stop_zk() {
  stop_pid "$ZK/zookeeper.pid" 15 "$ZK/zoo.cfg" zookeeper "${1:-}"
  kill_leftovers "$ZK/zoo.cfg" zookeeper
}

write_env() {
  local my_port zk_port tmp
  my_port=$(cat "$MY/port")
  zk_port=$(cat "$ZK/port")
  tmp=$STATE/env.sh.tmp
  cat >"$tmp" <<ENV
# Written by deploy/scripts/services.sh start; source it: . $STATE/env.sh
export OSPREY_TEST_MYSQL_DSN='root@tcp(127.0.0.1:$my_port)/'
export OSPREY_TEST_ZK='127.0.0.1:$zk_port'
ENV
  # The Playwright tests launch the system Chromium (web/playwright.config.ts
  # reads CHROMIUM_PATH); a value the caller already set wins.
  local chromium
  if chromium=$(find_bin chromium chromium-browser google-chrome); then
    printf ': "${CHROMIUM_PATH:=%s}"\nexport CHROMIUM_PATH\n' "$chromium" >>"$tmp"
  fi
  mv "$tmp" "$STATE/env.sh"
}

cmd_start() {
  mkdir -p "$STATE"
  # One start at a time per state dir (make targets may run in parallel).
  exec 9>"$STATE/.lock"
  flock -w "$(( TIMEOUT * 2 + 30 ))" 9 || die "another services.sh holds $STATE/.lock"
  local t0
  t0=$(now_ms)
  # If one service fails, stop the ones this run started: a failed start
  # leaves nothing running behind.
  STARTED=()
  trap 'rc=$?; if [ "$rc" != 0 ]; then for s in "${STARTED[@]}"; do "stop_$s" quiet; done; fi' EXIT
  if ! mysql_ok; then STARTED+=(mysql); fi
  start_mysql
  if ! zk_ok; then STARTED+=(zk); fi
  start_zk
  trap - EXIT
  write_env
  log "ready in $(( $(now_ms) - t0 ))ms; environment in $STATE/env.sh:"
  cat "$STATE/env.sh" >&2
}

cmd_stop() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 120 9 || die "another services.sh holds $STATE/.lock"
  stop_zk
  stop_mysql
  rm -f "$STATE/env.sh"
}

cmd_status() {
  local rc=0
  if mysql_ok; then
    log "mariadb: running on 127.0.0.1:$(cat "$MY/port") (pid $(cat "$MY/mariadbd.pid"))"
  else
    log "mariadb: not running"; rc=1
  fi
  if zk_ok; then
    log "zookeeper: running on 127.0.0.1:$(cat "$ZK/port") (pid $(cat "$ZK/zookeeper.pid"))"
  else
    log "zookeeper: not running"; rc=1
  fi
  return "$rc"
}

cmd_env() {
  if [ ! -f "$STATE/env.sh" ] || ! mysql_ok || ! zk_ok; then
    die "services are not running (state dir $STATE): run deploy/scripts/services.sh start"
  fi
  cat "$STATE/env.sh"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  env) cmd_env ;;
  -h|--help|help) sed -n '2,20p' "$0" ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
