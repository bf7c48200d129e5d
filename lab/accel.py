"""Choose KVM or TCG.

"/dev/kvm exists" is not "KVM works": on a host that is itself a VM, /dev/kvm may be served by
kvm_pvm, which runs only guest kernels built for it; a Debian kernel hangs there after
"Probing EDD". Real hardware virtualisation shows as the vmx (Intel) or svm (AMD) CPU flag.
"""

from __future__ import annotations

import os
from pathlib import Path

from lab.errors import LabError


def cpu_has_virt(cpuinfo: str) -> bool:
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = line.partition(":")[2].split()
            return "vmx" in flags or "svm" in flags
    return False


def detect(
    cpuinfo_path: str = "/proc/cpuinfo", kvm_dev: str = "/dev/kvm", env: dict[str, str] | None = None
) -> str:
    """'kvm' or 'tcg'. $HA_SAN_LAB_ACCEL forces one (kvm is refused when it cannot work)."""
    env = os.environ if env is None else env  # type: ignore[assignment]
    forced = (env.get("HA_SAN_LAB_ACCEL") or "").strip().lower()
    if forced not in ("", "kvm", "tcg"):
        raise LabError(f"HA_SAN_LAB_ACCEL={forced!r} is not valid: set it to kvm or tcg, or unset it.")
    try:
        virt = cpu_has_virt(Path(cpuinfo_path).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        virt = False
    usable = virt and os.access(kvm_dev, os.R_OK | os.W_OK)
    if forced == "tcg":
        return "tcg"
    if forced == "kvm" and not usable:
        raise LabError(
            "HA_SAN_LAB_ACCEL=kvm but this host has no usable KVM (no vmx/svm CPU flag or "
            "/dev/kvm not accessible): unset it to use TCG."
        )
    return "kvm" if usable else "tcg"


def machine_args(accel: str) -> list[str]:
    if accel == "kvm":
        return ["-machine", "q35,accel=kvm", "-cpu", "host"]
    return ["-machine", "q35,accel=tcg", "-cpu", "max"]
