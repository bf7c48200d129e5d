"""The lab's two vde_switch L2 switches: SAN (all three VMs) and replication (servers only).

No host bridge, no tap, no host address: a vde switch is a userspace process the VMs connect
to by unix socket, so nothing the VMs send on these networks can leave the machine.
The default MAC min-persistence (3 s) is kept on purpose: the failover drills must see it.
"""

from __future__ import annotations

import shutil
import subprocess
import time

from lab import procs
from lab.errors import LabError
from lab.paths import StatePaths

SWITCHES = ("san", "repl")


def argv(vde_bin: str, paths: StatePaths, switch: str) -> list[str]:
    return [
        vde_bin,
        "--sock",
        str(paths.switch_sock(switch)),
        "--mgmt",
        str(paths.switch_mgmt(switch)),
        "--pidfile",
        str(paths.switch_pidfile(switch)),
        "--daemon",
    ]


def identity(paths: StatePaths, switch: str) -> tuple[str, list[str]]:
    return "vde_switch", ["--pidfile", str(paths.switch_pidfile(switch))]


def running_pid(paths: StatePaths, switch: str) -> int | None:
    program, must = identity(paths, switch)
    return procs.verified_pid(paths.switch_pidfile(switch), program, must)


def start(vde_bin: str, paths: StatePaths, switch: str) -> int:
    if (pid := running_pid(paths, switch)) is not None:
        return pid
    # Nothing of ours is running: sockets and PID file left from a crash are stale.
    for stale in (paths.switch_pidfile(switch), paths.switch_mgmt(switch)):
        stale.unlink(missing_ok=True)
    shutil.rmtree(paths.switch_sock(switch), ignore_errors=True)
    r = subprocess.run(
        argv(vde_bin, paths, switch), capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    # The daemonized child writes the PID file after the parent has returned: give it a moment.
    deadline = time.monotonic() + 5
    while (pid := running_pid(paths, switch)) is None and r.returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if r.returncode != 0 or pid is None:
        raise LabError(
            f"vde_switch {switch} did not start ({r.stderr.strip() or 'no message'}): "
            f"check {paths.root} is writable and run `python3 -m lab down` before retrying."
        )
    return pid


def stop(paths: StatePaths, switch: str) -> bool:
    pid = running_pid(paths, switch)
    if pid is None:
        return False
    procs.stop(pid)
    return True
