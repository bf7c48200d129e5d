from __future__ import annotations

import os
from pathlib import Path

import pytest

from lab import fence_program, fence_service
from lab.errors import LabError
from lab.fence_service import Ops, Refused, Request, handle, parse
from lab.paths import StatePaths


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"off secondary\n", Request("off", "secondary")),
        (b"off primary from secondary\r\n", Request("off", "primary", "secondary")),
        (b"status client", Request("status", "client")),
        (b"on primary from primary\n", Request("on", "primary", "primary")),
        (b"reset secondary\n", Request("reset", "secondary")),
        (b"log request off primary\n", Request("log", text="request off primary")),
    ],
)
def test_parse_accepts(raw: bytes, expected: Request) -> None:
    assert parse(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\n", "empty request"),
        (b"kill primary\n", "unknown request 'kill'"),
        (b"OFF primary\n", "unknown request 'OFF'"),
        (b"off\n", "malformed"),
        (b"off primary secondary\n", "malformed"),
        (b"off primary by secondary\n", "malformed"),
        (b"off web1\n", "unknown node 'web1'"),
        (b"off ../primary\n", "unknown node"),
        (b"off primary from mallory\n", "unknown requester"),
        (b"off primary; rm -rf /\n", "malformed"),
        (b"off prim\xc3\xa4ry\n", "not ASCII"),
        (b"off primary\x1b[2J\n", "control characters"),
        (b"off " + b"a" * 300 + b"\n", "longer than"),
    ],
)
def test_parse_refuses(raw: bytes, reason: str) -> None:
    with pytest.raises(Refused, match=reason.replace("(", r"\(")):
        parse(raw)


class FakeLab:
    def __init__(self, running: dict[str, int]) -> None:
        self.running = dict(running)
        self.killed: list[int] = []
        self.started: list[str] = []
        self.kill_works = True

    def ops(self) -> Ops:
        def kill(pid: int) -> bool:
            self.killed.append(pid)
            if self.kill_works:
                self.running = {n: p for n, p in self.running.items() if p != pid}
            return self.kill_works

        def power_on(node: str) -> int:
            if node == "client":
                raise LabError("port 2223 on 127.0.0.1 is in use by something else: free it, then retry.")
            self.started.append(node)
            self.running[node] = 900
            return 900

        return Ops(pid=self.running.get, kill=kill, power_on=power_on)


def test_off_kills_the_verified_pid() -> None:
    lab = FakeLab({"primary": 11, "secondary": 12})
    answer = handle(Request("off", "secondary", "primary"), lab.ops(), caller="primary")
    assert answer.startswith("ok off secondary killed pid 12 in ")
    assert lab.killed == [12] and "secondary" not in lab.running


def test_off_of_a_stopped_node_is_ok_and_kills_nothing() -> None:
    lab = FakeLab({"primary": 11})
    assert handle(Request("off", "secondary"), lab.ops(), caller=None) == "ok off secondary was off"
    assert lab.killed == []


def test_off_that_does_not_exit_is_an_error() -> None:
    lab = FakeLab({"primary": 11})
    lab.kill_works = False
    assert handle(Request("off", "primary"), lab.ops(), None).startswith(
        "error off primary: pid 11 did not exit"
    )


def test_status_on_reset() -> None:
    lab = FakeLab({"primary": 11})
    assert handle(Request("status", "primary"), lab.ops(), None) == "ok status primary on pid 11"
    assert handle(Request("status", "secondary"), lab.ops(), None) == "ok status secondary off"
    assert handle(Request("on", "primary"), lab.ops(), None) == "ok on primary already on pid 11"
    assert handle(Request("on", "secondary"), lab.ops(), None) == "ok on secondary started pid 900"
    answer = handle(Request("reset", "primary"), lab.ops(), None)
    assert answer.startswith("ok reset primary killed pid 11 in ") and answer.endswith("started pid 900")
    assert handle(Request("on", "client"), lab.ops(), None).startswith("error on client: port 2223")


