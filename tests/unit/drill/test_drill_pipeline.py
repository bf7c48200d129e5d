"""The drill as the playbook will run it, end to end, with the scripts as separate processes.

The client's scripts (writer, verifier) and the report's verdict and summary run under ``python -I -S``
(isolated, no site-packages): the client has python3 and nothing else, so anything beyond the standard
library would fail here.  The report's plot needs matplotlib: ``report`` runs with the controller's Python
(the venv's, as failover_drill.yml runs it).  A real block device (a loop device) is used when the test
runs as root and ``losetup`` works.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

DRILL = Path(__file__).resolve().parents[3] / "playbooks" / "files" / "drill"
PY = [sys.executable, "-I", "-S"]


def script(name: str, *args: str) -> list[str]:
    return [*PY, str(DRILL / name), *args]


def controller_script(name: str, *args: str) -> list[str]:
    """A controller tool that needs the venv's packages (matplotlib)."""
    return [sys.executable, str(DRILL / name), *args]


def acks_in(log: Path) -> int:
    return sum(1 for ln in log.read_text().splitlines() if ln.startswith("A ")) if log.exists() else 0


def wait_acks(log: Path, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while acks_in(log) < n:
        assert time.monotonic() < deadline, f"writer made fewer than {n} acks"
        time.sleep(0.02)


def test_writer_stall_verify_report_summary(workdir: Path, direct_flags: list[str]) -> None:
    """Writer under setsid, a 1.5 s 'fault' (the writer frozen), SIGTERM, verify, report, summary."""
    log, pid_file, target = workdir / "ack.log", workdir / "writer.pid", workdir / "e0.3.img"
    with (workdir / "writer.out").open("wb") as out:
        proc = subprocess.Popen(
            script(
                "ha_san_writer.py",
                str(target),
                "--log",
                str(log),
                "--pid-file",
                str(pid_file),
                "--blocks",
                "2048",
                "--interval",
                "0.002",
                "--duration",
                "60",
                *direct_flags,
            ),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        wait_acks(log, 100)
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGSTOP)  # the "fault": no write completes for 1.5 s
        # read after the stop: on a loaded machine the writer may ack more blocks between a read and the kill
        fault_time = time.time()
        time.sleep(1.5)
        os.kill(pid, signal.SIGCONT)
        resumed = acks_in(log)
        wait_acks(log, resumed + 100)
        os.kill(pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, (workdir / "writer.out").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    verify = subprocess.run(
        script(
            "ha_san_verify.py",
            str(target),
            "--log",
            str(log),
            "--out",
            str(workdir / "verify.json"),
            *direct_flags,
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    v = json.loads(verify.stdout)
    assert v == json.loads((workdir / "verify.json").read_text())
    assert v["lost"] == 0 and v["acked"] >= 200 and v["log_complete"]
    assert 1.4 <= v["stall_s"] < 10 and v["stall_open"] is False
    assert v["stall_start_wall"] <= fault_time + 0.1

    (workdir / "srv.json").write_text(
        json.dumps(
            [
                {"t": fault_time + 0.5, "node": "srv2", "event": "peer dead"},
                {"t": fault_time + 1.4, "node": "srv2", "event": "vblade started"},
            ]
        )
    )
    (workdir / "facts.json").write_text(
        json.dumps(
            {
                "fault": "crash",
                "fault_time": fault_time,
                "fenced": [{"node": "srv1", "t": fault_time + 1}],
                "split_brain": False,
                "double_export": False,
            }
        )
    )
    for n in (1, 2):
        rep = subprocess.run(
            controller_script(
                "ha_san_report.py",
                "report",
                "--verify",
                str(workdir / "verify.json"),
                "--log",
                str(log),
                "--timeline",
                str(workdir / "srv.json"),
                "--facts",
                str(workdir / "facts.json"),
                "--out",
                str(workdir / f"report{n}.json"),
                "--png",
                str(workdir / f"plot{n}.png"),
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        assert rep.returncode == 0, rep.stderr
    report = json.loads((workdir / "report1.json").read_text())
    assert set(report) == {
        "fault",
        "stall_s",
        "acked",
        "lost",
        "split_brain",
        "double_export",
        "fenced",
        "timeline",
        "targets",
    }
    assert report["stall_s"] == pytest.approx(v["stall_s"], abs=0.001) and report["lost"] == 0
    assert [(t["target"], t["acked"], t["lost"]) for t in report["targets"]] == [(str(target), v["acked"], 0)]
    assert (workdir / "plot1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (workdir / "drbd_after.json").write_text(
        json.dumps(
            {
                n: {"role": r, "connection_state": "Connected"}
                for n, r in (("srv1", "Secondary"), ("srv2", "Primary"))
            }
        )
    )
    (workdir / "observations.json").write_text(json.dumps({"victim_export_rc": None, "survivor_role": None}))
    verdict = subprocess.run(
        script(
            "ha_san_report.py",
            "verdict",
            "--report",
            str(workdir / "report1.json"),
            "--fault",
            "crash",
            "--victim",
            "srv1",
            "--survivor",
            "srv2",
            "--drbd-after",
            str(workdir / "drbd_after.json"),
            "--observations",
            str(workdir / "observations.json"),
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert verdict.stdout.startswith("Drill crash passed: lost 0 of ")
    summary = subprocess.run(
        script("ha_san_report.py", "summary", str(workdir / "report1.json"), str(workdir / "report2.json")),
        capture_output=True,
        text=True,
        check=True,
    )
    s = report["stall_s"]
    assert f"| crash | 2 | {s:.2f} | {s:.2f} | {2 * v['acked']} | 0 | 0 | 0 |" in summary.stdout


def run_ok(argv: list[str], ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode in ok, done.stdout + done.stderr
    return done


def verify_to(d: Path, out: str, flags: list[str], ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """ha_san_verify.py on the target and ack log in folder ``d``, as the playbook runs it; its JSON."""
    argv = script("ha_san_verify.py", str(d / "t.img"), "--log", str(d / "ack.log"), "--out", str(d / out))
    run_ok([*argv, *flags], ok)
    return dict(json.loads((d / out).read_text()))


def report_and_verdict(
    workdir: Path, verifies: list[Path], resumes: list[Path]
) -> subprocess.CompletedProcess[str]:
    """ha_san_report.py report (one --verify and --resume-log per writer, in order), then its verdict."""
    inputs = [
        a
        for v, r in zip(verifies, resumes, strict=True)
        for a in ("--verify", str(v), "--resume-log", str(r))
    ]
    report = ["--log", str(workdir / "ack.log"), "--facts", str(workdir / "facts.json")]
    out = ["--out", str(workdir / "report.json"), "--png", str(workdir / "latency.png")]
    run_ok(controller_script("ha_san_report.py", "report", *inputs, *report, *out))
    servers = ["--victim", "srv1", "--survivor", "srv2", "--drbd-after", str(workdir / "drbd_after.json")]
    verdict = ["--report", str(workdir / "report.json"), "--fault", "client_reboot", *servers]
    return run_ok(script("ha_san_report.py", "verdict", *verdict), ok=(0, 1))


def test_client_reboot_with_a_writer_on_each_of_two_targets(workdir: Path, direct_flags: list[str]) -> None:
    """client_reboot as failover_drill.yml runs it, on two targets: writers that fsync every ack line, killed
    at once (the power loss), each verified, each written again "after the boot", one report, one verdict.
    Had the second target lost one acknowledged block, the verdict fails and names it."""
    folders = [workdir, workdir / "target1"]
    folders[1].mkdir()
    procs = []
    for d in folders:
        argv = ["--blocks", "4096", "--interval", "0.002", "--duration", "60", "--fsync-every", "1"]
        writer = script(
            "ha_san_writer.py", str(d / "t.img"), "--log", str(d / "ack.log"), *argv, *direct_flags
        )
        procs.append(subprocess.Popen(writer, stdin=subprocess.DEVNULL, start_new_session=True))
    try:
        for d in folders:
            wait_acks(d / "ack.log", 100)
        fault_time = time.time()
    finally:
        for proc in procs:
            proc.kill()  # no summary line, no last fsync: what a power loss leaves
            proc.wait()
    for d in folders:
        v = verify_to(d, "verify.json", direct_flags)
        assert v["lost"] == 0 and v["acked"] >= 100 and v["log_complete"] is False
    # the loss that did not happen: one acknowledged block of the second target zeroed, verified, put back
    first = next(ln for ln in (folders[1] / "ack.log").read_text().splitlines() if ln.startswith("A "))
    offset, target1 = int(first.split()[2]), folders[1] / "t.img"
    block = target1.read_bytes()[offset : offset + 4096]
    for data, kind in ((bytes(4096), "lost"), (block, "ok")):
        fd = os.open(target1, os.O_WRONLY)
        try:
            os.pwrite(fd, data, offset)
        finally:
            os.close(fd)
        verify_to(folders[1], f"verify-{kind}.json", direct_flags, ok=(1,) if kind == "lost" else (0,))
    # the writers started after the boot (after the verification: they overwrite what it read)
    for d in folders:
        run_ok(script("ha_san_writer.py", str(d / "t.img"), "--log", str(d / "resume.log"), "--count", "20"))
    (workdir / "facts.json").write_text(json.dumps({"fault": "client_reboot", "fault_time": fault_time}))
    roles = (("srv1", "Primary"), ("srv2", "Secondary"))
    after = {n: {"role": r, "connection_state": "Connected"} for n, r in roles}
    (workdir / "drbd_after.json").write_text(json.dumps(after))
    resumes = [d / "resume.log" for d in folders]

    verdict = report_and_verdict(workdir, [d / "verify.json" for d in folders], resumes)
    report = json.loads((workdir / "report.json").read_text())
    assert verdict.returncode == 0, verdict.stdout
    assert [t["target"] for t in report["targets"]] == [str(d / "t.img") for d in folders]
    assert all(
        t["after_boot_acked"] == 20 and t["lost"] == 0 and not t["stall_open"] for t in report["targets"]
    )
    assert report["acked"] == sum(t["acked"] for t in report["targets"]) and report["stall_s"] > 0
    assert verdict.stdout.startswith(f"Drill client_reboot passed: lost 0 of {report['acked']} acknowledged")

    verdict = report_and_verdict(workdir, [workdir / "verify.json", folders[1] / "verify-lost.json"], resumes)
    assert verdict.returncode == 1
    lost_line = next(ln for ln in verdict.stdout.splitlines() if "acknowledged blocks were lost" in ln)
    assert (
        lost_line.startswith("- 1 of ")
        and f"{target1}: 1 of " in lost_line
        and f"{workdir / 't.img'}: 0 of " in lost_line
    )


# --- a real block device ----------------------------------------------------------------------------
@pytest.fixture
def loop_device(workdir: Path) -> Iterator[str]:
    """A 1 MiB loop device backed by a file in the work directory (root and losetup needed)."""
    if os.geteuid() != 0 or not shutil.which("losetup"):
        pytest.skip("needs root and losetup")
    backing = workdir / "loop.img"
    backing.write_bytes(bytes(1 << 20))
    try:
        dev = subprocess.run(
            ["losetup", "--find", "--show", "--direct-io=on", str(backing)],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"no loop device: {exc}")
    try:
        yield dev
    finally:
        subprocess.run(["losetup", "--detach", dev], check=False, timeout=30)


def test_block_device_round_trip_and_size(writer: ModuleType, workdir: Path, loop_device: str) -> None:
    fd = os.open(loop_device, os.O_RDONLY)
    try:
        assert writer.target_size(fd) == 1 << 20
        buf = bytearray(8)
        fcntl.ioctl(fd, writer.ha_san_block.BLKGETSIZE64, buf)
        assert struct.unpack("=Q", bytes(buf))[0] == 1 << 20
    finally:
        os.close(fd)
    log = workdir / "ack.log"
    # the default region (64 MiB) is clamped to the 1 MiB device: 256 blocks of 4 KiB
    run = subprocess.run(
        script("ha_san_writer.py", loop_device, "--log", str(log), "--count", "300"), check=False
    )
    assert run.returncode == 0
    header = json.loads(log.read_text().splitlines()[0][2:])
    assert header["block_device"] is True and header["blocks"] == 256 and header["direct"] is True
    v = subprocess.run(
        script("ha_san_verify.py", loop_device, "--log", str(log)),
        capture_output=True,
        text=True,
        check=False,
    )
    res = json.loads(v.stdout)
    assert v.returncode == 0 and res["acked"] == 300 and res["checked"] == 256 and res["lost"] == 0
    # an explicit region larger than the device is refused, and nothing is written
    big = subprocess.run(
        script("ha_san_writer.py", loop_device, "--log", str(workdir / "big.log"), "--blocks", "257"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert big.returncode == 2 and "exceed" in big.stderr and not (workdir / "big.log").exists()
    # a block zeroed behind the client's back is found through O_DIRECT reads
    fd = os.open(loop_device, os.O_WRONLY)
    try:
        os.pwrite(fd, bytes(4096), 10 * 4096)
        os.fsync(fd)
    finally:
        os.close(fd)
    v = subprocess.run(
        script("ha_san_verify.py", loop_device, "--log", str(log)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert v.returncode == 1 and json.loads(v.stdout)["lost_blocks"][0]["kind"] == "zero"
    # --blocks 0: the whole device, from --offset on (this run's nonce makes the first run's blocks foreign)
    whole = workdir / "whole.log"
    args = ["--log", str(whole), "--count", "3", "--blocks", "0", "--offset", "8192"]
    run = subprocess.run(script("ha_san_writer.py", loop_device, *args), check=False)
    assert run.returncode == 0 and json.loads(whole.read_text().splitlines()[0][2:])["blocks"] == 254
    v = subprocess.run(
        script("ha_san_verify.py", loop_device, "--log", str(log)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert {b["kind"] for b in json.loads(v.stdout)["lost_blocks"]} == {"zero", "foreign"}
