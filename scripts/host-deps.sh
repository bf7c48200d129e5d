#!/usr/bin/env bash
# Installs the host packages the lab and the container tests need (Debian/Ubuntu, as root).
# Idempotent: installs only what is missing, and says clearly what to do when it cannot.
set -euo pipefail
packages=(qemu-system-x86 qemu-utils debootstrap vde2 docker.io iproute2 iptables
          openssh-client e2fsprogs git make shellcheck)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "host-deps: all host packages present"; exit 0; }
if ! command -v apt-get >/dev/null; then
  echo "host-deps: apt-get not found; install these packages by hand: ${missing[*]}" >&2; exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "host-deps: run as root (or with sudo) to install: ${missing[*]}" >&2; exit 1
fi
echo "host-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || { echo "host-deps: apt-get update failed: is a Debian mirror reachable?" >&2; exit 1; }
apt-get install -y -q --no-install-recommends "${missing[@]}"
