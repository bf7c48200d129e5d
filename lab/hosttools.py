"""Host programs the lab runs, and the Debian package that provides each one."""

from __future__ import annotations

import os
import shutil

from lab.errors import LabError

PACKAGE_OF = {
    "debootstrap": "debootstrap",
    "chroot": "coreutils",
    "mount": "mount",
    "umount": "mount",
    "mkfs.ext4": "e2fsprogs",
    "qemu-img": "qemu-utils",
    "qemu-system-x86_64": "qemu-system-x86",
    "vde_switch": "vde2",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
}

BUILD_TOOLS = ("debootstrap", "chroot", "mount", "umount", "mkfs.ext4", "qemu-img")
RUN_TOOLS = ("qemu-system-x86_64", "qemu-img", "vde_switch", "ssh", "ssh-keygen")

# sbin directories are not on every user's PATH, but the tools there work for root.
_EXTRA_PATH = ("/usr/sbin", "/sbin")


def find(tool: str) -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(_EXTRA_PATH)
    return shutil.which(tool, path=path)


def require(tools: tuple[str, ...]) -> dict[str, str]:
    """Absolute paths of TOOLS, or a LabError naming the packages to install."""
    missing = [t for t in tools if find(t) is None]
    if missing:
        packages = sorted({PACKAGE_OF.get(t, t) for t in missing})
        raise LabError(
            f"missing host tool(s) {', '.join(missing)}: install them with "
            f"`apt-get install {' '.join(packages)}`."
        )
    return {t: str(find(t)) for t in tools}
