#!/usr/bin/env bash
# Idempotent Docker rig: installs docker.io + debootstrap, starts dockerd, builds the
# debootstrap base image and every project image under docker/. Safe to run again.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
# Host tools the tests use: ssh-agent/ssh-keygen (auth tests), tmux (terminal test), nc (ProxyCommand).
command -v ssh-agent >/dev/null 2>&1 || need_pkgs+=(openssh-client)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
command -v nc >/dev/null 2>&1 || need_pkgs+=(netcat-openbsd)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  as_root setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 300); do docker info >/dev/null 2>&1 && break; sleep 0.1; done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see /var/log/dockerd.log"; tail -n 20 /var/log/dockerd.log >&2; exit 1; }
fi

base=fwd/debian-base:bookworm
if ! docker image inspect "$base" >/dev/null 2>&1; then
  # The sources file also has commented snapshot URLs; only the URIs: line is the live mirror.
  mirror=$(awk '/^URIs:/ && $2 ~ /\/debian$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb / && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  rootfs=$(mktemp -d /tmp/fwd-rootfs.XXXXXX)
  trap 'as_root rm -rf "$rootfs"' EXIT
  log "debootstrap bookworm from $mirror (about a minute)"
  as_root debootstrap --variant=minbase \
    --include=openssh-server,openssh-client,python3,procps,iproute2,netcat-openbsd,ca-certificates \
    bookworm "$rootfs" "$mirror" >/tmp/fwd-debootstrap.log 2>&1 \
    || { tail -n 30 /tmp/fwd-debootstrap.log >&2; exit 1; }
  as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  as_root tar -C "$rootfs" -c . | docker import - "$base" >/dev/null
  log "imported $base"
fi

# Jupyter for the fake Slurm cluster (docker/slurm): containers reach no package index, so the
# wheels are downloaded here, once, with this machine's pip (its configured indexes), and the image
# installs from that folder only. A failed download fails the setup: the Slurm tests need them.
wheels="$here/slurm/wheels"
if ! ls "$wheels"/jupyter_server-*.whl "$wheels"/ipykernel-*.whl "$wheels"/pip-*.whl >/dev/null 2>&1; then
  log "downloading jupyter-server + ipykernel wheels (Python 3.11, Debian 12) into $wheels"
  rm -rf "$wheels.tmp"
  # One retry, not pip's five: an index that does not resolve here costs 10 min with five, 17 s with one.
  # manylinux tags are listed one by one: pip 23 does not widen manylinux_2_34 to older glibc tags.
  if ! PIP_RETRIES="${PIP_RETRIES:-1}" python3 -m pip download --only-binary=:all: --python-version 3.11 \
    --implementation cp --abi cp311 --abi abi3 --abi none \
    --platform manylinux_2_34_x86_64 --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform any -d "$wheels.tmp" jupyter-server ipykernel pip >/tmp/fwd-wheels.log 2>&1; then
    grep -v Retrying /tmp/fwd-wheels.log | tail -n 15 >&2
    log "pip download of the Jupyter wheels failed (full log: /tmp/fwd-wheels.log); fwd/slurm needs them"
    exit 1
  fi
  rm -rf "$wheels" && mv "$wheels.tmp" "$wheels"
fi

# Each image is rebuilt only when its context changed (the hash is stored as a label).
build() {
  local tag=$1 dir=$2
  local sum
  sum=$(cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  if [ "$(docker image inspect -f '{{index .Config.Labels "fwd.context"}}' "$tag" 2>/dev/null || true)" = "$sum" ]; then
    return 0
  fi
  log "building $tag"
  # The legacy builder warns on every build; show its output only when the build fails.
  if ! out=$(docker build --label "fwd.context=$sum" -t "$tag" "$dir" 2>&1); then
    printf '%s\n' "$out" >&2
    exit 1
  fi
}
for dir in "$here"/*/; do
  name=$(basename "$dir")
  [ "$name" = base ] && continue
  [ -f "$dir/Dockerfile" ] || continue
  build "fwd/$name" "$dir"
done
log "ready"
