"""The lab's two vde_switch L2 switches: SAN (all three VMs) and replication (servers only).

No host bridge, no tap, no host address: a vde switch is a userspace process the VMs connect
to by unix socket, so nothing the VMs send on these networks can leave the machine.
The default MAC min-persistence (3 s) is kept on purpose: the failover drills must see it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

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


def _mgmt(path: Path, line: str, timeout: float = 5.0) -> str:
    """One command on a vde_switch's management console: its output; LabError unless it reports success."""
    deadline = time.monotonic() + timeout
    buf = b""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(path))
            sent = False
            while True:
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buf += chunk
                if buf.endswith(b"vde$ "):
                    if sent:
                        break
                    sock.sendall(line.encode() + b"\n")
                    sent, buf = True, b""
    except (OSError, TimeoutError) as e:
        raise LabError(
            f"vde_switch console {path} did not answer ({e}): check `python3 -m lab status`."
        ) from e
    out = buf.decode(errors="replace")
    if "1000 Success" not in out:
        raise LabError(f"vde_switch refused `{line}`: {out.strip() or 'no answer'}")
    return out


def set_mac_hold(paths: StatePaths, switch: str, seconds: int) -> None:
    """How long the switch keeps a MAC on its port before a frame from another port may move it ("min
    persistence"; vde_switch's default is 3 s, which the drills keep on purpose)."""
    if seconds < 0:
        raise LabError(f"a MAC hold of {seconds} s is impossible: give 0 or more seconds (the default is 3).")
    if running_pid(paths, switch) is None:
        raise LabError(f"switch {switch} is not running: start the lab with `python3 -m lab up`.")
    _mgmt(paths.switch_mgmt(switch), f"hash/setminper {seconds}")


def mac_hold(paths: StatePaths, switch: str) -> int:
    """The switch's MAC hold in seconds, as it reports it."""
    for line in _mgmt(paths.switch_mgmt(switch), "hash/showinfo").splitlines():
        if line.startswith("Min persistence"):
            return int(line.split()[2])
    raise LabError(f"vde_switch {switch} did not report its min persistence: check its version.")
