#!/usr/bin/env bash
# image.sh: builds Osprey's container image without a Docker daemon and without pulling a base image.
#
#   image.sh stage   build the static binary (unless OSPREY_IMAGE_BINARY names one) and stage the
#                    build context in $OSPREY_IMAGE_CONTEXT (default .cache/image): rootfs/ (binary,
#                    CA certificates, time zones, passwd/group), data/ and the Dockerfile
#   image.sh build   stage, then `buildah bud` it as $OSPREY_IMAGE (default localhost/osprey:dev)
#
# buildah uses the vfs storage driver (no overlay or fuse needed) under $OSPREY_BUILDAH_ROOT when set
# (the tests use a temporary one), else buildah's default storage.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
ctx=${OSPREY_IMAGE_CONTEXT:-$repo/.cache/image}
image=${OSPREY_IMAGE:-localhost/osprey:dev}
log() { printf 'image: %s\n' "$*" >&2; }

stage() {
  rm -rf "$ctx"
  mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/usr/share" "$ctx/rootfs/tmp" "$ctx/data"
  local bin=${OSPREY_IMAGE_BINARY:-}
  if [ -z "$bin" ]; then
    local tags=()
    if [ -f "$repo/web/dist/index.html" ]; then
      tags=(-tags spa)
    else
      log "web/dist is not built: the image's binary has no web UI (make image builds it first)"
    fi
    local version
    version=$(git -C "$repo" describe --tags --always --dirty 2>/dev/null || echo dev)
    # CGO_ENABLED=0: the SQLite driver (glebarez/sqlite, modernc) is pure Go, so the binary is static
    # and runs on an empty base.
    (cd "$repo" && CGO_ENABLED=0 go build "${tags[@]}" -trimpath -ldflags "-s -w -X main.version=$version" \
      -o "$ctx/rootfs/usr/local/bin/osprey" ./cmd/osprey)
  else
    cp "$bin" "$ctx/rootfs/usr/local/bin/osprey"
  fi
  if ! file_is_static "$ctx/rootfs/usr/local/bin/osprey"; then
    log "ERROR: the binary is not static (build it with CGO_ENABLED=0): it cannot run on an empty base"
    exit 1
  fi
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/" || { log "ERROR: no CA certificates (apt-get install ca-certificates)"; exit 1; }
  cp -r /usr/share/zoneinfo "$ctx/rootfs/usr/share/" || { log "ERROR: no time zones (apt-get install tzdata)"; exit 1; }
  chmod 1777 "$ctx/rootfs/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nosprey:x:65532:65532:osprey:/var/lib/osprey:/sbin/nologin\n' >"$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\nosprey:x:65532:\n' >"$ctx/rootfs/etc/group"
  cp "$repo/deploy/Dockerfile" "$ctx/Dockerfile"
  log "staged $ctx"
}

# file_is_static: ldd (libc-bin, on every Debian) refuses a binary that needs no dynamic loader.
file_is_static() {
  ! ldd "$1" >/dev/null 2>&1
}

build() {
  stage
  local opts=(--storage-driver vfs)
  if [ -n "${OSPREY_BUILDAH_ROOT:-}" ]; then
    opts+=(--root "$OSPREY_BUILDAH_ROOT/root" --runroot "$OSPREY_BUILDAH_ROOT/run")
  fi
  command -v buildah >/dev/null || { log "ERROR: buildah is not installed (deploy/scripts/install-deps.sh installs it)"; exit 1; }
  buildah "${opts[@]}" bud --layers=false -t "$image" -f "$ctx/Dockerfile" "$ctx"
  log "built $image"
}

case "${1:-}" in
  stage) stage ;;
  build) build ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
