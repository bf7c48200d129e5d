"""The lab's power switch: the program QEMU's guestfwd starts for each fence connection.

A VM connects to 10.0.2.100:7000 on its management NIC; QEMU runs this program with that TCP
stream as stdin/stdout. It reads ONE line, acts, answers one line, logs, and exits:

    off NODE [from NODE]     power loss: kill -9 of NODE's QEMU (verified by cmdline), wait for exit
    on NODE [from NODE]      start NODE's QEMU again on its existing disks (no wait for boot)
    reset NODE [from NODE]   off, then on
    status NODE [from NODE]  is NODE's QEMU running?
    log TEXT                 only written to the log (for a STONITH plugin's own trace)

Answers start with "ok " or "error "; anything else is refused. Two requests never act at once
(a lock in the state dir), but a request is never voided: if both servers shoot at once, both
die, as with a real power switch. The cluster's arbiter must prevent that, not the switch.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lab import config, procs
from lab.errors import LabError
from lab.paths import StatePaths

MAX_LINE = 200
READ_TIMEOUT_S = 10.0
KILL_TIMEOUT_S = 10.0
POWER_VERBS = ("off", "on", "reset", "status")
USAGE = "use: off|on|reset|status NODE [from NODE], or log TEXT"


class Refused(Exception):
    """A request this switch will not carry out; the message goes back as `error ...`."""


@dataclass(frozen=True)
class Request:
    verb: str
    node: str | None = None
    requester: str | None = None
    text: str = ""


def parse(raw: bytes) -> Request:
    """One request line -> Request, or Refused saying what is wrong with it."""
    if len(raw) > MAX_LINE:
        raise Refused(f"request longer than {MAX_LINE} bytes")
    try:
        line = raw.decode("ascii").rstrip("\r\n")
    except UnicodeDecodeError:
        raise Refused("request is not ASCII") from None
    if not line.isprintable():
        raise Refused("request has control characters")
    words = line.split()
    if not words:
        raise Refused(f"empty request; {USAGE}")
    verb = words[0]
    if verb == "log":
        return Request("log", text=" ".join(words[1:]))
    if verb not in POWER_VERBS:
        raise Refused(f"unknown request {verb!r}; {USAGE}")
    if len(words) not in (2, 4) or (len(words) == 4 and words[2] != "from"):
        raise Refused(f"malformed request; {USAGE}")
    node = words[1]
    if node not in config.NODE_NAMES:
        raise Refused(f"unknown node {node!r}; nodes: {', '.join(config.NODE_NAMES)}")
    requester = words[3] if len(words) == 4 else None
    if requester is not None and requester not in config.NODE_NAMES:
        raise Refused(f"unknown requester {requester!r}")
    return Request(verb, node, requester)


@dataclass
class Ops:
    """What the switch can do to the lab; replaced by fakes in unit tests."""

    pid: Callable[[str], int | None]
    kill: Callable[[int], bool]
    power_on: Callable[[str], int]


def handle(req: Request, ops: Ops, caller: str | None) -> str:
    """Carry out REQ; returns the answer line (without newline)."""
    if req.verb == "log":
        return "ok logged"
    if req.requester and caller and req.requester != caller:
        # The caller is known from the parent PID (the requesting VM's QEMU): a VM cannot pose as another.
        raise Refused(f"request says it is from {req.requester} but came from {caller}")
    node = str(req.node)
    pid = ops.pid(node)
    if req.verb == "status":
        return f"ok status {node} on pid {pid}" if pid else f"ok status {node} off"
    parts = []
    if req.verb in ("off", "reset"):
        if pid is None:
            parts.append("was off")
        else:
            t0 = time.monotonic()
            if not ops.kill(pid):
                return f"error {req.verb} {node}: pid {pid} did not exit after kill -9"
            parts.append(f"killed pid {pid} in {time.monotonic() - t0:.2f} s")
            pid = None
    if req.verb in ("on", "reset"):
        if pid is not None:
            parts.append(f"already on pid {pid}")
        else:
            try:
                parts.append(f"started pid {ops.power_on(node)}")
            except LabError as e:
                return f"error {req.verb} {node}: {e}"
    return f"ok {req.verb} {node} " + ", ".join(parts)


def real_ops(paths: StatePaths) -> Ops:
    from lab import lifecycle, vm

    return Ops(
        pid=lambda node: vm.running_pid(paths, node),
        kill=lambda pid: procs.kill_and_wait(pid, signal.SIGKILL, KILL_TIMEOUT_S),
        power_on=lambda node: lifecycle.power_on(paths, node),
    )


def _hex_addr(addr: tuple[str, int]) -> str:
    """127.0.0.1:8080 as /proc/net/tcp writes it: little-endian IPv4 hex, big-endian port hex."""
    ip = socket.inet_aton(addr[0])[::-1].hex().upper()
    return f"{ip}:{addr[1]:04X}"


def tcp_peer_inode(fd: int, proc_net_tcp: Path = Path("/proc/net/tcp")) -> int | None:
    """Socket inode of the other end of FD's loopback TCP connection, or None.

    QEMU's user networking hands the guest's stream to us over a loopback TCP pair it made
    itself, so the other end belongs to the requesting VM's QEMU. (Our parent PID says nothing:
    GLib's spawn double-forks, so we are re-parented before we run.)
    """
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            if sock.family != socket.AF_INET:
                return None
            ours, theirs = _hex_addr(sock.getsockname()), _hex_addr(sock.getpeername())
        lines = proc_net_tcp.read_text(encoding="ascii").splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        f = line.split()
        if len(f) > 9 and f[1] == theirs and f[2] == ours:
            return int(f[9])
    return None


def owns_socket(pid: int, inode: int, proc: Path = Path("/proc")) -> bool:
    target = f"socket:[{inode}]"
    try:
        fds = list((proc / str(pid) / "fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) == target:
                return True
        except OSError:
            continue
    return False


def caller_node(
    inode: int | None, pid_of: Callable[[str], int | None], owns: Callable[[int, int], bool] = owns_socket
) -> str | None:
    """The node whose QEMU holds the other end of our connection, or None (run by hand)."""
    if inode is None:
        return None
    for node in config.NODE_NAMES:
        pid = pid_of(node)
        if pid and owns(pid, inode):
            return node
    return None


def read_line(fd: int, timeout: float = READ_TIMEOUT_S, limit: int = MAX_LINE) -> bytes:
    """Up to the first newline, at most LIMIT+1 bytes; Refused when nothing complete arrives in time."""
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf and len(buf) <= limit:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise Refused("no complete request line in time")
        chunk = os.read(fd, limit + 1 - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n", 1)[0] if b"\n" in buf else buf


def log_line(path: Path, caller: str | None, raw: bytes, answer: str, took: float) -> None:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
    request = raw.decode("ascii", errors="backslashreplace").rstrip("\r\n")[:MAX_LINE]
    who = caller or "host"
    line = f"{stamp} {now:.3f} caller={who} request={request!r} answer={answer!r} took={took:.3f}s\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())  # one write() with O_APPEND: lines from concurrent requests never mix
    finally:
        os.close(fd)


def serve(paths: StatePaths, ops: Ops, infd: int = 0, outfd: int = 1) -> int:
    t0 = time.monotonic()
    caller = caller_node(tcp_peer_inode(infd), ops.pid)
    raw = b""
    try:
        raw = read_line(infd, READ_TIMEOUT_S)
        req = parse(raw)
        with open(paths.root / "fence.lock", "w", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one power action at a time
            answer = handle(req, ops, caller)
    except Refused as e:
        answer = f"error {e}"
    except Exception as e:  # the VM must always get an answer, and the log must say why
        answer = f"error internal: {type(e).__name__}: {e}"
    log_line(paths.fence_log, caller, raw, answer, time.monotonic() - t0)
    with contextlib.suppress(OSError):  # the requester may be the VM we just powered off
        os.write(outfd, (answer + "\n").encode())
    return 0 if answer.startswith("ok ") else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="lab.fence_service", description=__doc__.splitlines()[0] if __doc__ else None
    )
    p.add_argument("--state-dir", required=True, type=Path)
    args = p.parse_args(argv)
    paths = StatePaths(args.state_dir.absolute())
    return serve(paths, real_ops(paths))


if __name__ == "__main__":
    sys.exit(main())
