"""playbooks/files/status/ha_san_read_probe.py: the client's reader that times switchover.yml's stall.

The gap computation on logs laid out by hand (a stall, a torn last line, failed reads), then the real probe on
a temporary file: it reads (O_DIRECT where the file system takes it), never writes, stops after its duration
or on SIGTERM with a summary line, and `wait` sees a read that completes after it began.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import json
import mmap
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]
PROBE = REPO / "playbooks" / "files" / "status" / "ha_san_read_probe.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ha_san_read_probe", PROBE)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["ha_san_read_probe"] = mod  # dataclasses look their module up here
    spec.loader.exec_module(mod)
    return mod


probe = _load()


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A directory on a real disk (/var/tmp), not tmpfs: O_DIRECT needs a file system that takes it."""
    base = "/var/tmp" if os.path.isdir("/var/tmp") else None
    path = Path(tempfile.mkdtemp(prefix="ha_san_probe_", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def target(workdir: Path) -> Path:
    """A 64 KiB file of random bytes standing in for /dev/etherd/e0.3."""
    path = workdir / "e0.3"
    path.write_bytes(os.urandom(65536))
    return path


@pytest.fixture
def direct_flags(target: Path) -> list[str]:
    """[] when the file system takes O_DIRECT reads, else ["--no-direct"] (EINVAL only)."""
    try:
        fd = os.open(target, os.O_RDONLY | os.O_DIRECT)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        return ["--no-direct"]
    buf = mmap.mmap(-1, 4096)
    try:
        os.preadv(fd, [buf], 0)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        return ["--no-direct"]
    finally:
        os.close(fd)
        buf.close()
    return []


def _log(path: Path, monos: list[float], wall0: float = 1_800_000_000.0, extra: str = "") -> Path:
    lines = ['H {"device": "/dev/etherd/e0.3", "block_size": 4096}']
    lines += [f"R {i} {wall0 + m:.6f} {m:.6f} 0.000800" for i, m in enumerate(monos)]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


# -- the gap computation -------------------------------------------------------------------------------------
def test_longest_gap() -> None:
    assert probe.longest_gap([]) == (0.0, -1)
    assert probe.longest_gap([5.0]) == (0.0, -1)
    gap, end = probe.longest_gap([10.0, 10.01, 10.02, 12.52, 12.53, 13.03])
    assert (round(gap, 6), end) == (2.5, 3)


def test_summary_of_a_stall_from_a_log_file(tmp_path: Path) -> None:
    monos = [100.0 + 0.011 * i for i in range(50)]  # reads every 11 ms ...
    monos += [monos[-1] + 3.2 + 0.011 * i for i in range(50)]  # ... 3.2 s without one, then again
    log = probe.read_log(str(_log(tmp_path / "probe.log", monos)))
    s = probe.summarize(log)
    assert s["reads"] == 100 and s["errors"] == 0
    assert s["longest_gap_s"] == pytest.approx(3.2, abs=1e-6)
    assert s["stall_s"] == s["longest_gap_s"] and s["tail_s"] == 0.0
    assert s["gap_to_wall"] - s["gap_from_wall"] == pytest.approx(3.2, abs=1e-5)
    assert s["gap_from_wall"] == pytest.approx(1_800_000_000.0 + monos[49], abs=1e-5)


def test_torn_last_line_and_failed_reads_are_handled(tmp_path: Path) -> None:
    extra = "E 1800000101.000000 101.000000 5 Input/output error\nR 99 18000001"  # the last line torn
    log = probe.read_log(str(_log(tmp_path / "probe.log", [100.0, 100.5, 102.0], extra=extra)))
    assert [r[0] for r in log.reads] == [0, 1, 2]
    assert log.errors == [(1800000101.0, 101.0, 5, "Input/output error")]
    s = probe.summarize(log)
    assert (s["longest_gap_s"], s["errors"], s["last_error"]) == (1.5, 1, "Input/output error")


def test_a_probe_stopped_inside_a_stall_counts_the_tail(tmp_path: Path) -> None:
    log = probe.read_log(str(_log(tmp_path / "probe.log", [100.0, 100.01, 100.02])))
    s = probe.summarize(log, stopped_mono=104.02)
    assert s["tail_s"] == pytest.approx(4.0) and s["stall_s"] == pytest.approx(4.0)


def test_summary_command_prints_the_probes_own_summary_or_computes_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    killed = _log(tmp_path / "killed.log", [1.0, 1.01, 2.01])
    assert probe.main(["summary", str(killed)]) == 0
    assert json.loads(capsys.readouterr().out)["longest_gap_s"] == 1.0
    done = _log(tmp_path / "done.log", [1.0, 2.0], extra='S {"stall_s": 7.5, "stopped_by": "SIGTERM"}\n')
    assert probe.main(["summary", str(done)]) == 0
    assert json.loads(capsys.readouterr().out) == {"stall_s": 7.5, "stopped_by": "SIGTERM"}
    empty = _log(tmp_path / "empty.log", [])
    assert probe.main(["summary", str(empty)]) == 1


# -- the real probe on a file --------------------------------------------------------------------------------
def test_run_reads_for_its_duration_and_never_writes(
    workdir: Path, target: Path, direct_flags: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = hashlib.sha256(target.read_bytes()).hexdigest(), target.stat().st_mtime_ns
    opened: list[int] = []
    real_open = os.open

    def spy(path: object, flags: int, *args: object) -> int:
        if str(path) == str(target):
            opened.append(flags)
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(probe.os, "open", spy)
    log, pid = workdir / "probe.log", workdir / "probe.pid"
    argv = ["run", str(target), "--log", str(log), "--pid-file", str(pid), "--duration", "0.3"]
    argv += ["--interval", "0.005", "--offset", "8192", *direct_flags]
    assert probe.main(argv) == 0
    assert opened and all(f & (os.O_WRONLY | os.O_RDWR) == 0 for f in opened)
    assert all(f & os.O_DIRECT for f in opened) == (not direct_flags)
    assert (hashlib.sha256(target.read_bytes()).hexdigest(), target.stat().st_mtime_ns) == before
    assert not pid.exists()
    parsed = probe.read_log(str(log))
    assert parsed.header["offset"] == 8192 and parsed.header["direct"] == (not direct_flags)
    assert len(parsed.reads) > 5 and parsed.errors == []
    assert parsed.summary is not None and parsed.summary["stopped_by"] == "duration"
    assert parsed.summary["reads"] == len(parsed.reads)
    assert parsed.summary["stall_s"] < 0.25  # nothing stalled a local file


def test_run_refuses_a_missing_device_and_a_bad_block_size(workdir: Path) -> None:
    log = str(workdir / "probe.log")
    assert probe.main(["run", str(workdir / "nope"), "--log", log, "--duration", "1"]) == 1
    assert probe.main(["run", str(workdir / "nope"), "--log", log, "--block-size", "1000"]) == 2


def test_sigterm_stops_it_and_wait_sees_fresh_reads(
    workdir: Path, target: Path, direct_flags: list[str]
) -> None:
    log, pid = workdir / "probe.log", workdir / "probe.pid"
    cmd = [sys.executable, str(PROBE), "run", str(target), "--log", str(log), "--pid-file", str(pid)]
    proc = subprocess.Popen([*cmd, "--duration", "60", *direct_flags])
    try:
        waited = subprocess.run(
            [sys.executable, str(PROBE), "wait", str(log), "--timeout", "20"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert waited.returncode == 0, waited.stdout + waited.stderr
        assert json.loads(waited.stdout)["resumed"] is True
        assert int(pid.read_text()) == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    parsed = probe.read_log(str(log))
    assert parsed.summary is not None and parsed.summary["stopped_by"] == "SIGTERM"
    assert not pid.exists()


def test_wait_times_out_on_a_log_that_does_not_grow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _log(tmp_path / "probe.log", [time.monotonic() - 5.0])  # a read from before the wait began
    assert probe.wait(str(log), timeout=0.3, poll=0.05) == 1
    assert json.loads(capsys.readouterr().out)["resumed"] is False
