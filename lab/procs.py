"""PID files, and proof that a PID is really our process before we signal it.

PIDs get reused: after a host reboot or a crash the number in a PID file may belong to
anything. So a PID counts as ours only while /proc/PID/cmdline shows the expected program
*and* an argument unique to this lab (the PID file path inside our state dir).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path


def read_pidfile(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def cmdline(pid: int, proc: Path = Path("/proc")) -> list[str] | None:
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    if not raw:  # kernel threads and zombies have an empty cmdline
        return None
    return raw.rstrip(b"\0").decode(errors="replace").split("\0")


def matches(argv: Sequence[str] | None, program: str, must_contain: Sequence[str]) -> bool:
    """ARGV runs PROGRAM (by basename prefix) and contains MUST_CONTAIN as consecutive args."""
    if not argv or not os.path.basename(argv[0]).startswith(program):
        return False
    n = len(must_contain)
    return any(list(argv[i : i + n]) == list(must_contain) for i in range(len(argv) - n + 1))


def verified_pid(
    pidfile: Path, program: str, must_contain: Sequence[str], proc: Path = Path("/proc")
) -> int | None:
    """The PID in PIDFILE if that process is alive and is the one we started, else None."""
    pid = read_pidfile(pidfile)
    if pid is None or not _alive(pid, proc):
        return None
    return pid if matches(cmdline(pid, proc), program, must_contain) else None


def _alive(pid: int, proc: Path = Path("/proc")) -> bool:
    """True while any thread of PID can still run.

    A zombie thread-group leader is not enough to call a process dead: the kernel keeps the
    leader as a zombie until every other thread has exited, and QEMU's I/O and vCPU threads take
    a moment (seconds, for a busy TCG guest) after kill -9. "Powered off" means all of them gone.
    """
    try:
        stat = (proc / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    # The state letter follows the ")" closing the command name.
    if stat.rpartition(")")[2].split()[0:1] != ["Z"]:
        return True
    try:
        return len(list((proc / str(pid) / "task").iterdir())) > 1
    except OSError:
        return False


def kill_and_wait(pid: int, sig: int = signal.SIGKILL, timeout: float = 10.0) -> bool:
    """Send SIG to PID and wait until it is gone; True when it exited within TIMEOUT."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def stop(pid: int, grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after GRACE seconds."""
    if not kill_and_wait(pid, signal.SIGTERM, grace):
        kill_and_wait(pid, signal.SIGKILL, 10.0)
