#!/usr/bin/env bash
# capture.sh: records real ZooKeeper 3.8 four-letter-word answers for the
# zkstatus parser tests. Starts, in a temporary directory, a standalone server
# (all words whitelisted), a standalone server whitelisting only srvr, and a
# three-node ensemble (capturing its first node alone, before it has a quorum,
# then the leader and a follower), runs capture.go against them and stops them.
# Needs Debian's zookeeper package (deploy/scripts/install-deps.sh).
# Usage: admin/zkstatus/testdata/capture.sh   (from anywhere)
# The parser tests assert values read from these files (counters, zxids, session
# ids): after a new capture, update the expectations in parse_test.go.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d /tmp/osprey-zkcapture-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
CP=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar
port() { echo $(( 30000 + RANDOM % 20000 )); }

start() { # name, cfg lines...
  local name=$1; shift
  mkdir -p "$WORK/$name/data"
  printf '%s\n' "tickTime=2000" "initLimit=10" "syncLimit=5" "dataDir=$WORK/$name/data" \
    "clientPortAddress=127.0.0.1" "admin.enableServer=false" "$@" >"$WORK/$name/zoo.cfg"
  java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.net.preferIPv4Stack=true \
    -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$WORK/$name/zoo.cfg" \
    >"$WORK/$name/log" 2>&1 &
  PIDS+=($!)
}
ask() { timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf %s "$2" >&3 && cat <&3' _ "$1" "$2" 2>/dev/null || true; }
wait_mode() { # port, regexp on srvr's Mode line
  for _ in $(seq 1 300); do
    ask "$1" srvr | grep -qE "^Mode: $2" && return 0
    sleep 0.2
  done
  echo "no Mode: $2 on port $1" >&2; return 1
}

SA=$(port); RS=$(port)
start standalone "clientPort=$SA" "4lw.commands.whitelist=*"
start restricted "clientPort=$RS" "4lw.commands.whitelist=srvr"
E1=$(port); E2=$(port); E3=$(port)
servers=()
for i in 1 2 3; do servers+=("server.$i=127.0.0.1:$(port):$(port)"); done
for i in 1 2 3; do
  mkdir -p "$WORK/e$i/data"; echo "$i" >"$WORK/e$i/data/myid"
done
start e1 "clientPort=$E1" "4lw.commands.whitelist=*" "${servers[@]}"
wait_mode "$SA" standalone
wait_mode "$RS" standalone
# e1 alone has no quorum: it answers but does not serve.
for _ in $(seq 1 100); do [ "$(ask "$E1" ruok)" = imok ] && break; sleep 0.2; done
cd "$HERE"
go run capture.go -out "$HERE" -sessions=false -cmds ruok,srvr,mntr,cons "noquorum=127.0.0.1:$E1"
start e2 "clientPort=$E2" "4lw.commands.whitelist=*" "${servers[@]}"
start e3 "clientPort=$E3" "4lw.commands.whitelist=*" "${servers[@]}"
for p in "$E1" "$E2" "$E3"; do wait_mode "$p" '(leader|follower)'; done
leader=; follower=
for p in "$E1" "$E2" "$E3"; do
  if ask "$p" srvr | grep -q '^Mode: leader'; then leader=$p; else follower=$p; fi
done
go run capture.go -out "$HERE" standalone=127.0.0.1:$SA "leader=127.0.0.1:$leader" "follower=127.0.0.1:$follower"
go run capture.go -out "$HERE" -sessions=false -cmds ruok,srvr,mntr,cons,stat "restricted=127.0.0.1:$RS"
echo "captured into $HERE"
