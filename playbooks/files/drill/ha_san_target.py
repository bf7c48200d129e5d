"""May a drill's writer or benchmark.yml's fio overwrite this target? (ha_san.aoe)

Standard library only (plus ha_san_block.py beside it); run on the host that would write, before any write.
A target is safe when it does not exist yet (a file the writer will create), or when every sample read
from it is zeros, a drill block (ha_san_block.py's header, at the offset it names) or benchmark.yml's fio
pattern, and neither ``blkid -p`` nor ``wipefs -n`` finds a signature (a file system, a partition table,
RAID, LVM, swap...).  ``--allow-overwrite`` lets signatures and foreign data pass (the user said the data
may go); it never lets pass a disk that is in use (``--exclusive``: an O_EXCL open fails while it is mounted
or held by DRBD, LVM or md) or one named by ``--protect`` (a DRBD resource's backing disk).

Prints one JSON object {target, safe, content, signatures, message} and exits 0 (safe) or 1 (refused); 2 on a
usage error.

Usage: python3 ha_san_target.py TARGET --purpose drill|benchmark [--allow-overwrite] [--exclusive]
       [--protect NAME=PATH ...] [--samples N]
"""

from __future__ import annotations

import argparse
import errno
import json
import mmap
import os
import stat
import subprocess
import sys
from dataclasses import asdict, dataclass, field

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
from ha_san_block import HEADER, has_magic, is_bench_block, read_header, target_size  # noqa: E402

UNIT = 4096
SECTOR = 512
MAX_UNIT = 1 << 20
DEFAULT_SAMPLES = 256
HEAD_BLOCKS = 16  # the first blocks are always read: most formats keep something there
CONTENT_WORDS = {
    "empty": "only zeros",
    "drill": "only drill blocks (and zeros)",
    "benchmark": "only the benchmark's fio pattern (and zeros)",
    "benchmark+drill": "only drill blocks and the benchmark's fio pattern (and zeros)",
}

# Who is checking, in its messages, and how to get past a refusal that may be overridden.
PURPOSES: dict[str, dict[str, str]] = {
    "drill": {
        "who": "The drill's target",
        "harm": "the drill's writer would destroy it",
        "remedy": "point drill_target at a scratch device or file, or set drill_allow_overwrite: true "
        "to let the drill destroy it",
    },
    "benchmark": {
        "who": "The benchmark's target",
        "harm": "fio would destroy it",
        "remedy": "name only scratch targets in benchmark_scratch_resource / benchmark_scratch_disk, or set "
        "benchmark_allow_overwrite: true to let fio destroy it",
    },
}


@dataclass
class Verdict:
    """What was found on the target, and whether it may be written."""

    target: str
    safe: bool
    # absent | empty | drill | benchmark | benchmark+drill | foreign | signature | in-use | protected
    content: str
    signatures: list[str] = field(default_factory=list)
    message: str = ""


# --- signatures -------------------------------------------------------------------------------------
def parse_blkid(rc: int, out: str) -> list[tuple[str, str]]:
    """``blkid -p -o export``: (type, words) for TYPE and PTTYPE (rc 2: nothing found; rc 8: ambivalent)."""
    if rc == 2:
        return []
    if rc == 8:
        return [("ambivalent", "more than one signature (blkid: ambivalent probing result)")]
    found: list[tuple[str, str]] = []
    for line in out.splitlines():
        key, _sep, value = line.partition("=")
        if key == "TYPE" and value:
            found.append((value, value))
        elif key == "PTTYPE" and value:
            found.append((value, f"a {value} partition table"))
    return found


def parse_wipefs(out: str) -> list[tuple[str, str]]:
    """``wipefs --no-act --json``: (type, words) for each signature, with its offset."""
    if not out.strip():
        return []
    sigs = json.loads(out).get("signatures") or []
    return [(str(s.get("type")), f"{s.get('type')} at {s.get('offset')}") for s in sigs]


