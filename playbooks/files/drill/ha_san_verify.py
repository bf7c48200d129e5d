"""Failover drill verifier (ha_san.aoe): read back every acknowledged block and say what was lost.

Runs on the AoE client with nothing but python3, after the writer (ha_san_writer.py) has stopped.  Reads
the writer's ack log, and for every offset the LATEST acknowledged seq there (the region wraps, so older
seqs at an offset were overwritten by the writer itself).  Reads the target with O_DIRECT (the client's
page cache must not answer for the server) and classifies each block:

  ok          the acknowledged block, byte for byte (magic, nonce, seq, offset, payload, sha256)
  superseded  a later block of this run at the same offset (a write in flight when the writer stopped)
  stale       an OLDER seq of this run: the acknowledged write was lost (e.g. the old data came back)
  foreign     a valid block of ANOTHER run (other nonce): lost, even if its seq matches
  misplaced   a valid block of this run that belongs at another offset
  future      a valid block of this run with a seq the writer never attempted
  corrupt     magic present but checksum/header/payload wrong
  garbage     neither zeros nor a drill block
  zero        all zeros
  read_error  the read failed or came back short

Prints a JSON report (also to --out).  Exit 0: nothing lost; 1: lost > 0; 2: usage or unreadable log;
3: the log holds no acknowledged block.  Usage: python3 ha_san_verify.py TARGET --log ACK.log [--out F]
"""

from __future__ import annotations

import argparse
import itertools
import json
import mmap
import os
import sys
from dataclasses import dataclass, field
from typing import Any

# The block format is ha_san_block.py's, shipped beside this file. `python3 -I` (isolated) leaves this
# file's folder off sys.path, hence the insert.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import ha_san_block  # noqa: E402
from ha_san_block import (  # noqa: E402
    FORMAT_VERSION,
    build_block,
    digest_ok,
    has_magic,
    read_header,
)

# Not used here, but part of the format the tests check the writer and the verifier share.
DIGEST_SIZE, HEADER, MAGIC = ha_san_block.DIGEST_SIZE, ha_san_block.HEADER, ha_san_block.MAGIC

OK_KINDS = ("ok", "superseded")
LOST_KINDS = ("stale", "foreign", "misplaced", "future", "corrupt", "garbage", "zero", "read_error")
EXIT_LOST, EXIT_USAGE, EXIT_NOTHING = 1, 2, 3
OPEN_STALL_MIN_S = 1.0  # a shorter tail after the last ack is just the stop itself


# --- ack log ----------------------------------------------------------------------------------------
@dataclass
class Ack:
    seq: int
    offset: int
    mono: float
    wall: float
    lat_ms: float


@dataclass
class WriterLog:
    """The last writer run in an ack log (a log appended to twice holds two runs)."""

    header: dict[str, Any] = field(default_factory=dict)
    acks: list[Ack] = field(default_factory=list)
    errors: list[Ack] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    runs: int = 0
    bad_lines: int = 0


def read_log(path: str) -> WriterLog:
    log = WriterLog()
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            kind, _sep, rest = line.rstrip("\n").partition(" ")
            try:
                if kind == "H":
                    log = WriterLog(header=json.loads(rest), runs=log.runs + 1, bad_lines=log.bad_lines)
                elif kind in ("A", "E"):
                    f = rest.split(" ", 5)
                    rec = Ack(int(f[0]), int(f[1]), float(f[2]), float(f[3]), float(f[4]))
                    (log.acks if kind == "A" else log.errors).append(rec)
                elif kind == "S":
                    log.summary = json.loads(rest)
                elif line.strip():
                    log.bad_lines += 1
            except (ValueError, IndexError):
                log.bad_lines += 1  # e.g. the last line of a log whose writer was killed mid-line
    return log


