"""Start, find and stop one lab VM's QEMU process."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lab import config, procs, qemu
from lab.errors import LabError
from lab.paths import StatePaths


def running_pid(paths: StatePaths, node: str) -> int | None:
    program, must = qemu.identity(paths, node)
    return procs.verified_pid(paths.pidfile(node), program, must)


def fresh_disks(qemu_img: str, paths: StatePaths, image_dir: Path, node: str) -> None:
    """A new copy-on-write overlay on the cached base (and a blank DRBD disk on servers)."""
    vm_dir = paths.vm_dir(node)
    vm_dir.mkdir(parents=True, exist_ok=True)
    paths.disk(node).unlink(missing_ok=True)
    r = subprocess.run(
        [
            qemu_img,
            "create",
            "-q",
            "-f",
            "qcow2",
            "-F",
            "qcow2",
            "-b",
            str(image_dir / "base.qcow2"),
            str(paths.disk(node)),
        ],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if r.returncode != 0:
        raise LabError(
            f"qemu-img could not make {paths.disk(node)} ({r.stderr.strip()}): check {vm_dir} is writable."
        )
    for index in range(config.DATA_DISKS):
        paths.data_disk(node, index).unlink(missing_ok=True)
    if config.node(node).is_server:
        blank_data_disk(paths, node)


def blank_data_disk(paths: StatePaths, node: str) -> None:
    """New, blank DRBD disks for server NODE (its VM powered off): sparse, all zeros, no old metadata."""
    for index in range(config.DATA_DISKS):
        data = paths.data_disk(node, index)
        data.unlink(missing_ok=True)  # a new file: never the blocks of the old disk
        with open(data, "wb") as f:
            f.truncate(config.DATA_DISK_MIB * 1024 * 1024)


def start(argv: list[str], paths: StatePaths, node: str) -> int:
    """Run QEMU (it daemonizes once its devices are set up) and return the verified PID."""
    paths.console(node).unlink(missing_ok=True)
    r = subprocess.run(argv, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    pid = running_pid(paths, node)
    if r.returncode != 0 or pid is None:
        raise LabError(
            f"QEMU for {node} did not start (exit {r.returncode}: "
            f"{r.stderr.strip() or 'no message'}): fix that, then run `python3 -m lab down` and `up`."
        )
    return pid
