"""ha_san_target.py: what the drill's writer and benchmark.yml's fio may overwrite; every refusal's message.

The targets are image files made here: a real ext4 (mkfs.ext4), a DOS partition table laid out by hand (the
MBR's first entry and its 0x55AA), blocks from the drill's own format module, a file full of benchmark.yml's
fio pattern. blkid and wipefs probe files as they probe devices.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

MiB = 1 << 20
HAS_UTIL_LINUX = bool(shutil.which("blkid") and shutil.which("wipefs"))
pytestmark = pytest.mark.skipif(not HAS_UTIL_LINUX, reason="blkid and wipefs (util-linux) are needed")

DRILL_REMEDY = (
    "the drill's writer would destroy it; point drill_target at a scratch device or file, or set "
    "drill_allow_overwrite: true to let the drill destroy it."
)
BENCH_REMEDY = (
    "fio would destroy it; name only scratch targets in benchmark_scratch_resource / benchmark_scratch_disk, "
    "or set benchmark_allow_overwrite: true to let fio destroy it."
)


def zeros(path: Path, size: int = 8 * MiB) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def drill_blocks(block: ModuleType, path: Path, count: int, bs: int = 4096) -> Path:
    """What the writer leaves: ``count`` blocks from offset 0, the rest zeros."""
    zeros(path)
    nonce = bytes.fromhex("0123456789abcdef")
    with open(path, "r+b") as fh:
        for seq in range(count):
            fh.seek(seq * bs)
            fh.write(block.build_block(nonce, seq, seq * bs, bs))
    return path


def dos_table(path: Path) -> Path:
    zeros(path)
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, 8192)
    mbr[510:512] = b"\x55\xaa"
    with open(path, "r+b") as fh:
        fh.write(mbr)
    return path


def test_zeros_drill_blocks_and_the_benchmark_pattern_may_be_overwritten(
    target: ModuleType, block: ModuleType, workdir: Path
) -> None:
    v = target.check(str(zeros(workdir / "z.img")), "drill")
    assert (v.safe, v.content) == (True, "empty")
    assert v.message == f"The drill's target {workdir}/z.img holds only zeros: safe to overwrite."
    v = target.check(str(drill_blocks(block, workdir / "d.img", 3000)), "drill")
    assert (v.safe, v.content) == (True, "drill")
    bench = workdir / "b.img"
    bench.write_bytes(block.BENCH_PATTERN * (8 * MiB // len(block.BENCH_PATTERN)))
    assert target.check(str(bench), "benchmark").content == "benchmark"
    # a drill after a benchmark: the writer's blocks over the fio pattern
    with open(bench, "r+b") as fh:
        fh.write(block.build_block(b"\1" * 8, 0, 0, 4096))
    v = target.check(str(bench), "drill")
    assert (v.safe, v.content) == (True, "benchmark+drill")


def test_a_file_that_does_not_exist_is_made_but_a_missing_device_is_refused(
    target: ModuleType, workdir: Path
) -> None:
    v = target.check(str(workdir / "new.img"), "drill")
    assert (v.safe, v.content) == (True, "absent")
    v = target.check("/dev/etherd/e9.9", "drill")
    assert not v.safe
    assert v.message == (
        "The drill's target /dev/etherd/e9.9 does not exist: is the device there (for an AoE export: "
        "discovered by the client, aoe-stat)? Nothing was written."
    )


def test_a_drill_block_torn_by_a_crash_still_counts_as_the_drills(
    target: ModuleType, block: ModuleType, workdir: Path
) -> None:
    path = drill_blocks(block, workdir / "torn.img", 300)
    with open(path, "r+b") as fh:  # the first sector of a new block over the rest of an old one
        fh.seek(100 * 4096)
        fh.write(block.build_block(b"\2" * 8, 9999, 100 * 4096, 4096)[:512])
    assert target.check(str(path), "drill").safe


def test_a_fio_write_cut_short_leaves_sectors_of_the_pattern_over_zeros(
    target: ModuleType, block: ModuleType, workdir: Path
) -> None:
    path = zeros(workdir / "cut.img")
    with open(path, "r+b") as fh:
        fh.seek(4096 + 1024)
        fh.write(block.BENCH_PATTERN * (1536 // len(block.BENCH_PATTERN)))
    assert target.classify_block(path.read_bytes()[4096:8192], 4096, 4096) == "benchmark"
    assert target.check(str(path), "drill").content == "benchmark"
    half = block.BENCH_PATTERN * 16 + b"x" * 256  # a sector that is neither
    assert target.classify_block(bytes(3584) + half, 0, 4096) == "foreign"


def test_the_drills_block_size_is_read_from_its_first_block(
    target: ModuleType, block: ModuleType, workdir: Path
) -> None:
    v = target.check(str(drill_blocks(block, workdir / "d8k.img", 500, bs=8192)), "drill")
    assert (v.safe, v.content) == (True, "drill")


@pytest.mark.skipif(not shutil.which("mkfs.ext4"), reason="mkfs.ext4 is needed")
def test_a_file_system_is_refused_with_its_message(target: ModuleType, workdir: Path) -> None:
    path = zeros(workdir / "fs.img", 16 * MiB)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(path)], check=True, capture_output=True)
    v = target.check(str(path), "drill")
    assert (v.safe, v.content, v.signatures) == (False, "signature", ["ext4"])
    assert v.message == f"The drill's target {path} holds ext4 (blkid -p, wipefs -n): {DRILL_REMEDY}"
    v = target.check(str(path), "benchmark")
    assert v.message == f"The benchmark's target {path} holds ext4 (blkid -p, wipefs -n): {BENCH_REMEDY}"
    v = target.check(str(path), "drill", allow_overwrite=True)
    assert v.safe and v.message == f"The drill's target {path} holds ext4: overwritten as told."


def test_a_partition_table_is_refused_with_its_message(target: ModuleType, workdir: Path) -> None:
    path = dos_table(workdir / "pt.img")
    v = target.check(str(path), "drill")
    assert (v.safe, v.signatures) == (False, ["a dos partition table"])
    assert v.message == (
        f"The drill's target {path} holds a dos partition table (blkid -p, wipefs -n): {DRILL_REMEDY}"
    )


def test_data_no_drill_wrote_is_refused_with_its_message(
    target: ModuleType, block: ModuleType, workdir: Path
) -> None:
    path = drill_blocks(block, workdir / "mixed.img", 16)
    with open(path, "r+b") as fh:  # a user's data past the drill's first blocks, without any signature
        fh.seek(5 * MiB)
        fh.write(b"a user's database page " * (256 * 1024 // 23))
    v = target.check(str(path), "drill")
    assert (v.safe, v.content) == (False, "foreign")
    first = next(o for o in target.sample_offsets(8 * MiB, 4096, 256) if o >= 5 * MiB)
    assert v.message == (
        f"The drill's target {path} holds data no drill or benchmark wrote (at byte {first}: neither "
        f"zeros, drill blocks nor benchmark.yml's fio pattern): {DRILL_REMEDY}"
    )
    assert target.check(str(path), "drill", allow_overwrite=True).safe


def test_a_protected_disk_is_refused_even_when_overwriting_is_allowed(
    target: ModuleType, workdir: Path
) -> None:
    path = zeros(workdir / "backing.img")
    link = workdir / "same-disk"
    link.symlink_to(path)
    v = target.check(str(link), "benchmark", allow_overwrite=True, protect={"r0": str(path)})
    assert (v.safe, v.content) == (False, "protected")
    assert v.message == (
        f"The benchmark's target {link} is the backing disk of DRBD resource r0 ({path}): writing it would "
        "corrupt the replicated device under the SAN, whatever it holds; name a separate scratch disk."
    )


def test_sample_offsets_cover_the_head_the_tail_and_spread(target: ModuleType) -> None:
    small = target.sample_offsets(64 * 4096, 4096, 256)
    assert small == [i * 4096 for i in range(64)]
    big = target.sample_offsets(1 << 40, 4096, 256)
    blocks = (1 << 40) // 4096
    assert big[:16] == [i * 4096 for i in range(16)] and big[-1] == (blocks - 1) * 4096
    assert 256 <= len(big) <= 256 + 16


def test_parsers_read_blkid_and_wipefs_output(target: ModuleType) -> None:
    assert target.parse_blkid(2, "") == []
    assert target.parse_blkid(0, "DEVNAME=/dev/vdb\nPTTYPE=gpt\n") == [("gpt", "a gpt partition table")]
    assert target.parse_blkid(0, "DEVNAME=/dev/vdb\nUUID=x\nTYPE=drbd\nUSAGE=other\n") == [("drbd", "drbd")]
    assert target.parse_blkid(8, "")[0][0] == "ambivalent"
    wipefs = '{"signatures": [{"device": "/dev/vdb", "offset": "0x438", "type": "ext4", "uuid": "u"}]}'
    assert target.parse_wipefs(wipefs) == [("ext4", "ext4 at 0x438")]
    assert target.parse_wipefs('{\n   "signatures": [\n\n   ]\n}\n') == []


def test_the_command_prints_json_and_exits_one_on_a_refusal(target: ModuleType, workdir: Path) -> None:
    path = dos_table(workdir / "pt.img")
    tool = Path(target.__file__ or "")
    res = subprocess.run(
        ["python3", "-I", str(tool), str(path), "--purpose", "drill"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 1, res.stderr
    out = json.loads(res.stdout)
    assert out["safe"] is False and out["content"] == "signature"
    res = subprocess.run(
        ["python3", "-I", str(tool), str(zeros(workdir / "z.img")), "--purpose", "benchmark"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0 and json.loads(res.stdout)["content"] == "empty"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("losetup"), reason="needs root and loop devices")
def test_a_block_device_in_use_is_refused(target: ModuleType, workdir: Path) -> None:
    path = zeros(workdir / "loop.img")
    res = subprocess.run(["losetup", "-f", "--show", str(path)], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        pytest.skip(f"no loop device here: {res.stderr.strip()}")
    dev = res.stdout.strip()
    try:
        assert target.check(dev, "benchmark", exclusive=True).content == "empty"
        holder = os.open(dev, os.O_RDONLY | os.O_EXCL)  # what DRBD or a mount does to its disk
        try:
            v = target.check(dev, "benchmark", allow_overwrite=True, exclusive=True)
        finally:
            os.close(holder)
        assert (v.safe, v.content) == (False, "in-use")
        assert v.message == (
            f"The benchmark's target {dev} is in use (mounted, or held by DRBD, LVM or md): fio would "
            "destroy it; name a disk nothing uses."
        )
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)