def test_a_vm_cannot_pose_as_another() -> None:
    lab = FakeLab({"primary": 11, "secondary": 12})
    with pytest.raises(Refused, match="from secondary but came from client"):
        handle(Request("off", "primary", "secondary"), lab.ops(), caller="client")
    assert lab.killed == []


def test_caller_is_the_qemu_owning_the_peer_socket() -> None:
    pids = {"primary": 11, "secondary": 12}
    owner = {(12, 777)}
    assert fence_service.caller_node(777, pids.get, lambda p, i: (p, i) in owner) == "secondary"
    assert fence_service.caller_node(778, pids.get, lambda p, i: (p, i) in owner) is None
    assert fence_service.caller_node(None, pids.get, lambda p, i: True) is None


def test_tcp_peer_inode_finds_this_process(tmp_path: Path) -> None:
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    cli = socket.create_connection(srv.getsockname())
    conn, _addr = srv.accept()
    with srv, cli, conn:
        inode = fence_service.tcp_peer_inode(conn.fileno())
        assert inode is not None
        # the other end (cli) is ours, so this process owns that inode
        assert fence_service.owns_socket(os.getpid(), inode)
        assert os.readlink(f"/proc/self/fd/{cli.fileno()}") == f"socket:[{inode}]"
    r, w = os.pipe()
    try:
        assert fence_service.tcp_peer_inode(r) is None  # not a socket: run by hand from a shell
    finally:
        os.close(r)
        os.close(w)


def _serve(tmp_path: Path, request: bytes, lab: FakeLab) -> tuple[int, str, str]:
    rin, win = os.pipe()
    rout, wout = os.pipe()
    os.write(win, request)
    os.close(win)
    rc = fence_service.serve(StatePaths(tmp_path), lab.ops(), infd=rin, outfd=wout)
    os.close(wout)
    answer = os.read(rout, 4096).decode()
    os.close(rin)
    os.close(rout)
    return rc, answer, (tmp_path / "fence.log").read_text()


def test_serve_answers_and_logs(tmp_path: Path) -> None:
    lab = FakeLab({"primary": 11, "secondary": 12})
    rc, answer, log = _serve(tmp_path, b"off primary\n", lab)
    assert rc == 0 and answer.startswith("ok off primary killed pid 11")
    assert answer.endswith("\n") and answer.count("\n") == 1
    assert "caller=host request='off primary' answer='ok off primary killed pid 11" in log
    rc, answer, log = _serve(tmp_path, b"format c:\n", lab)
    assert rc == 1 and answer.startswith("error unknown request 'format'")
    assert len(log.splitlines()) == 2
    assert lab.killed == [11]


def test_serve_only_reads_one_line(tmp_path: Path) -> None:
    lab = FakeLab({"primary": 11, "secondary": 12})
    rc, answer, _log = _serve(tmp_path, b"status primary\noff secondary\n", lab)
    assert rc == 0 and answer == "ok status primary on pid 11\n"
    assert lab.killed == []


def test_serve_times_out_on_silence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fence_service, "READ_TIMEOUT_S", 0.2)
    rin, win = os.pipe()  # never written, never closed: a VM that connects and says nothing
    rout, wout = os.pipe()
    try:
        rc = fence_service.serve(StatePaths(tmp_path), FakeLab({}).ops(), infd=rin, outfd=wout)
        assert rc == 1
        assert os.read(rout, 4096).decode().startswith("error no complete request line")
    finally:
        for fd in (rin, win, rout, wout):
            os.close(fd)


def test_fence_program_points_at_this_checkout(tmp_path: Path) -> None:
    paths = StatePaths(tmp_path)
    fence_program.write(paths)
    text = paths.fence_program.read_text()
    assert text.startswith("#!/")
    assert "from lab.fence_service import main" in text and repr(str(tmp_path)) in text
    assert os.access(paths.fence_program, os.X_OK)
