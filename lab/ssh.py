"""SSH to the VMs through their loopback port forwards."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# One string, shared with the inventory, so Ansible and the lab connect the same way.
# Host keys are made fresh on each new overlay, so checking them would only produce noise.
COMMON_OPTIONS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes"


def argv(key: Path, port: int, command: Sequence[str], connect_timeout: int = 10) -> list[str]:
    return [
        "ssh",
        *COMMON_OPTIONS.split(),
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        "-o",
        f"ConnectTimeout={connect_timeout}",
        "-i",
        str(key),
        "-p",
        str(port),
        "root@127.0.0.1",
        *(["--", *command] if command else []),
    ]


def banner(port: int, timeout: float = 5.0) -> bool:
    """True when an SSH server answers on 127.0.0.1:PORT.

    With QEMU's hostfwd the TCP connect always succeeds at once (QEMU accepts for the guest),
    so only the "SSH-" banner shows that sshd inside the VM is really up.
    """
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def wait(key: Path, port: int, timeout: float, alive: Callable[[], bool] = lambda: True) -> float | None:
    """Seconds until `ssh true` works on PORT, or None on timeout or when ALIVE() turns False."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if not alive():
            return None
        if (
            banner(port)
            and subprocess.run(
                argv(key, port, ["true"]), capture_output=True, stdin=subprocess.DEVNULL, check=False
            ).returncode
            == 0
        ):
            return time.monotonic() - t0
        time.sleep(2)
    return None
