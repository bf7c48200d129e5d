"""Writer -> verifier round trips on a real file on disk, and every way an acknowledged block can be lost."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

DRILL = Path(__file__).resolve().parents[3] / "playbooks" / "files" / "drill"

BS = 4096
NONCE_A = "00112233445566aa"
NONCE_B = "00112233445566bb"


def write(writer: ModuleType, wd: Path, flags: list[str], *extra: str, log: str = "ack.log") -> Path:
    rc = writer.main([str(wd / "target.img"), "--log", str(wd / log), *flags, *extra])
    assert rc == 0
    return wd / log


def check(
    verifier: ModuleType, wd: Path, flags: list[str], log: str = "ack.log"
) -> tuple[int, dict[str, Any]]:
    out = wd / "verify.json"
    rc = verifier.main([str(wd / "target.img"), "--log", str(wd / log), "--out", str(out), *flags])
    return rc, json.loads(out.read_text())


def poke(path: Path, offset: int, data: bytes) -> None:
    """Overwrite bytes on the target behind the writer's back, durably."""
    fd = os.open(path, os.O_WRONLY)
    try:
        assert os.pwrite(fd, data, offset) == len(data)
        os.fsync(fd)
    finally:
        os.close(fd)


def peek(path: Path, offset: int, size: int = BS) -> bytes:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read(size)


def log_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


# --- format ------------------------------------------------------------------------------------------
def test_writer_and_verifier_share_one_block_format(writer: ModuleType, verifier: ModuleType) -> None:
    assert writer.MAGIC == verifier.MAGIC
    assert writer.FORMAT_VERSION == verifier.FORMAT_VERSION
    assert writer.HEADER.format == verifier.HEADER.format
    assert writer.DIGEST_SIZE == verifier.DIGEST_SIZE
    nonce = bytes.fromhex(NONCE_A)
    for seq, off, bs in ((0, 0, 4096), (77, 77 * 512, 512), (2**40, 8192, 8192)):
        blk = writer.build_block(nonce, seq, off, bs)
        assert len(blk) == bs
        assert blk == verifier.build_block(nonce, seq, off, bs)
        assert verifier.classify(blk, nonce, seq, off, seq) == ("ok", seq, NONCE_A)
    # every byte is covered: the payload differs per seq and per nonce
    assert writer.build_block(nonce, 1, 0, BS)[64:128] != writer.build_block(nonce, 2, 0, BS)[64:128]
    other = bytes.fromhex(NONCE_B)
    assert writer.build_block(nonce, 1, 0, BS)[64:128] != writer.build_block(other, 1, 0, BS)[64:128]


def test_nonce_must_be_16_hex_digits(writer: ModuleType) -> None:
    assert writer.parse_nonce("00112233445566aa") == bytes.fromhex("00112233445566aa")
    for bad in ("0011", "zz112233445566aa", "00112233445566aa00"):
        with pytest.raises(Exception, match="16 hex digits"):
            writer.parse_nonce(bad)


