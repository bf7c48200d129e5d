"""What goes into a lab image, and the hash that names it in the cache.

The hash covers everything that changes the image: release, cluster engine, package lists,
masked units, the guest files' bytes and BUILD_VERSION. Bump BUILD_VERSION whenever the build
*steps* in image.py change in a way that changes the result; comments and refactors need no bump.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

BUILD_VERSION = 1
MIRROR = "http://deb.debian.org/debian"
GUEST_DIR = Path(__file__).resolve().parent / "guest"

# debootstrap --include: what apt itself and the first chroot steps need.
BOOTSTRAP_INCLUDE = ("systemd", "systemd-sysv", "python3", "iproute2", "openssh-server")

# Installed in the chroot with --no-install-recommends, together with the engine's own packages
# below. Every package any role installs must be in one of the two: the VMs' management NIC is
# restrict=on, so they cannot reach a mirror later.
COMMON_PACKAGES = (
    "linux-image-amd64",
    "initramfs-tools",
    "kmod",
    "udev",
    "drbd-utils",
    "vblade",
    "aoetools",
    "e2fsprogs",
    "procps",
    "python3-apt",
    # aoe_client_driver: build (the client compiles the aoe driver from the running kernel's own
    # source, patched): headers for the running kernel (they pull its gcc), make, patch, and the
    # kernel source whose drivers/block/aoe is the default driver source.
    "linux-headers-amd64",
    "linux-source",
    "make",
    "patch",
    "xz-utils",
    # playbooks/benchmark.yml measures the disks, DRBD and the export with fio.
    "fio",
)

# Each cluster engine's packages (one set per name in config.ENGINES). The sets cannot share an
# image, so each engine has its own: heartbeat depends on inetutils-ping, which conflicts with the
# iputils-ping that pacemaker's set pulls in.
ENGINE_PACKAGES: dict[str, tuple[str, ...]] = {
    "heartbeat": ("heartbeat", "cluster-glue", "inetutils-ping"),
    "pacemaker": ("pacemaker", "pacemaker-cli-utils", "corosync", "resource-agents", "iputils-ping"),
}

# Units masked in the image, each because it would make the lab non-deterministic: timers that
# wake at random times and fight the drills for the single TCG vCPU (or touch apt's state).
MASKED_UNITS = (
    "apt-daily.timer",  # apt update at a random time; cannot reach a mirror anyway
    "apt-daily-upgrade.timer",  # unattended upgrades would change packages under a test
    "dpkg-db-backup.timer",  # daily dpkg backup, CPU at a random moment
    "e2scrub_all.timer",  # weekly ext4 scrub, I/O at a random moment
    "e2scrub_reap.service",  # its boot-time companion, nothing to reap in a VM
    "fstrim.timer",  # weekly discard on the overlay
    "man-db.timer",  # would only exist with recommends, masked in case
)

# Guest files: (file in lab/guest, path in the image, mode). Only what the lab needs to boot and to fence.
GUEST_FILES = (
    ("ha-san-lab-boot", "usr/local/sbin/ha-san-lab-boot", 0o755),
    ("ha-san-lab-boot.service", "etc/systemd/system/ha-san-lab-boot.service", 0o644),
    ("sshd-ha_san_lab.conf", "etc/ssh/sshd_config.d/ha_san_lab.conf", 0o644),
    ("fstab", "etc/fstab", 0o644),
    # The lab's fence agent: the power switch reached the way a user's own would be (ha_san_fence_agent).
    ("fence_ha_san_lab", "usr/sbin/fence_ha_san_lab", 0o755),
)
POLICY_RC_D = "policy-rc.d"


@dataclass(frozen=True)
class Recipe:
    release: str
    engine: str
    include: tuple[str, ...] = BOOTSTRAP_INCLUDE
    common_packages: tuple[str, ...] = COMMON_PACKAGES
    masked: tuple[str, ...] = MASKED_UNITS
    build_version: int = BUILD_VERSION

    @property
    def packages(self) -> tuple[str, ...]:
        """Everything installed in the chroot: the common packages and the engine's own."""
        return self.common_packages + ENGINE_PACKAGES[self.engine]

    def guest_file_digests(self) -> dict[str, str]:
        names = [g[0] for g in GUEST_FILES] + [POLICY_RC_D]
        return {n: hashlib.sha256((GUEST_DIR / n).read_bytes()).hexdigest() for n in sorted(names)}

    def as_dict(self) -> dict[str, object]:
        return {
            "release": self.release,
            "engine": self.engine,
            "include": sorted(self.include),
            "packages": sorted(self.packages),
            "masked": sorted(self.masked),
            "guest_files": self.guest_file_digests(),
            "guest_paths": sorted(f"{g[1]}:{g[2]:o}" for g in GUEST_FILES),
            "build_version": self.build_version,
        }

    def digest(self) -> str:
        """A short, stable hash: sorted keys and lists, so order in this file does not matter."""
        blob = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def image_name(self) -> str:
        return f"{self.release}-{self.engine}-{self.digest()}"
