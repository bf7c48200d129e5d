"""Talk to a VM's QEMU human monitor (HMP) over its unix socket: fault injection."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from lab.errors import LabError

_PROMPT = b"(qemu) "


def _read_until_prompt(sock: socket.socket, deadline: float) -> bytes:
    buf = b""
    while not buf.endswith(_PROMPT):
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def command(path: Path, line: str, timeout: float = 10.0) -> str:
    """Run one HMP command; returns its output (empty for a silent success)."""
    deadline = time.monotonic() + timeout
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(path))
            _read_until_prompt(sock, deadline)  # the banner
            sock.sendall(line.encode() + b"\n")
            out = _read_until_prompt(sock, deadline)
    except (OSError, TimeoutError) as e:
        raise LabError(
            f"QEMU monitor {path} did not answer ({e}): check the VM is running with `python3 -m lab status`."
        ) from e
    return clean_output(out.decode(errors="replace"), line)


def clean_output(raw: str, line: str) -> str:
    """Strip HMP's echo of the command, terminal escapes and the trailing prompt."""
    text = raw.replace("\r", "")
    # HMP echoes the typed line with readline escape sequences; drop everything up to it.
    lines = [ln for ln in text.split("\n") if ln.strip() and "(qemu)" not in ln and "\x1b" not in ln]
    return "\n".join(ln for ln in lines if ln.strip() != line.strip()).strip()


def set_link(path: Path, netdev: str, up: bool) -> None:
    out = command(path, f"set_link {netdev} {'on' if up else 'off'}")
    if out:  # set_link prints nothing on success
        raise LabError(f"QEMU refused `set_link {netdev}`: {out}")


def drive_del(path: Path, drive: str) -> None:
    """Cut a drive off from its file: from then on QEMU fails every guest read and write of it (EIO)."""
    out = command(path, f"drive_del {drive}")
    if out:  # drive_del prints nothing on success
        raise LabError(f"QEMU refused `drive_del {drive}`: {out}")
