"""File layout inside the state dir (one place, so every module agrees on it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab import config
from lab.errors import LabError


@dataclass(frozen=True)
class StatePaths:
    root: Path

    @property
    def lab_json(self) -> Path:
        return self.root / "lab.json"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def key(self) -> Path:
        return self.root / "ssh" / "id_ed25519"

    @property
    def fence_program(self) -> Path:
        return self.root / "fence"

    @property
    def fence_log(self) -> Path:
        return self.root / "fence.log"

    def vm_dir(self, node: str) -> Path:
        return self.root / node

    def disk(self, node: str) -> Path:
        return self.vm_dir(node) / "disk.qcow2"

    def data_disk(self, node: str, index: int = 0) -> Path:
        return self.vm_dir(node) / ("data.raw" if index == 0 else f"data{index + 1}.raw")

    def pidfile(self, node: str) -> Path:
        return self.vm_dir(node) / "qemu.pid"

    def monitor(self, node: str) -> Path:
        return self.vm_dir(node) / "mon.sock"

    def console(self, node: str) -> Path:
        return self.vm_dir(node) / "console.log"

    def switch_sock(self, switch: str) -> Path:
        return self.root / f"{switch}.ctl"

    def switch_mgmt(self, switch: str) -> Path:
        return self.root / f"{switch}.mgmt"

    def switch_pidfile(self, switch: str) -> Path:
        return self.root / f"{switch}.pid"

    def sockets(self) -> list[Path]:
        socks = [self.monitor(n) for n in config.NODE_NAMES]
        for sw in config.NICS.values():
            # vde_switch makes SOCK/ctl inside its socket directory
            socks += [self.switch_sock(sw) / "ctl", self.switch_mgmt(sw)]
        return socks


def state_paths() -> StatePaths:
    paths = StatePaths(config.state_dir())
    check_socket_lengths(paths)
    return paths


def check_socket_lengths(paths: StatePaths) -> None:
    longest = max(paths.sockets(), key=lambda p: len(str(p)))
    if len(str(longest)) > config.MAX_SOCKET_PATH:
        raise LabError(
            f"state dir {paths.root} is too long for unix sockets ({longest} is "
            f"{len(str(longest))} bytes, limit {config.MAX_SOCKET_PATH}): set HA_SAN_LAB_STATE "
            "to a shorter path."
        )
