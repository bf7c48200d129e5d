"""The SAN switch's MAC hold through vde_switch's management console (a fake console on a unix socket)."""

import socket
import threading
from pathlib import Path

import pytest

from lab import switch
from lab.errors import LabError
from lab.paths import StatePaths

BANNER = b"VDE switch V.2.3.2\n(C) Virtual Square Team\n\nvde$ "
SHOWINFO = b"0000 DATA END WITH '.'\nHash size 128\nMin persistence 0 secs\n.\n1000 Success\n\nvde$ "


def _fake_console(path: Path, reply: bytes, seen: list[bytes]) -> threading.Thread:
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)

    def serve() -> None:
        conn, _addr = srv.accept()
        with conn, srv:
            conn.sendall(BANNER)
            seen.append(conn.recv(1024))
            conn.sendall(reply)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StatePaths:
    p = StatePaths(tmp_path)
    monkeypatch.setattr(switch, "running_pid", lambda paths, sw: 4242)
    return p


def test_set_mac_hold_sends_setminper(paths: StatePaths) -> None:
    seen: list[bytes] = []
    t = _fake_console(paths.switch_mgmt("san"), b"1000 Success\n\nvde$ ", seen)
    switch.set_mac_hold(paths, "san", 0)
    t.join(5)
    assert seen == [b"hash/setminper 0\n"]


def test_mac_hold_reads_min_persistence(paths: StatePaths) -> None:
    _fake_console(paths.switch_mgmt("san"), SHOWINFO, [])
    assert switch.mac_hold(paths, "san") == 0


def test_a_refusal_is_an_error_naming_the_command(paths: StatePaths) -> None:
    _fake_console(paths.switch_mgmt("san"), b"1002 Invalid argument\n\nvde$ ", [])
    with pytest.raises(LabError, match="refused `hash/setminper 2`: 1002 Invalid argument"):
        switch.set_mac_hold(paths, "san", 2)


def test_a_negative_hold_is_refused_before_anything_is_sent(paths: StatePaths) -> None:
    with pytest.raises(LabError, match="give 0 or more seconds"):
        switch.set_mac_hold(paths, "san", -1)
