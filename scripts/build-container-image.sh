#!/usr/bin/env bash
# Builds the Debian image the molecule scenarios run (systemd as PID 1, the SAN packages present),
# from debootstrap + `docker import`: no container registry is reachable. The root file system
# tarball is cached outside the repository, keyed by this recipe, so a new engine imports in seconds.
# HA_SAN_CONTAINER_VARIANT=kbuild makes ha-san-molecule:RELEASE-kbuild: the same plus what the aoe_client
# role's kernel and out-of-tree driver builds need (linux-source, the headers, the make bindeb-pkg tools).
# HA_SAN_CONTAINER_VARIANT=pacemaker makes ha-san-molecule:RELEASE-pacemaker: the Pacemaker engine instead of
# Heartbeat (heartbeat's inetutils-ping conflicts with what pacemaker pulls in: one image per engine).
set -euo pipefail
release=${HA_SAN_CONTAINER_RELEASE:-bookworm}
mirror=${HA_SAN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
variant=${HA_SAN_CONTAINER_VARIANT:-}
packages=systemd,systemd-sysv,dbus,python3,python3-apt,iproute2,procps,iptables,kmod,e2fsprogs,util-linux,heartbeat,cluster-glue,vblade,drbd-utils,aoetools,inetutils-ping
case "$variant" in
  "") suffix="" ;;
  kbuild)
    suffix=-kbuild
    packages=$packages,linux-source,linux-headers-amd64,gcc,make,patch,xz-utils,bc,bison,flex,libelf-dev,libssl-dev,rsync,cpio,dpkg-dev,binutils,build-essential,fakeroot
    ;;
  pacemaker)
    suffix=-pacemaker
    packages=${packages/,heartbeat,cluster-glue,/,},pacemaker,pacemaker-cli-utils,corosync,resource-agents
    packages=${packages/inetutils-ping/iputils-ping}
    ;;
  *) echo "HA_SAN_CONTAINER_VARIANT must be empty, kbuild or pacemaker (found '$variant')" >&2; exit 1 ;;
esac
image=${HA_SAN_CONTAINER_IMAGE:-ha-san-molecule:$release$suffix}
recipe="v1 $release $mirror $packages"
hash=$(printf '%s' "$recipe" | sha256sum | cut -c1-12)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ha_san/containers
tarball=$cache/$release$suffix-$hash.tar

# One build per image at a time: `make test` starts the builds early in the background (scripts/prebuild-images.sh),
# and the molecule tier's own call must wait for that build instead of starting a second one.
mkdir -p "$cache"
exec 9>"$cache/.lock$suffix"
flock -n 9 || { echo "another build of $image holds $cache/.lock$suffix; waiting for it"; flock 9; }
if [ "$(docker image inspect -f '{{ index .Config.Labels "ha_san.recipe" }}' "$image" 2>/dev/null)" = "$hash" ]; then
  echo "container image $image is current (recipe $hash)"; exit 0
fi
if [ ! -f "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap missing: run scripts/host-deps.sh" >&2; exit 1; }
  root=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  echo "debootstrap $release into $root (about 1.5 min)"
  start=$(date +%s)
  debootstrap --variant=minbase --include="$packages" "$release" "$root" "$mirror" > "$root.log" 2>&1 \
    || { tail -30 "$root.log" >&2; echo "debootstrap failed; full log: $root.log" >&2; exit 1; }
  # Heartbeat is enabled on install and fails until ha.cf exists; the roles enable it when configured.
  rm -f "$root"/etc/systemd/system/multi-user.target.wants/heartbeat.service "$root"/etc/rc?.d/S*heartbeat
  # Corosync and Pacemaker likewise (a stock corosync.conf would form a one-node cluster at boot).
  rm -f "$root"/etc/systemd/system/multi-user.target.wants/{corosync,pacemaker}.service
  # Containers have no aoe module and no discovery to do.
  rm -f "$root"/etc/systemd/system/*.wants/aoe-discover.service
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -f "$root.log"
  echo "rootfs built in $(( $(date +%s) - start ))s: $tarball"
fi
docker import -c 'CMD ["/sbin/init"]' -c 'ENV container=docker' -c "LABEL ha_san.recipe=$hash" \
  "$tarball" "$image" >/dev/null
echo "imported $image (recipe $hash)"
