"""Read one block of an AoE export in a loop and time every completed read: the stall a client sees.

    python3 ha_san_read_probe.py run DEVICE --log LOG [--pid-file FILE] [--duration 600] [--interval 0.01]
                                 [--block-size 4096] [--offset 0] [--no-direct]
    python3 ha_san_read_probe.py wait LOG [--timeout 180]   exit 0 once a read completes after this call began
    python3 ha_san_read_probe.py summary LOG                one JSON line: reads, errors, the longest gap

Used by playbooks/switchover.yml on a client while the service moves. It writes nothing to DEVICE: it opens
it O_RDONLY, with O_DIRECT so that every read goes to the target and none is served from the page cache (a
cached read would hide the stall). A read blocks while the export is away (the aoe driver retransmits), so
the longest gap between two completed reads is the stall: the outage plus one read and one --interval.
`run` stops after --duration seconds or on SIGTERM/SIGINT (a read in progress finishes first), writes a
summary line and removes its PID file.

The log (made anew by each run), one record per line, line-buffered:
    H {json}                    header: device, block size, offset, direct, pid, start times
    R SEQ WALL MONO LATENCY_S   a completed read (WALL time.time(), MONO time.monotonic(), both at completion)
    E WALL MONO ERRNO MESSAGE   a failed read; the loop goes on (the driver fails I/O after aoe_deadsecs)
    S {json}                    the summary, at the stop
MONO is CLOCK_MONOTONIC, the same for every process on the host: `wait` compares its own start with it.
No shebang, like the drill's tools: run it as `python3 ha_san_read_probe.py`. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import mmap
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass
class Log:
    """What a probe's log holds."""

    header: dict[str, Any] = field(default_factory=dict)
    reads: list[tuple[int, float, float, float]] = field(default_factory=list)  # seq, wall, mono, latency
    errors: list[tuple[float, float, int, str]] = field(default_factory=list)  # wall, mono, errno, message
    summary: dict[str, Any] | None = None


def parse_line(line: str, log: Log) -> None:
    """Add one log line to LOG; lines it does not know (a torn last line) are left out."""
    kind, _sep, rest = line.rstrip("\n").partition(" ")
    try:
        if kind == "R":
            seq, wall, mono, lat = rest.split()
            log.reads.append((int(seq), float(wall), float(mono), float(lat)))
        elif kind == "E":
            wall, mono, err, msg = [*rest.split(" ", 3), ""][:4]
            log.errors.append((float(wall), float(mono), int(err), msg))
        elif kind == "H":
            log.header = json.loads(rest)
        elif kind == "S":
            log.summary = json.loads(rest)
    except ValueError:
        return


def read_log(path: str) -> Log:
    log = Log()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.endswith("\n"):  # the writer may be in the middle of the last one
                parse_line(line, log)
    return log


def longest_gap(times: list[float]) -> tuple[float, int]:
    """(the longest gap between consecutive TIMES, the index of the time that ended it); (0.0, -1) for < 2."""
    best, end = 0.0, -1
    for i in range(1, len(times)):
        gap = times[i] - times[i - 1]
        if gap > best:
            best, end = gap, i
    return best, end


def summarize(log: Log, stopped_mono: float | None = None) -> dict[str, Any]:
    """The figures switchover.yml prints: the longest gap between completed reads is the stall.

    STOPPED_MONO (the probe's stop) adds the time since the last read: a probe stopped in a stall saw
    at least that much of it (``tail_s``), and ``stall_s`` is the larger of the two.
    """
    monos = [r[2] for r in log.reads]
    gap, end = longest_gap(monos)
    out: dict[str, Any] = {
        "reads": len(log.reads),
        "errors": len(log.errors),
        "longest_gap_s": round(gap, 6),
        "gap_from_wall": log.reads[end - 1][1] if end > 0 else None,
        "gap_to_wall": log.reads[end][1] if end > 0 else None,
        "first_wall": log.reads[0][1] if log.reads else None,
        "last_wall": log.reads[-1][1] if log.reads else None,
        "max_latency_s": round(max((r[3] for r in log.reads), default=0.0), 6),
        "last_error": log.errors[-1][3] if log.errors else None,
    }
    tail = 0.0
    if stopped_mono is not None and monos:
        tail = max(0.0, stopped_mono - monos[-1])
    out["tail_s"] = round(tail, 6)
    out["stall_s"] = round(max(gap, tail), 6)
    return out


# -- run -----------------------------------------------------------------------------------------------------
class Stop:
    """Set by SIGTERM/SIGINT; the loop checks it between reads (a read in the kernel finishes first)."""

    def __init__(self) -> None:
        self.why = ""

    def __call__(self, signum: int, _frame: object) -> None:
        self.why = signal.Signals(signum).name


def _emit(out: TextIO, line: str) -> None:
    out.write(line + "\n")