# --- round trips ---------------------------------------------------------------------------------------
def test_round_trip_all_acknowledged_blocks_verify(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    log = write(writer, workdir, direct_flags, "--blocks", "1000", "--count", "300", "--nonce", NONCE_A)
    lines = log_lines(log)
    assert lines[0].startswith("H ") and lines[-1].startswith("S ")
    header = json.loads(lines[0][2:])
    assert header["nonce"] == NONCE_A and header["block_size"] == BS and header["blocks"] == 1000
    assert header["direct"] is (not direct_flags) and header["dsync"] is True
    acks = [ln.split() for ln in lines if ln.startswith("A ")]
    assert [int(a[1]) for a in acks] == list(range(300))
    assert all(int(a[2]) == int(a[1]) * BS for a in acks)
    assert all(float(a[5]) >= 0 for a in acks)
    assert (workdir / "target.img").stat().st_size == 1000 * BS
    # the block on disk is exactly what the format says
    assert peek(workdir / "target.img", 5 * BS) == writer.build_block(bytes.fromhex(NONCE_A), 5, 5 * BS, BS)

    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 0
    assert res["acked"] == res["checked"] == res["verified"] == 300 and res["wrapped"] is False
    assert res["lost"] == 0 and res["lost_blocks"] == []
    assert res["kinds"]["ok"] == 300
    assert res["log_complete"] is True and res["writer_summary"]["stopped_by"] == "count"
    assert res["first_seq"] == 0 and res["last_seq"] == 299 and res["seq_gaps"] == 0
    assert res["first_ack_wall"] <= res["last_ack_wall"]
    assert res["stall_s"] >= 0 and res["errors"] == 0


def test_default_nonce_is_random_per_run(writer: ModuleType, workdir: Path, direct_flags: list[str]) -> None:
    write(writer, workdir, direct_flags, "--blocks", "8", "--count", "1", log="a.log")
    write(writer, workdir, direct_flags, "--blocks", "8", "--count", "1", log="b.log")
    nonces = [json.loads(log_lines(workdir / n)[0][2:])["nonce"] for n in ("a.log", "b.log")]
    assert nonces[0] != nonces[1] and all(len(n) == 16 for n in nonces)


def test_wrap_around_verifies_only_the_latest_seq_per_offset(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    write(writer, workdir, direct_flags, "--blocks", "16", "--count", "100", "--nonce", NONCE_A)
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 0
    assert res["acked"] == 100 and res["checked"] == 16 and res["verified"] == 16 and res["lost"] == 0
    assert res["wrapped"] is True
    # the latest seq at offset 0 is 96 (0, 16, ..., 96); seq 99 sits at slot 3
    assert peek(workdir / "target.img", 0)[:64] == writer.build_block(bytes.fromhex(NONCE_A), 96, 0, BS)[:64]
    assert writer.block_offset(99, 0, 16, BS) == 3 * BS


def test_start_seq_and_offset(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    write(
        writer,
        workdir,
        direct_flags,
        "--blocks",
        "10",
        "--offset",
        str(4 * BS),
        "--start-seq",
        "1000",
        "--count",
        "25",
    )
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 0 and res["first_seq"] == 1000 and res["last_seq"] == 1024 and res["checked"] == 10
    acks = [ln.split() for ln in log_lines(workdir / "ack.log") if ln.startswith("A ")]
    assert {int(a[2]) for a in acks} == {(4 + i) * BS for i in range(10)}


# --- what the verifier must catch ---------------------------------------------------------------------
def test_lost_block_zeroed(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    write(writer, workdir, direct_flags, "--blocks", "64", "--count", "50", "--nonce", NONCE_A)
    poke(workdir / "target.img", 17 * BS, bytes(BS))
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 1
    assert res["lost"] == 1 and res["verified"] == 49 and res["kinds"]["zero"] == 1
    assert res["lost_blocks"] == [
        {"seq": 17, "offset": 17 * BS, "kind": "zero", "found_seq": None, "found_nonce": ""}
    ]


def test_stale_block_older_seq_of_the_same_run(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    """The old Primary's data came back: offset 5 holds seq 5 again where seq 21 was acknowledged."""
    write(writer, workdir, direct_flags, "--blocks", "16", "--count", "32", "--nonce", NONCE_A)
    poke(workdir / "target.img", 5 * BS, writer.build_block(bytes.fromhex(NONCE_A), 5, 5 * BS, BS))
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 1 and res["lost"] == 1 and res["kinds"]["stale"] == 1
    assert res["lost_blocks"][0] == {
        "seq": 21,
        "offset": 5 * BS,
        "kind": "stale",
        "found_seq": 5,
        "found_nonce": NONCE_A,
    }


def test_foreign_nonce_same_seq_from_another_run_is_lost(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    """The lab-notes case: without a per-run nonce this verified as 0 lost where 647 were lost."""
    write(writer, workdir, direct_flags, "--blocks", "64", "--count", "40", "--nonce", NONCE_A, log="a.log")
    old_run = {s: peek(workdir / "target.img", s * BS) for s in range(10, 20)}
    write(writer, workdir, direct_flags, "--blocks", "64", "--count", "40", "--nonce", NONCE_B, log="b.log")
    assert check(verifier, workdir, direct_flags, log="b.log")[0] == 0
    for seq, data in old_run.items():  # the stale node got the group back: run A's blocks reappear
        poke(workdir / "target.img", seq * BS, data)
    rc, res = check(verifier, workdir, direct_flags, log="b.log")
    assert rc == 1 and res["lost"] == 10 and res["kinds"]["foreign"] == 10
    assert {b["seq"] for b in res["lost_blocks"]} == set(range(10, 20))
    for b in res["lost_blocks"]:
        # same seq, same offset, valid checksum: a seq-only check would have called these fine
        assert b["found_seq"] == b["seq"] and b["found_nonce"] == NONCE_A and b["kind"] == "foreign"
    # and run A's own log is now the one that is mostly lost
    assert check(verifier, workdir, direct_flags, log="a.log")[1]["lost"] == 30


def test_corrupt_checksum(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    write(writer, workdir, direct_flags, "--blocks", "64", "--count", "30", "--nonce", NONCE_A)
    poke(workdir / "target.img", 7 * BS + 1000, b"\xff")  # one byte in the payload
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 1 and res["kinds"]["corrupt"] == 1 and res["lost_blocks"][0]["seq"] == 7


def test_garbage_misplaced_and_read_error(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    write(writer, workdir, direct_flags, "--blocks", "64", "--count", "64", "--nonce", NONCE_A)
    img = workdir / "target.img"
    poke(img, 3 * BS, b"\x5a" * BS)  # garbage
    poke(img, 4 * BS, peek(img, 9 * BS))  # a valid block of this run, at the wrong place
    os.truncate(img, 60 * BS)  # the last four acknowledged blocks cannot be read back
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 1
    k = res["kinds"]
    assert (k["garbage"], k["misplaced"], k["read_error"], k["ok"]) == (1, 1, 4, 58)
    assert res["lost"] == 6 and [b["seq"] for b in res["lost_blocks"]] == [3, 4, 60, 61, 62, 63]


def test_lost_list_is_capped(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    write(writer, workdir, direct_flags, "--blocks", "64", "--count", "40", "--nonce", NONCE_A)
    poke(workdir / "target.img", 0, bytes(40 * BS))
    out = workdir / "v.json"
    rc = verifier.main(
        [
            str(workdir / "target.img"),
            "--log",
            str(workdir / "ack.log"),
            "--out",
            str(out),
            "--max-list",
            "5",
            *direct_flags,
        ]
    )
    res = json.loads(out.read_text())
    assert rc == 1 and res["lost"] == 40 and len(res["lost_blocks"]) == 5 and res["lost_truncated"] is True


def test_superseded_and_future_blocks(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    """A write in flight when the writer stopped may land: that is no loss; a seq never attempted is."""
    write(writer, workdir, direct_flags, "--blocks", "16", "--count", "20", "--nonce", NONCE_A)
    nonce = bytes.fromhex(NONCE_A)
    poke(workdir / "target.img", 4 * BS, writer.build_block(nonce, 20, 4 * BS, BS))  # next seq, in flight
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 0 and res["superseded"] == 1 and res["verified"] == 16
    poke(workdir / "target.img", 5 * BS, writer.build_block(nonce, 53, 5 * BS, BS))  # never attempted
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 1 and res["kinds"]["future"] == 1


# --- errors, stop, log ---------------------------------------------------------------------------------
def test_failed_writes_are_logged_and_retried(
    writer: ModuleType,
    verifier: ModuleType,
    workdir: Path,
    direct_flags: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = os.pwrite
    calls = {"n": 0}

    def flaky(fd: int, data: Any, offset: int) -> int:
        calls["n"] += 1
        if 10 < calls["n"] <= 13:
            raise OSError(errno.EIO, "Input/output error")
        return real(fd, data, offset)

    monkeypatch.setattr(writer.os, "pwrite", flaky)
    write(writer, workdir, direct_flags, "--blocks", "64", "--count", "20", "--retry-interval", "0.01")
    lines = log_lines(workdir / "ack.log")
    errs = [ln.split() for ln in lines if ln.startswith("E ")]
    assert len(errs) == 3 and all(e[1] == "10" and e[6] == "EIO" for e in errs)  # same seq retried
    assert [int(ln.split()[1]) for ln in lines if ln.startswith("A ")] == list(range(20))
    assert json.loads(lines[-1][2:])["errors"] == 3
    monkeypatch.undo()
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 0 and res["errors"] == 3 and res["first_error_wall"] is not None and res["lost"] == 0


def test_sigterm_stops_cleanly_with_a_complete_log(
    verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    log, pid_file = workdir / "ack.log", workdir / "writer.pid"
    cmd = [
        sys.executable,
        str(DRILL / "ha_san_writer.py"),
        str(workdir / "target.img"),
        "--log",
        str(log),
        "--blocks",
        "256",
        "--pid-file",
        str(pid_file),
        "--fsync-every",
        "7",
        *direct_flags,
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = pid_file.exists() and pid_file.read_text().strip() and log.exists()
            if ready and sum(1 for ln in log_lines(log) if ln.startswith("A ")) >= 50:
                break
            time.sleep(0.05)
        assert int(pid_file.read_text()) == proc.pid
        os.kill(int(pid_file.read_text()), signal.SIGTERM)
        err = proc.communicate(timeout=30)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert not pid_file.exists()
    lines = log_lines(log)
    assert lines[0].startswith("H ") and lines[-1].startswith("S ")
    assert all(ln[:2] in ("H ", "A ", "S ") for ln in lines)
    summary = json.loads(lines[-1][2:])
    acks = [ln for ln in lines if ln.startswith("A ")]
    assert summary["stopped_by"] == "signal SIGTERM" and summary["acked"] == len(acks) >= 50, lines[-1]
    assert summary["next_seq"] == len(acks)
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 0 and res["lost"] == 0 and res["log_complete"] and res["stall_open"] is False, res


def test_log_with_truncated_last_line_and_no_summary(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    """A writer killed with -9: no S line, maybe half a line; every complete ack is still verified."""
    log = write(writer, workdir, direct_flags, "--blocks", "64", "--count", "30")
    lines = log_lines(log)[:-1]  # drop the summary
    log.write_text("\n".join(lines) + "\nA 30 1228")
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 0 and res["acked"] == 30 and res["log_complete"] is False and res["bad_log_lines"] == 1


def fsyncs_between_writes(
    writer: ModuleType, wd: Path, flags: list[str], monkeypatch: pytest.MonkeyPatch, *extra: str
) -> list[list[str]]:
    """Run the writer for 20 acks; per block write, what was fsynced before it ("log" or "folder")."""
    events: list[list[str]] = [[]]
    real_pwrite, real_fsync = os.pwrite, os.fsync

    def pwrite(fd: int, data: Any, offset: int) -> int:
        events.append([])
        return real_pwrite(fd, data, offset)

    def fsync(fd: int) -> None:
        events[-1].append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "log")
        real_fsync(fd)

    monkeypatch.setattr(writer.os, "pwrite", pwrite)
    monkeypatch.setattr(writer.os, "fsync", fsync)
    write(writer, wd, flags, "--blocks", "64", "--count", "20", *extra)
    monkeypatch.undo()
    return events


def test_fsync_every_line_puts_each_ack_on_disk_before_the_next_write(
    writer: ModuleType, workdir: Path, direct_flags: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a drill that cuts the client's power relies on: after the loss, the log holds every ack but the
    one being logged at that instant."""
    events = fsyncs_between_writes(writer, workdir, direct_flags, monkeypatch, "--fsync-every", "1")
    # the header and the log's folder before the first write, so the log itself outlives a power loss
    assert events[0][-1] == "folder" and set(events[0]) == {"log", "folder"}
    # then the previous block's ack line before each write, and the last one's with the summary
    assert len(events) == 21 and all(e == ["log"] for e in events[1:-1]), events
    assert events[-1][0] == "log"
    # the default syncs far less often: only the header, the folder and the stop
    events = fsyncs_between_writes(writer, workdir, direct_flags, monkeypatch)
    assert events[0] == ["log", "folder"] and not any(events[1:-1])


def test_only_the_last_run_of_an_appended_log_counts(
    writer: ModuleType, verifier: ModuleType, workdir: Path, direct_flags: list[str]
) -> None:
    write(writer, workdir, direct_flags, "--blocks", "64", "--count", "10", "--nonce", NONCE_A)
    write(writer, workdir, direct_flags, "--blocks", "64", "--count", "5", "--nonce", NONCE_B)
    rc, res = check(verifier, workdir, direct_flags)
    assert rc == 0 and res["runs_in_log"] == 2 and res["acked"] == 5 and res["nonce"] == NONCE_B


def test_no_acknowledged_block_and_missing_header(verifier: ModuleType, workdir: Path) -> None:
    (workdir / "target.img").write_bytes(bytes(BS))
    (workdir / "ack.log").write_text('H {"nonce": "00112233445566aa", "block_size": 4096}\n')
    assert verifier.main([str(workdir / "target.img"), "--log", str(workdir / "ack.log"), "--no-direct"]) == 3
    (workdir / "ack.log").write_text("")
    assert verifier.main([str(workdir / "target.img"), "--log", str(workdir / "ack.log"), "--no-direct"]) == 2
    assert verifier.main([str(workdir / "target.img"), "--log", str(workdir / "none.log")]) == 2


def test_duration_stops_the_writer(writer: ModuleType, workdir: Path, direct_flags: list[str]) -> None:
    t0 = time.monotonic()
    write(writer, workdir, direct_flags, "--blocks", "64", "--duration", "0.5", "--interval", "0.01")
    assert 0.5 <= time.monotonic() - t0 < 5
    assert json.loads(log_lines(workdir / "ack.log")[-1][2:])["stopped_by"] == "duration"


# --- region vs device size -----------------------------------------------------------------------------
def test_region_is_clamped_to_a_small_device_unless_asked_for(
    writer: ModuleType, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = workdir / "small.img"
    dev.write_bytes(bytes(10 * BS))

    def small_device(path: str, direct: bool, need: int) -> tuple[int, int, bool]:
        return os.open(path, os.O_WRONLY | os.O_DSYNC), 10 * BS, True

    monkeypatch.setattr(writer, "open_target", small_device)
    log = workdir / "ack.log"
    assert writer.main([str(dev), "--log", str(log), "--count", "3"]) == 0
    assert json.loads(log_lines(log)[0][2:])["blocks"] == 10
    assert writer.main([str(dev), "--log", str(log), "--count", "3", "--blocks", "11"]) == 2
    assert writer.main([str(dev), "--log", str(log), "--count", "3", "--offset", str(4 * BS)]) == 0
    assert json.loads(log_lines(log)[-5][2:])["blocks"] == 6


def test_a_missing_device_is_not_created_as_a_file(writer: ModuleType, workdir: Path) -> None:
    missing = "/dev/ha_san-drill-test-no-such-device"
    assert writer.main([missing, "--log", str(workdir / "ack.log"), "--count", "1"]) == 2
    assert not os.path.exists(missing) and not (workdir / "ack.log").exists()


def test_target_size_of_a_file(writer: ModuleType, workdir: Path) -> None:
    p = workdir / "f.img"
    p.write_bytes(bytes(12345))
    fd = os.open(p, os.O_RDONLY)
    try:
        assert writer.target_size(fd) == 12345
    finally:
        os.close(fd)


def test_bad_block_size_and_offset(writer: ModuleType, workdir: Path) -> None:
    log = str(workdir / "ack.log")
    assert writer.main([str(workdir / "t.img"), "--log", log, "--block-size", "1000"]) == 2
    assert writer.main([str(workdir / "t.img"), "--log", log, "--offset", "100"]) == 2


# --- stall -----------------------------------------------------------------------------------------------
def test_stall_is_the_longest_gap_between_acks(verifier: ModuleType) -> None:
    Ack = verifier.Ack
    monos = [10.0, 10.01, 10.02, 21.12, 21.13, 21.5]
    acks = [Ack(i, i * BS, m, 1000.0 + m, 1.0) for i, m in enumerate(monos)]
    s = verifier.stall(acks)
    assert s["stall_s"] == pytest.approx(11.1)
    assert s["stall_start_seq"] == 2 and s["stall_start_wall"] == pytest.approx(1010.02)
    assert s["stall_end_wall"] == pytest.approx(1021.12) and s["stall_open"] is False
    # stopped while still stalled: the open tail is the stall
    s = verifier.stall(acks, ended_mono=40.0)
    assert s["stall_s"] == pytest.approx(18.5) and s["stall_open"] is True and s["stall_start_seq"] == 5
    assert s["tail_s"] == pytest.approx(18.5)
    # an ordinary stop right after the last ack is no open stall, even if it is the longest "gap"
    s = verifier.stall(acks, ended_mono=22.3)
    assert (
        s["stall_s"] == pytest.approx(11.1) and s["stall_open"] is False and s["tail_s"] == pytest.approx(0.8)
    )
    s = verifier.stall(acks[:3], ended_mono=10.5)
    assert s["stall_s"] == pytest.approx(0.01) and s["stall_open"] is False
    assert verifier.stall([])["stall_s"] == 0.0
    assert verifier.stall(acks[:1])["stall_s"] == 0.0


def test_stall_from_a_log(verifier: ModuleType, workdir: Path) -> None:
    log = workdir / "ack.log"
    log.write_text(
        'H {"nonce": "00112233445566aa", "block_size": 4096}\n'
        "A 0 0 100.000000 1700000000.000000 1.000\n"
        "A 1 4096 100.010000 1700000000.010000 9.000\n"
        "E 2 8192 105.000000 1700000005.000000 4990.000 EIO Input/output error\n"
        "A 2 8192 109.310000 1700000009.310000 4100.000\n"
        "A 3 12288 109.320000 1700000009.320000 1.000\n"
        'S {"ended_mono": 109.33}\n'
    )
    wl = verifier.read_log(str(log))
    assert [a.seq for a in wl.acks] == [0, 1, 2, 3] and len(wl.errors) == 1
    s = verifier.stall(wl.acks, wl.summary["ended_mono"])
    assert s["stall_s"] == pytest.approx(9.3) and s["stall_start_seq"] == 1