def signatures(path: str) -> list[str]:
    """Every signature blkid and wipefs find on ``path``; a tool that fails is itself a reason to refuse."""
    found: list[tuple[str, str]] = []
    blkid = subprocess.run(["blkid", "-p", "-o", "export", path], capture_output=True, text=True, check=False)
    if blkid.returncode not in (0, 2, 8):
        why = f"rc {blkid.returncode}: {blkid.stderr.strip()}"
        found.append(("blkid", f"something blkid cannot probe ({why})"))
    else:
        found += parse_blkid(blkid.returncode, blkid.stdout)
    wipefs = subprocess.run(
        ["wipefs", "--no-act", "--json", path], capture_output=True, text=True, check=False
    )
    if wipefs.returncode != 0:
        why = f"rc {wipefs.returncode}: {wipefs.stderr.strip()}"
        found.append(("wipefs", f"something wipefs cannot probe ({why})"))
    else:
        seen = {kind for kind, _words in found}
        found += [(kind, words) for kind, words in parse_wipefs(wipefs.stdout) if kind not in seen]
    return [words for _kind, words in found]


# --- content ----------------------------------------------------------------------------------------
def sample_offsets(size: int, unit: int, samples: int) -> list[int]:
    """Every block of a small target; else the first blocks, the last and ``samples`` spread evenly."""
    blocks = size // unit
    if blocks <= samples + HEAD_BLOCKS:
        return [i * unit for i in range(blocks)]
    picks = set(range(HEAD_BLOCKS)) | {blocks - 1}
    picks |= {(i * (blocks - 1)) // (samples - 1) for i in range(samples)}
    return [i * unit for i in sorted(picks)]


def classify_block(data: bytes, offset: int, unit: int) -> str:
    """zero | drill | benchmark | foreign.

    A drill block torn by a crash keeps its first sector's header; a fio write cut short leaves each 512-byte
    sector either as it was (zeros) or the pattern.
    """
    if not data.strip(b"\0"):
        return "zero"
    if is_bench_block(data):
        return "benchmark"
    if has_magic(data):
        head = read_header(data)
        if head.length == unit and head.offset == offset:
            return "drill"
    sectors = [data[i : i + SECTOR] for i in range(0, len(data), SECTOR)]
    if all(not s.strip(b"\0") or is_bench_block(s) for s in sectors):
        return "benchmark"
    return "foreign"


def open_read(path: str) -> int:
    """O_DIRECT where it works (the device, not a stale cache), buffered where it does not (tmpfs)."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECT | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        return os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))


def read_at(fd: int, view: memoryview, length: int, offset: int, path: str) -> bytes:
    """``length`` bytes at ``offset`` through the aligned buffer; buffered where O_DIRECT refuses (EINVAL)."""
    try:
        n = os.preadv(fd, [view[:length]], offset)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        with open(path, "rb", buffering=0) as fh:
            return os.pread(fh.fileno(), length, offset)
    return bytes(view[:n])


def scan(path: str, samples: int) -> tuple[str, int | None]:
    """(content, first foreign offset): content is empty, drill, benchmark, benchmark+drill or foreign."""
    fd = open_read(path)
    buf = mmap.mmap(-1, MAX_UNIT)
    view = memoryview(buf)
    try:
        size = target_size(fd)
        unit = UNIT
        first = read_at(fd, view, min(UNIT, size), 0, path) if size else b""
        if has_magic(first):
            length = read_header(first).length
            if length % 512 == 0 and HEADER.size < length <= MAX_UNIT:
                unit = length  # the drill's block size, read from its first block
        kinds: set[str] = set()
        for off in sample_offsets(size, unit, samples):
            data = read_at(fd, view, unit, off, path)
            kind = classify_block(data, off, unit)
            if kind == "foreign":
                return "foreign", off
            kinds.add(kind)
    finally:
        view.release()
        buf.close()
        os.close(fd)
    kinds.discard("zero")
    return ("+".join(sorted(kinds)) if kinds else "empty"), None


# --- in use -----------------------------------------------------------------------------------------
def in_use(path: str) -> bool:
    """Does an exclusive open fail (EBUSY: mounted, or claimed by DRBD, LVM, md)? Block devices only."""
    if not stat.S_ISBLK(os.stat(path).st_mode):
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_EXCL | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            return True
        raise
    os.close(fd)
    return False


def same_file(a: str, b: str) -> bool:
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
    if stat.S_ISBLK(sa.st_mode) and stat.S_ISBLK(sb.st_mode):
        return sa.st_rdev == sb.st_rdev
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


# --- the verdict ------------------------------------------------------------------------------------
def check(
    path: str,
    purpose: str,
    allow_overwrite: bool = False,
    exclusive: bool = False,
    protect: dict[str, str] | None = None,
    samples: int = DEFAULT_SAMPLES,
) -> Verdict:
    words = PURPOSES[purpose]
    who = f"{words['who']} {path}"
    for name, disk in (protect or {}).items():
        if same_file(path, disk):
            return Verdict(
                path,
                False,
                "protected",
                message=f"{who} is the backing disk of DRBD resource {name} ({disk}): writing it would "
                "corrupt the replicated device under the SAN, whatever it holds; "
                "name a separate scratch disk.",
            )
    if not os.path.exists(path):
        if os.path.realpath(path).startswith("/dev/"):
            return Verdict(
                path,
                False,
                "absent",
                message=f"{who} does not exist: is the device there (for an AoE export: discovered by the "
                "client, aoe-stat)? Nothing was written.",
            )
        return Verdict(path, True, "absent", message=f"{who} does not exist yet: it will be made.")
    if exclusive and in_use(path):
        return Verdict(
            path,
            False,
            "in-use",
            message=f"{who} is in use (mounted, or held by DRBD, LVM or md): {words['harm']}; "
            "name a disk nothing uses.",
        )
    sigs = signatures(path)
    if sigs:
        if allow_overwrite:
            told = f"{who} holds {', '.join(sigs)}: overwritten as told."
            return Verdict(path, True, "signature", sigs, told)
        return Verdict(
            path,
            False,
            "signature",
            sigs,
            f"{who} holds {', '.join(sigs)} (blkid -p, wipefs -n): {words['harm']}; {words['remedy']}.",
        )
    content, where = scan(path, samples)
    if content == "foreign":
        if allow_overwrite:
            return Verdict(path, True, content, message=f"{who} holds data of its own: overwritten as told.")
        return Verdict(
            path,
            False,
            content,
            message=f"{who} holds data no drill or benchmark wrote (at byte {where}: neither zeros, drill "
            f"blocks nor benchmark.yml's fio pattern): {words['harm']}; {words['remedy']}.",
        )
    return Verdict(path, True, content, message=f"{who} holds {CONTENT_WORDS[content]}: safe to overwrite.")


def parse_protect(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, disk = item.partition("=")
        if not sep or not name or not disk:
            raise argparse.ArgumentTypeError(f"--protect wants NAME=PATH, got {item!r}")
        out[name] = disk
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", help="block device or file the writer or fio would write")
    p.add_argument("--purpose", choices=sorted(PURPOSES), required=True, help="whose messages to print")
    p.add_argument("--allow-overwrite", action="store_true", help="signatures and foreign data may go")
    p.add_argument("--exclusive", action="store_true", help="refuse a block device that is in use")
    p.add_argument("--protect", action="append", default=[], help="NAME=PATH that must never be written")
    p.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, help="blocks read across the target")
    args = p.parse_args(argv)
    if args.samples < 2:
        p.error("--samples must be at least 2")
    try:
        protect = parse_protect(args.protect)
    except argparse.ArgumentTypeError as exc:
        p.error(str(exc))
    verdict = check(args.target, args.purpose, args.allow_overwrite, args.exclusive, protect, args.samples)
    print(json.dumps(asdict(verdict)))
    return 0 if verdict.safe else 1


if __name__ == "__main__":
    sys.exit(main())