def stall(acks: list[Ack], ended_mono: float | None = None) -> dict[str, Any]:
    """Longest gap between consecutive acknowledged writes (monotonic clock), and where it began.

    ``tail_s`` is the time from the last ack to the writer's stop.  If the writer was stopped while still
    stalled (tail at least OPEN_STALL_MIN_S and longer than every gap), the tail counts as the stall and
    ``stall_open`` is true: the service was not back when the writer stopped.
    """
    out: dict[str, Any] = {
        "stall_s": 0.0,
        "stall_start_wall": None,
        "stall_end_wall": None,
        "stall_start_seq": None,
        "stall_open": False,
        "tail_s": None,
    }
    for prev, cur in itertools.pairwise(acks):
        gap = cur.mono - prev.mono
        if gap > out["stall_s"]:
            out.update(
                stall_s=gap, stall_start_wall=prev.wall, stall_end_wall=cur.wall, stall_start_seq=prev.seq
            )
    if acks and ended_mono is not None:
        last = acks[-1]
        tail = max(0.0, ended_mono - last.mono)
        out["tail_s"] = round(tail, 6)
        if tail >= OPEN_STALL_MIN_S and tail > out["stall_s"]:
            out.update(stall_s=tail, stall_start_wall=last.wall, stall_end_wall=last.wall + tail)
            out.update(stall_start_seq=last.seq, stall_open=True)
    out["stall_s"] = round(out["stall_s"], 6)
    return out


# --- classification ---------------------------------------------------------------------------------
def classify(
    data: bytes, nonce: bytes, seq: int, offset: int, max_attempted: int
) -> tuple[str, int | None, str]:
    """What is at ``offset`` where acknowledged block ``seq`` of run ``nonce`` should be.

    Returns (kind, seq found or None, nonce found as hex or "").
    """
    bs = len(data)
    if not data.strip(b"\0"):
        return "zero", None, ""
    if not has_magic(data):
        return "garbage", None, ""
    if not digest_ok(data):
        return "corrupt", None, ""
    head = read_header(data)
    f_nonce, f_seq, f_offset = head.nonce, head.seq, head.offset
    if head.version != FORMAT_VERSION or head.length != bs:
        return "corrupt", f_seq, f_nonce.hex()
    if f_nonce != nonce:
        return "foreign", f_seq, f_nonce.hex()
    if f_offset != offset:
        return "misplaced", f_seq, f_nonce.hex()
    if f_seq == seq:
        ok = data == build_block(nonce, seq, offset, bs)
        return ("ok" if ok else "corrupt"), f_seq, f_nonce.hex()
    if f_seq < seq:
        return "stale", f_seq, f_nonce.hex()
    return ("superseded" if f_seq <= max_attempted else "future"), f_seq, f_nonce.hex()


def contiguous_runs(offsets: list[int], bs: int, max_blocks: int) -> list[tuple[int, int]]:
    """Sorted offsets -> [(start offset, number of blocks)], each run at most ``max_blocks`` long."""
    runs: list[tuple[int, int]] = []
    for off in sorted(offsets):
        if runs and runs[-1][0] + runs[-1][1] * bs == off and runs[-1][1] < max_blocks:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((off, 1))
    return runs


def read_blocks(fd: int, offsets: list[int], bs: int, chunk_blocks: int) -> dict[int, bytes | None]:
    """Read every offset (O_DIRECT-safe: page-aligned mmap buffer); None where the read failed."""
    got: dict[int, bytes | None] = {}
    buf = mmap.mmap(-1, bs * chunk_blocks)
    view = memoryview(buf)
    try:
        for start, count in contiguous_runs(offsets, bs, chunk_blocks):
            try:
                n = os.preadv(fd, [view[: count * bs]], start)
            except OSError:
                n = -1
            if n == count * bs:
                for i in range(count):
                    got[start + i * bs] = bytes(view[i * bs : (i + 1) * bs])
                continue
            for i in range(count):  # a failed or short chunk: block by block, to pin down which
                off = start + i * bs
                try:
                    one = os.preadv(fd, [view[:bs]], off)
                except OSError:
                    one = -1
                got[off] = bytes(view[:bs]) if one == bs else None
    finally:
        view.release()
        buf.close()
    return got


