import socket
import threading
from pathlib import Path

import pytest

from lab import monitor
from lab.errors import LabError


def _fake_hmp(path: Path, reply: bytes, seen: list[bytes]) -> threading.Thread:
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)

    def serve() -> None:
        conn, _addr = srv.accept()
        with conn, srv:
            conn.sendall(b"QEMU 7.2.22 monitor - type 'help' for more information\r\n(qemu) ")
            seen.append(conn.recv(1024))
            conn.sendall(seen[-1].strip() + b"\r\n" + reply + b"(qemu) ")  # HMP echoes the command

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def test_set_link_sends_command(tmp_path: Path) -> None:
    seen: list[bytes] = []
    t = _fake_hmp(tmp_path / "m.sock", b"", seen)
    monitor.set_link(tmp_path / "m.sock", "san", up=False)
    t.join(5)
    assert seen == [b"set_link san off\n"]


def test_set_link_error_is_reported(tmp_path: Path) -> None:
    seen: list[bytes] = []
    _fake_hmp(tmp_path / "m.sock", b"Error: could not find net client 'san'\r\n", seen)
    with pytest.raises(LabError, match="could not find net client"):
        monitor.set_link(tmp_path / "m.sock", "san", up=False)


def test_dead_monitor(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="did not answer"):
        monitor.command(tmp_path / "absent.sock", "info status", timeout=1)


def test_clean_output_strips_echo_and_escapes() -> None:
    raw = "set_link san off\r\n\x1b[K(qemu) \r\nError: x\r\n(qemu) "
    assert monitor.clean_output(raw, "set_link san off") == "Error: x"


def test_drive_del_sends_command_and_reports_a_refusal(tmp_path: Path) -> None:
    seen: list[bytes] = []
    t = _fake_hmp(tmp_path / "m.sock", b"", seen)
    monitor.drive_del(tmp_path / "m.sock", "data")
    t.join(5)
    assert seen == [b"drive_del data\n"]
    _fake_hmp(tmp_path / "n.sock", b"Device 'data' not found\r\n", [])
    with pytest.raises(LabError, match="refused `drive_del data`: Device 'data' not found"):
        monitor.drive_del(tmp_path / "n.sock", "data")
