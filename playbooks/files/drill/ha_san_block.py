"""Failover drill block format (ha_san.aoe): the one definition the writer and the verifier share.

Standard library only; shipped beside ha_san_writer.py and ha_san_verify.py (the playbook copies the three
to the client) and imported from that folder.  Layout (format version 1), README.md beside this file:

  magic | format version | flags | block length | nonce (8 bytes) | seq | byte offset | payload | sha256

The payload is derived from (nonce, seq) alone, so the verifier rebuilds every block byte for byte.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
import struct
from typing import NamedTuple

BLKGETSIZE64 = 0x80081272  # _IOR(0x12, 114, size_t) on 64-bit Linux


def target_size(fd: int) -> int:
    """Size in bytes of an open block device or file (lseek SEEK_END, then BLKGETSIZE64)."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0 and stat.S_ISBLK(os.fstat(fd).st_mode):
        buf = bytearray(8)
        fcntl.ioctl(fd, BLKGETSIZE64, buf)
        size = struct.unpack("=Q", bytes(buf))[0]
    return size


MAGIC = b"HASANBLK"
FORMAT_VERSION = 1
# magic, format version, flags, block length, nonce (8 bytes), seq, byte offset on the target
HEADER = struct.Struct(">8sHHI8sQQ")
DIGEST_SIZE = 32  # sha256 over everything before it, stored in the block's last 32 bytes
NONCE_SIZE = 8
MIN_BLOCK_SIZE = 512


class Header(NamedTuple):
    """A block's header fields, as read back."""

    magic: bytes
    version: int
    flags: int
    length: int
    nonce: bytes
    seq: int
    offset: int


def payload(nonce: bytes, seq: int, size: int) -> bytes:
    """Deterministic filler derived from (nonce, seq): the verifier rebuilds it byte for byte."""
    return hashlib.shake_256(b"ha_san.aoe drill\0" + nonce + seq.to_bytes(8, "big")).digest(size)


def build_block(nonce: bytes, seq: int, offset: int, block_size: int) -> bytes:
    """The full content of block ``seq`` written at byte ``offset``: header + payload + sha256."""
    head = HEADER.pack(MAGIC, FORMAT_VERSION, 0, block_size, nonce, seq, offset)
    body = head + payload(nonce, seq, block_size - HEADER.size - DIGEST_SIZE)
    return body + hashlib.sha256(body).digest()


def block_offset(seq: int, base: int, blocks: int, block_size: int) -> int:
    """Where block ``seq`` goes: the region wraps around every ``blocks`` blocks."""
    return base + (seq % blocks) * block_size


def has_magic(data: bytes) -> bool:
    """Does ``data`` start like a drill block (and is it long enough to be one)?"""
    return data[: len(MAGIC)] == MAGIC and len(data) >= HEADER.size + DIGEST_SIZE


def digest_ok(data: bytes) -> bool:
    """Does the block's stored sha256 match every byte before it?"""
    return hashlib.sha256(data[:-DIGEST_SIZE]).digest() == data[-DIGEST_SIZE:]


def read_header(data: bytes) -> Header:
    """The header fields at the start of ``data`` (not checked: see has_magic and digest_ok)."""
    return Header(*HEADER.unpack_from(data))


# What benchmark.yml has fio write (buffer_pattern, scramble_buffers=0): every block fio wrote is this line
# repeated, so the target check knows a benchmark's leftovers from a user's data.
BENCH_PATTERN = b"HASANFIO-bench1\n"


def is_bench_block(data: bytes) -> bool:
    """Is ``data`` (a whole number of patterns long) nothing but benchmark.yml's fio pattern?"""
    n = len(BENCH_PATTERN)
    return len(data) >= n and len(data) % n == 0 and data == BENCH_PATTERN * (len(data) // n)