def verify(
    target: str, log: WriterLog, *, direct: bool = True, nonce_hex: str | None = None, max_list: int = 100
) -> dict[str, Any]:
    hdr = log.header
    bs = int(hdr["block_size"])
    nonce = bytes.fromhex(nonce_hex or hdr["nonce"])
    latest: dict[int, Ack] = {}
    for a in log.acks:
        if a.offset not in latest or a.seq > latest[a.offset].seq:
            latest[a.offset] = a
    seqs = [a.seq for a in log.acks] + [e.seq for e in log.errors]
    max_attempted = max(seqs) + 1 if seqs else -1  # a write in flight at the stop may have landed

    fd = os.open(target, os.O_RDONLY | (os.O_DIRECT if direct else 0))
    try:
        data = read_blocks(fd, list(latest), bs, chunk_blocks=max(1, (1 << 20) // bs))
    finally:
        os.close(fd)

    kinds = dict.fromkeys(OK_KINDS + LOST_KINDS, 0)
    lost_blocks: list[dict[str, Any]] = []
    for off in sorted(latest, key=lambda o: latest[o].seq):
        ack = latest[off]
        raw = data.get(off)
        if raw is None:
            kind, f_seq, f_nonce = "read_error", None, ""
        else:
            kind, f_seq, f_nonce = classify(raw, nonce, ack.seq, off, max_attempted)
        kinds[kind] += 1
        if kind in LOST_KINDS and len(lost_blocks) < max_list:
            lost_blocks.append(
                {"seq": ack.seq, "offset": off, "kind": kind, "found_seq": f_seq, "found_nonce": f_nonce}
            )
    lost = sum(kinds[k] for k in LOST_KINDS)
    acks = log.acks
    seq_gaps = sum(1 for p, c in itertools.pairwise(acks) if c.seq != p.seq + 1)
    ended = log.summary.get("ended_mono") if log.summary else None
    result: dict[str, Any] = {
        "target": target,
        "nonce": nonce.hex(),
        "block_size": bs,
        "direct": direct,
        "acked": len(acks),
        "checked": len(latest),
        "wrapped": len(latest) < len(acks),  # older acks at an offset were overwritten by the writer itself
        "verified": kinds["ok"] + kinds["superseded"],
        "superseded": kinds["superseded"],
        "lost": lost,
        "lost_blocks": lost_blocks,
        "lost_truncated": lost > len(lost_blocks),
        "kinds": kinds,
        "errors": len(log.errors),
        "first_error_wall": log.errors[0].wall if log.errors else None,
        "last_error_wall": log.errors[-1].wall if log.errors else None,
        "first_ack_wall": acks[0].wall if acks else None,
        "last_ack_wall": acks[-1].wall if acks else None,
        "first_seq": acks[0].seq if acks else None,
        "last_seq": acks[-1].seq if acks else None,
        "max_latency_ms": max((a.lat_ms for a in acks), default=0.0),
        "seq_gaps": seq_gaps,
        "log_complete": log.summary is not None,
        "writer_summary": log.summary,
        "runs_in_log": log.runs,
        "bad_log_lines": log.bad_lines,
    }
    result.update(stall(acks, ended))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", help="the device or file the writer wrote to")
    p.add_argument("--log", required=True, help="the writer's ack log")
    p.add_argument("--out", help="also write the JSON report here")
    p.add_argument("--nonce", help="expect this nonce instead of the one in the log header")
    p.add_argument("--max-list", type=int, default=100, help="list at most this many lost blocks")
    p.add_argument("--no-direct", action="store_true", help="no O_DIRECT (file on tmpfs); never on AoE")
    args = p.parse_args(argv)
    try:
        log = read_log(args.log)
    except OSError as exc:
        print(f"ha_san_verify: cannot read {args.log}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not log.header:
        print(f"ha_san_verify: {args.log} has no writer header (H line)", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = verify(
            args.target, log, direct=not args.no_direct, nonce_hex=args.nonce, max_list=args.max_list
        )
    except (OSError, ValueError) as exc:
        print(f"ha_san_verify: {exc}", file=sys.stderr)
        return EXIT_USAGE
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    if result["lost"]:
        return EXIT_LOST
    return EXIT_NOTHING if not result["acked"] else 0


if __name__ == "__main__":
    sys.exit(main())
