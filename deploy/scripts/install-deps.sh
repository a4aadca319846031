#!/usr/bin/env bash
# install-deps.sh: installs the Debian packages Osprey's development services and
# tests need (MariaDB, ZooKeeper 3.8 with a headless JRE, Chromium for the
# Playwright tests and a CJK font for their Chinese screenshots, kcat and python3-kafka
# (kafka-python) for client checks,
# Prometheus and Burrow for the kafka_exporter and Burrow compatibility tests), installing only what is missing.
#
# Idempotent and quiet when everything is present (one dpkg-query, no apt-get
# update), non-interactive (safe in CI: no tty, root). Runs apt-get through sudo
# when not root and sudo works without a password.
#
# Usage: deploy/scripts/install-deps.sh [--check]
#   --check   only report what is missing; exit 1 if anything is.
set -euo pipefail

# buildah (+ runc to run a container) builds and runs the image without a Docker daemon;
# docker-compose validates the compose file (`config` needs no daemon). slapd and ldap-utils
# are the OpenLDAP server and ldapadd the LDAP sign-in tests start (internal/testenv/slapd.go).
# iproute2 and iptables build the fault suite's network namespaces, bridge and partitions (chaos/).
PACKAGES=(mariadb-server zookeeper default-jre-headless chromium kcat python3-kafka fonts-wqy-microhei prometheus burrow buildah runc docker-compose slapd ldap-utils iproute2 iptables)

log() { printf 'install-deps: %s\n' "$*"; }

check_only=0
case "${1:-}" in
  --check) check_only=1 ;;
  "") ;;
  -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
  *) log "unknown argument: $1 (use --check or nothing)"; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  log "this script needs a Debian/Ubuntu system (dpkg-query and apt-get not found)."
  log "install by hand: ${PACKAGES[*]}"
  exit 1
fi

# One dpkg-query for all packages; a package counts as present only when fully
# installed ("ii"), so half-configured packages get repaired by apt-get.
missing=()
status=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PACKAGES[@]}" 2>/dev/null || true)
for p in "${PACKAGES[@]}"; do
  if ! grep -qE "^ii +${p}\$" <<<"$status"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  log "all present: ${PACKAGES[*]}"
  exit 0
fi

log "missing: ${missing[*]}"
if [ "$check_only" = 1 ]; then
  exit 1
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    log "not root and no password-less sudo: run as root:"
    log "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt/dpkg run (another install, unattended-upgrades)
# instead of failing on its lock.
APT_OPTS=(-o DPkg::Lock::Timeout=900 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

start=$(date +%s)
log "apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" update -qq
log "apt-get install ${missing[*]}"
# --no-install-recommends: the recommends (fonts, printing, desktop helpers,
# MariaDB extras) are not needed for servers started by services.sh or headless
# Chromium.
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y -qq \
  --no-install-recommends "${missing[@]}"

# Verify: apt-get can succeed while leaving a package unconfigured.
status=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${missing[@]}" 2>/dev/null || true)
for p in "${missing[@]}"; do
  if ! grep -qE "^ii +${p}\$" <<<"$status"; then
    log "ERROR: $p is still not installed after apt-get install"
    exit 1
  fi
done
log "installed ${missing[*]} in $(( $(date +%s) - start ))s"
