import os
import subprocess
import sys
import time
from pathlib import Path

from lab import procs

QEMU = ["/usr/bin/qemu-system-x86_64", "-name", "primary", "-pidfile", "/st/primary/qemu.pid", "-daemonize"]


def _fake_proc(tmp_path: Path, pid: int, argv: list[str], state: str = "S") -> Path:
    d = tmp_path / "proc" / str(pid)
    d.mkdir(parents=True)
    (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (d / "stat").write_text(f"{pid} (qemu-system-x86) {state} 1 2 3")
    return tmp_path / "proc"


def _pidfile(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "qemu.pid"
    p.write_text(text)
    return p


def test_read_pidfile(tmp_path: Path) -> None:
    assert procs.read_pidfile(_pidfile(tmp_path, "1234\n")) == 1234
    assert procs.read_pidfile(_pidfile(tmp_path, "garbage")) is None
    assert procs.read_pidfile(_pidfile(tmp_path, "0")) is None
    assert procs.read_pidfile(_pidfile(tmp_path, "-5")) is None
    assert procs.read_pidfile(tmp_path / "missing") is None


def test_verified_when_cmdline_is_ours(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, 4242, QEMU)
    pf = _pidfile(tmp_path, "4242")
    assert procs.verified_pid(pf, "qemu-system", ["-pidfile", "/st/primary/qemu.pid"], proc) == 4242


def test_reused_pid_of_another_program_is_refused(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, 4242, ["/usr/bin/vim", "-pidfile", "/st/primary/qemu.pid"])
    pf = _pidfile(tmp_path, "4242")
    assert procs.verified_pid(pf, "qemu-system", ["-pidfile", "/st/primary/qemu.pid"], proc) is None


def test_qemu_of_another_lab_or_node_is_refused(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, 4242, QEMU)
    pf = _pidfile(tmp_path, "4242")
    assert procs.verified_pid(pf, "qemu-system", ["-pidfile", "/other/primary/qemu.pid"], proc) is None
    assert procs.verified_pid(pf, "qemu-system", ["-pidfile", "/st/client/qemu.pid"], proc) is None


def test_zombie_and_missing_are_not_running(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, 4242, QEMU, state="Z")
    pf = _pidfile(tmp_path, "4242")
    assert procs.verified_pid(pf, "qemu-system", ["-pidfile", "/st/primary/qemu.pid"], proc) is None
    pf.write_text("4243")
    assert procs.verified_pid(pf, "qemu-system", ["-pidfile", "/st/primary/qemu.pid"], proc) is None


def test_matches_needs_consecutive_args() -> None:
    argv = ["qemu-system-x86_64", "-pidfile", "/x", "-name", "/st/primary/qemu.pid"]
    assert not procs.matches(argv, "qemu-system", ["-pidfile", "/st/primary/qemu.pid"])
    assert not procs.matches([], "qemu-system", ["-pidfile"])
    assert not procs.matches(None, "qemu-system", ["-pidfile"])


def test_real_process_cmdline_and_kill(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "--marker", "lab-unit"])
    try:
        pf = _pidfile(tmp_path, str(child.pid))
        # right after fork the child may not have exec'd yet: wait for its real cmdline
        deadline = time.monotonic() + 5
        while (procs.cmdline(child.pid) or [])[-2:] != [
            "--marker",
            "lab-unit",
        ] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert procs.cmdline(child.pid)[-2:] == ["--marker", "lab-unit"]
        assert (
            procs.verified_pid(pf, os.path.basename(sys.executable)[:6], ["--marker", "lab-unit"])
            == child.pid
        )
        # our own child stays a zombie until reaped: kill_and_wait must still see it as gone
        assert procs.kill_and_wait(child.pid, timeout=5)
    finally:
        child.kill()
        child.wait()


def test_zombie_leader_with_live_threads_is_still_running(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, 4242, QEMU, state="Z")
    for tid in (4242, 4250):
        (proc / "4242" / "task" / str(tid)).mkdir(parents=True)
    assert procs._alive(4242, proc)
    (proc / "4242" / "task" / "4250").rmdir()
    assert not procs._alive(4242, proc)