def run(
    device: str,
    log_path: str,
    duration: float,
    interval: float,
    block_size: int,
    offset: int,
    direct: bool,
    pid_file: str | None = None,
) -> int:
    if block_size <= 0 or block_size % 512 or offset % block_size:
        print("--block-size must be a multiple of 512 and --offset a multiple of it", file=sys.stderr)
        return 2
    stop = Stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    flags = os.O_RDONLY | (os.O_DIRECT if direct else 0)  # read only: this probe never writes
    try:
        fd = os.open(device, flags)
    except OSError as exc:
        print(f"cannot open {device} for reading: {exc}", file=sys.stderr)
        return 1
    buf = mmap.mmap(-1, block_size)  # page-aligned, as O_DIRECT needs
    if pid_file:
        with open(pid_file, "w", encoding="utf-8") as f:
            f.write(f"{os.getpid()}\n")
    start_mono, start_wall = time.monotonic(), time.time()
    deadline = start_mono + duration
    seq = 0
    try:
        with open(log_path, "w", buffering=1, encoding="utf-8") as out:
            header = {
                "device": device,
                "block_size": block_size,
                "offset": offset,
                "direct": direct,
                "interval": interval,
                "duration": duration,
                "pid": os.getpid(),
                "started_wall": start_wall,
                "started_mono": start_mono,
            }
            _emit(out, "H " + json.dumps(header, sort_keys=True))
            while not stop.why and time.monotonic() < deadline:
                t0 = time.monotonic()
                try:
                    n = os.preadv(fd, [buf], offset)
                except OSError as exc:
                    _emit(out, f"E {time.time():.6f} {time.monotonic():.6f} {exc.errno} {exc.strerror}")
                    time.sleep(max(interval, 0.1))  # a failing device answers at once: do not spin
                    continue
                t1 = time.monotonic()
                if n != block_size:
                    _emit(out, f"E {time.time():.6f} {t1:.6f} 0 short read of {n} bytes at {offset}")
                    time.sleep(max(interval, 0.1))
                    continue
                _emit(out, f"R {seq} {time.time():.6f} {t1:.6f} {t1 - t0:.6f}")
                seq += 1
                time.sleep(interval)
            stopped = time.monotonic()
            out.flush()
            summary = summarize(read_log(log_path), stopped)
            summary["stopped_by"] = stop.why or "duration"
            _emit(out, "S " + json.dumps(summary, sort_keys=True))
    finally:
        os.close(fd)
        buf.close()
        if pid_file:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(pid_file)
    return 0


# -- wait ----------------------------------------------------------------------------------------------------
def read_after(path: str, offset: int, after_mono: float) -> tuple[int, tuple[int, float, float] | None]:
    """Scan PATH from OFFSET: the offset after the last whole line, and the first read completed after
    AFTER_MONO as (seq, wall, mono)."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1  # a torn last line is read again next time
    log = Log()
    for raw in data[:end].decode("utf-8", "replace").splitlines():
        if raw.startswith("R "):
            parse_line(raw, log)
    for seq, wall, mono, _lat in log.reads:
        if mono > after_mono:
            return offset + end, (seq, wall, mono)
    return offset + end, None


def wait(path: str, timeout: float, poll: float = 0.1) -> int:
    t0 = time.monotonic()
    offset = 0
    while True:
        try:
            offset, hit = read_after(path, offset, t0)
        except FileNotFoundError:
            hit = None
        if hit:
            print(
                json.dumps(
                    {"resumed": True, "seq": hit[0], "wall": hit[1], "waited_s": round(hit[2] - t0, 3)}
                )
            )
            return 0
        if time.monotonic() - t0 >= timeout:
            print(json.dumps({"resumed": False, "waited_s": round(time.monotonic() - t0, 3)}))
            return 1
        time.sleep(poll)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="read DEVICE in a loop, one log line per completed read")
    r.add_argument("device")
    r.add_argument("--log", required=True)
    r.add_argument("--pid-file")
    r.add_argument("--duration", type=float, default=600.0, help="seconds before it stops by itself")
    r.add_argument("--interval", type=float, default=0.01, help="pause between reads, seconds")
    r.add_argument("--block-size", type=int, default=4096)
    r.add_argument("--offset", type=int, default=0, help="byte offset of the block read")
    r.add_argument("--no-direct", action="store_true", help="without O_DIRECT (tests on tmpfs only)")
    w = sub.add_parser("wait", help="wait until a read completes after this command began")
    w.add_argument("log")
    w.add_argument("--timeout", type=float, default=180.0)
    s = sub.add_parser("summary", help="the log's figures as one JSON line")
    s.add_argument("log")
    a = p.parse_args(argv)
    if a.cmd == "run":
        return run(
            a.device, a.log, a.duration, a.interval, a.block_size, a.offset, not a.no_direct, a.pid_file
        )
    if a.cmd == "wait":
        return wait(a.log, a.timeout)
    log = read_log(a.log)
    # the probe's own summary knows how it stopped; a log without one (killed) is summed up here
    summary = log.summary if log.summary is not None else summarize(log)
    print(json.dumps(summary, sort_keys=True))
    return 0 if log.reads else 1


if __name__ == "__main__":
    sys.exit(main())
