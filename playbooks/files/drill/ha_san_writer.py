"""Failover drill writer (ha_san.aoe): numbered, checksummed, nonce-tagged blocks, one log line per ack.

Runs on the AoE client with nothing but python3.  Writes fixed-size blocks with O_DIRECT|O_DSYNC to a
block device (e.g. /dev/etherd/e0.3) or a file, round-robin over a region of ``--blocks`` blocks, and
appends one ``A`` line to the ack log for every write the kernel acknowledged.  A write that fails is
logged as an ``E`` line and retried (same seq, same content) until it succeeds or the writer is told to
stop.  SIGTERM / SIGINT / ``--duration`` / ``--count`` stop it cleanly: the current write finishes, a
summary ``S`` line is written and the log is fsynced.  Block and log formats: README.md beside this file.

Usage: python3 ha_san_writer.py TARGET --log ACK.log [--nonce HEX16] [--blocks N] [--pid-file F] ...
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import mmap
import os
import signal
import socket
import stat
import sys
import time
from typing import Any, TextIO

# The block format is ha_san_block.py's, shipped beside this file. `python3 -I` (isolated) leaves this
# file's folder off sys.path, hence the insert.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import ha_san_block  # noqa: E402
from ha_san_block import (  # noqa: E402
    DIGEST_SIZE,
    FORMAT_VERSION,
    HEADER,
    MIN_BLOCK_SIZE,
    NONCE_SIZE,
    block_offset,
    build_block,
    target_size,
)

# Not used here, but part of the format the tests check the writer and the verifier share.
MAGIC = ha_san_block.MAGIC

LOG_VERSION = 1
DEFAULT_BLOCKS = 16384  # 64 MiB of 4 KiB blocks
EXIT_USAGE = 2


def parse_nonce(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != NONCE_SIZE:
        raise argparse.ArgumentTypeError(f"nonce must be {NONCE_SIZE * 2} hex digits, got {text!r}")
    return raw


# --- target -----------------------------------------------------------------------------------------
def open_target(path: str, direct: bool, need: int) -> tuple[int, int, bool]:
    """Open ``path`` for O_DSYNC (and O_DIRECT) writes; a regular file is created/grown to ``need`` bytes.

    Returns (fd, size in bytes, is_block_device).
    """
    flags = os.O_WRONLY | os.O_DSYNC | getattr(os, "O_CLOEXEC", 0)
    if direct:
        flags |= os.O_DIRECT
    is_blk = os.path.exists(path) and stat.S_ISBLK(os.stat(path).st_mode)
    if not os.path.exists(path):
        if os.path.realpath(path).startswith("/dev/"):  # an AoE device not (yet) discovered: no file there
            raise FileNotFoundError(errno.ENOENT, "no such device", path)
        flags |= os.O_CREAT
    fd = os.open(path, flags, 0o644)
    size = target_size(fd)
    if not is_blk and size < need:
        os.posix_fallocate(fd, 0, need)
        size = target_size(fd)
    return fd, size, is_blk


# --- ack log ----------------------------------------------------------------------------------------
class AckLog:
    """``H``/``A``/``E``/``S`` lines; line-buffered, fsynced every ``fsync_every`` lines and at close."""

    def __init__(self, path: str, fsync_every: int) -> None:
        self.fh: TextIO = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
        self.fsync_every = max(1, fsync_every)
        self.pending = 0

    def line(self, text: str) -> None:
        self.fh.write(text + "\n")
        self.pending += 1
        if self.pending >= self.fsync_every:
            self.sync()

    def sync(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.pending = 0

    def sync_folder(self) -> None:
        """fsync the log's folder: a log created just now must be found after the client's power loss."""
        fd = os.open(os.path.dirname(os.path.abspath(self.fh.name)), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        self.sync()
        self.fh.close()


# --- writer -----------------------------------------------------------------------------------------
class Stop:
    """Set by SIGTERM/SIGINT; the loop checks it between writes, so the current write always finishes."""

    def __init__(self) -> None:
        self.reason = ""

    def handler(self, signum: int, _frame: Any) -> None:
        self.reason = f"signal {signal.Signals(signum).name}"


def run(args: argparse.Namespace) -> int:
    bs: int = args.block_size
    if bs < MIN_BLOCK_SIZE or bs % MIN_BLOCK_SIZE or bs < HEADER.size + DIGEST_SIZE + 8:
        print(f"ha_san_writer: --block-size must be a multiple of {MIN_BLOCK_SIZE}", file=sys.stderr)
        return EXIT_USAGE
    if args.offset % bs:
        print("ha_san_writer: --offset must be a multiple of --block-size", file=sys.stderr)
        return EXIT_USAGE
    nonce: bytes = args.nonce if args.nonce is not None else os.urandom(NONCE_SIZE)
    whole = args.blocks == 0  # as many blocks as the block device holds
    blocks: int = args.blocks if args.blocks else DEFAULT_BLOCKS
    try:
        fd, size, is_blk = open_target(args.target, not args.no_direct, args.offset + blocks * bs)
    except OSError as exc:
        hint = " (filesystem refuses O_DIRECT: use --no-direct)" if exc.errno == errno.EINVAL else ""
        print(f"ha_san_writer: cannot open {args.target}: {exc}{hint}", file=sys.stderr)
        return EXIT_USAGE
    fit = (size - args.offset) // bs
    if whole and is_blk:
        blocks = fit
    if blocks > fit or fit < 1:
        if args.blocks or fit < 1:
            print(
                f"ha_san_writer: {blocks} blocks of {bs} at offset {args.offset} exceed {args.target} "
                f"({size} bytes, room for {max(fit, 0)})",
                file=sys.stderr,
            )
            os.close(fd)
            return EXIT_USAGE
        blocks = fit  # the default region is clamped to a small device

    stop = Stop()
    old_handlers = {sig: signal.signal(sig, stop.handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    buf = mmap.mmap(-1, bs)  # page-aligned: what O_DIRECT needs
    log = AckLog(args.log, args.fsync_every)
    started_mono, started_wall = time.monotonic(), time.time()
    header = {
        "log_version": LOG_VERSION,
        "format_version": FORMAT_VERSION,
        "target": args.target,
        "block_device": is_blk,
        "device_size": size,
        "nonce": nonce.hex(),
        "block_size": bs,
        "blocks": blocks,
        "offset": args.offset,
        "start_seq": args.start_seq,
        "direct": not args.no_direct,
        "dsync": True,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_mono": round(started_mono, 6),
        "started_wall": round(started_wall, 6),
    }
    log.line("H " + json.dumps(header, sort_keys=True))
    log.sync()
    log.sync_folder()
    if args.pid_file:
        with open(args.pid_file, "w", encoding="ascii") as pf:
            pf.write(f"{os.getpid()}\n")

    deadline = started_mono + args.duration if args.duration > 0 else None
    seq, acked, errors, max_lat = args.start_seq, 0, 0, 0.0
    try:
        while not stop.reason:
            if deadline is not None and time.monotonic() >= deadline:
                stop.reason = "duration"
                break
            if args.count and acked >= args.count:
                stop.reason = "count"
                break
            offset = block_offset(seq, args.offset, blocks, bs)
            buf[:] = build_block(nonce, seq, offset, bs)
            t0 = time.monotonic()
            try:
                done = os.pwrite(fd, buf, offset)
                if done != bs:
                    raise OSError(errno.EIO, f"short write of {done} bytes")
            except OSError as exc:
                t1 = time.monotonic()
                errors += 1
                msg = f"{errno.errorcode.get(exc.errno or 0, exc.errno)} {exc.strerror or exc}"
                log.line(f"E {seq} {offset} {t1:.6f} {time.time():.6f} {(t1 - t0) * 1000:.3f} {msg}")
                time.sleep(args.retry_interval)
                continue
            t1 = time.monotonic()
            lat = (t1 - t0) * 1000
            max_lat = max(max_lat, lat)
            log.line(f"A {seq} {offset} {t1:.6f} {time.time():.6f} {lat:.3f}")
            acked += 1
            seq += 1
            if args.interval > 0:
                time.sleep(args.interval)
    finally:
        summary = {
            "acked": acked,
            "errors": errors,
            "first_seq": args.start_seq,
            "next_seq": seq,
            "max_latency_ms": round(max_lat, 3),
            "stopped_by": stop.reason or "exception",
            "ended_mono": round(time.monotonic(), 6),
            "ended_wall": round(time.time(), 6),
        }
        log.line("S " + json.dumps(summary, sort_keys=True))
        log.close()
        os.close(fd)
        buf.close()
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
        if args.pid_file:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(args.pid_file)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", help="block device (e.g. /dev/etherd/e0.3) or file (created if missing)")
    p.add_argument("--log", required=True, help="ack log to append to")
    p.add_argument("--block-size", type=int, default=4096, help="bytes per block (multiple of 512)")
    p.add_argument(
        "--blocks",
        type=int,
        help=f"region size in blocks (wraps; default {DEFAULT_BLOCKS}, clamped to a smaller device; "
        "0: the whole block device)",
    )
    p.add_argument("--offset", type=int, default=0, help="byte offset of the region on the target")
    p.add_argument("--nonce", type=parse_nonce, help="16 hex digits unique to this run (default: random)")
    p.add_argument("--start-seq", type=int, default=0, help="first sequence number")
    p.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: never)")
    p.add_argument("--count", type=int, default=0, help="stop after this many acknowledged blocks (0: never)")
    p.add_argument("--interval", type=float, default=0, help="sleep between writes, seconds")
    p.add_argument("--retry-interval", type=float, default=0.2, help="sleep after a failed write, seconds")
    p.add_argument(
        "--fsync-every",
        type=int,
        default=256,
        help="fsync the log every N lines (1: every ack is on disk before the next write, for a drill that "
        "cuts the client's power)",
    )
    p.add_argument("--pid-file", help="write the PID here once writing starts; removed on clean exit")
    p.add_argument("--no-direct", action="store_true", help="no O_DIRECT (file on tmpfs); never on AoE")
    args = p.parse_args(argv)
    if args.blocks is not None and args.blocks < 0:
        p.error("--blocks must not be negative")
    if args.start_seq < 0:
        p.error("--start-seq must not be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
