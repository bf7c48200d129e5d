"""benchmark.yml's fio runs (ha_san.aoe): the job file, fio's JSON read back, and the side-by-side table.

Standard library only. Three subcommands:

  jobfile TARGET ...   print the job file: four stonewalled jobs, libaio, direct=1, time based:
                       lat4k (4 KiB random writes, iodepth 1: clat p50/p99), iops4k (4 KiB random writes,
                       iodepth 32), seqwrite and seqread (1 MiB, --seq-iodepth). Every block fio writes is
                       ha_san_block.BENCH_PATTERN repeated (scramble_buffers=0), which the drill's and the
                       benchmark's target check (ha_san_target.py) know as a benchmark's leftovers.
  run TARGET --out F   write the job file beside F and run fio on the host (the region: --size-mib, at most
                       the target's size), fio's JSON into F
  report --plan JSON --dir D [--out R]   (or --result KIND=HOST:FILE ...)
                       on the controller: each target's fio JSON (D/KIND.json for each {kind, host} of the
                       plan) read back, the table (and the ratios AoE/DRBD, DRBD/raw) printed, the same as
                       JSON in R

Kinds: raw (a scratch disk on the Primary), drbd (the DRBD device on the Primary), aoe (the export on a
client).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import stat
import struct
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
for _folder in (_HERE, os.path.join(os.path.dirname(_HERE), "drill")):  # on a host: one folder; here: two
    if os.path.isdir(_folder) and _folder not in sys.path:
        sys.path.insert(0, _folder)
from ha_san_block import BENCH_PATTERN  # noqa: E402

KINDS = ("raw", "drbd", "aoe")
JOBS = ("lat4k", "iops4k", "seqwrite", "seqread")
BLKGETSIZE64 = 0x80081272  # _IOR(0x12, 114, size_t) on 64-bit Linux
MiB = 1 << 20


class FioError(ValueError):
    """fio's output is not what this module reads; the message carries what was found."""


# --- the job file -----------------------------------------------------------------------------------
def jobfile(target: str, runtime_s: int, size_bytes: int, seq_iodepth: int) -> str:
    """The job file for one target: four jobs one after the other (stonewall), each ``runtime_s`` long."""
    lines = [
        "[global]",
        f"filename={target}",
        "ioengine=libaio",
        "direct=1",
        "time_based=1",
        f"runtime={runtime_s}",
        f"size={size_bytes}",
        "randrepeat=0",
        "norandommap=1",
        "scramble_buffers=0",
        f"buffer_pattern=0x{BENCH_PATTERN.hex()}",
        "percentile_list=50:99",
        "",
    ]
    jobs = {
        "lat4k": ("randwrite", "4k", 1),
        "iops4k": ("randwrite", "4k", 32),
        "seqwrite": ("write", "1m", seq_iodepth),
        "seqread": ("read", "1m", seq_iodepth),
    }
    for name in JOBS:
        rw, bs, depth = jobs[name]
        lines += [f"[{name}]", "stonewall", f"rw={rw}", f"bs={bs}", f"iodepth={depth}", ""]
    return "\n".join(lines)


def target_size(path: str) -> int:
    """Bytes on a block device (BLKGETSIZE64) or in a file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size == 0 and stat.S_ISBLK(os.fstat(fd).st_mode):
            buf = bytearray(8)
            fcntl.ioctl(fd, BLKGETSIZE64, buf)
            size = struct.unpack("=Q", bytes(buf))[0]
    finally:
        os.close(fd)
    return size


def region(size_mib: int, target_bytes: int) -> int:
    """The bytes fio may touch: the asked size, at most the target's, in whole MiB (1 MiB blocks fit)."""
    want = min(size_mib * MiB, target_bytes)
    return want - want % MiB


# --- fio's JSON -------------------------------------------------------------------------------------
@dataclass
class Figures:
    """One target's figures (None where the job is missing)."""

    lat_p50_us: float | None
    lat_p99_us: float | None
    iops_4k: float | None
    seq_write_mbs: float | None
    seq_read_mbs: float | None


def load_fio_json(text: str) -> dict[str, Any]:
    """fio's JSON; fio may print notes before it ("note: ..."), which are skipped."""
    start = text.find("{")
    if start < 0:
        raise FioError(f"no JSON in fio's output: {text[:200]!r}")
    try:
        data = json.loads(text[start:])
    except json.JSONDecodeError as exc:
        raise FioError(f"fio's JSON does not parse ({exc}): {text[start : start + 200]!r}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        raise FioError(f"fio's JSON has no jobs list: {text[start : start + 200]!r}")
    return data


def percentile_us(clat: dict[str, Any], pct: float) -> float | None:
    """A clat percentile in microseconds; fio keys them "50.000000" and counts nanoseconds."""
    for key, value in (clat.get("percentile") or {}).items():
        if abs(float(key) - pct) < 1e-6:
            return round(float(value) / 1000.0, 1)
    return None


def figures(data: dict[str, Any]) -> Figures:
    """The five figures from one fio run of jobfile()'s four jobs."""
    jobs = {j.get("jobname"): j for j in data["jobs"]}
    failed = {name: j["error"] for name, j in jobs.items() if j.get("error")}
    if failed:
        raise FioError(f"fio jobs failed (errno): {failed}")

    def side(name: str, rw: str) -> dict[str, Any] | None:
        job = jobs.get(name)
        return job.get(rw) if job else None

    lat = side("lat4k", "write")
    iops = side("iops4k", "write")
    sw = side("seqwrite", "write")
    sr = side("seqread", "read")
    return Figures(
        lat_p50_us=percentile_us(lat["clat_ns"], 50.0) if lat else None,
        lat_p99_us=percentile_us(lat["clat_ns"], 99.0) if lat else None,
        iops_4k=round(float(iops["iops"]), 1) if iops else None,
        seq_write_mbs=round(sw["bw_bytes"] / 1e6, 1) if sw else None,
        seq_read_mbs=round(sr["bw_bytes"] / 1e6, 1) if sr else None,
    )


# --- the table --------------------------------------------------------------------------------------
ROWS = (
    ("lat_p50_us", "4 KiB write latency p50, iodepth 1 (us)"),
    ("lat_p99_us", "4 KiB write latency p99, iodepth 1 (us)"),
    ("iops_4k", "4 KiB random write IOPS, iodepth 32"),
    ("seq_write_mbs", "1 MiB sequential write (MB/s)"),
    ("seq_read_mbs", "1 MiB sequential read (MB/s)"),
)
RATIOS = (("aoe", "drbd"), ("drbd", "raw"))


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def ratios(results: dict[str, Figures]) -> dict[str, dict[str, float | None]]:
    """{"aoe/drbd": {figure: ratio}, "drbd/raw": ...} for the pairs both measured."""
    out: dict[str, dict[str, float | None]] = {}
    for top, bottom in RATIOS:
        if top in results and bottom in results:
            a, b = asdict(results[top]), asdict(results[bottom])
            out[f"{top}/{bottom}"] = {key: ratio(a[key], b[key]) for key, _label in ROWS}
    return out


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"


def table(results: dict[str, Figures], where: dict[str, str]) -> str:
    """Markdown: one row per figure, a column per target measured, then the ratios."""
    kinds = [k for k in KINDS if k in results]
    rat = ratios(results)
    head = ["figure"] + [f"{k} ({where.get(k, '?')})" for k in kinds] + list(rat)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label in ROWS:
        cells = [label] + [fmt(asdict(results[k])[key]) for k in kinds] + [fmt(rat[r][key]) for r in rat]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def parse_result(item: str) -> tuple[str, str, str]:
    """KIND=HOST:FILE"""
    kind, sep, rest = item.partition("=")
    host, sep2, path = rest.partition(":")
    if not (sep and sep2 and kind in KINDS and host and path):
        raise argparse.ArgumentTypeError(f"--result wants KIND=HOST:FILE with KIND in {KINDS}, got {item!r}")
    return kind, host, path


# --- commands ---------------------------------------------------------------------------------------
def cmd_jobfile(args: argparse.Namespace) -> int:
    print(jobfile(args.target, args.runtime, args.size_mib * MiB, args.seq_iodepth), end="")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    size = region(args.size_mib, target_size(args.target))
    if size < MiB:
        print(f"ha_san_fio: {args.target} is smaller than 1 MiB", file=sys.stderr)
        return 2
    job = args.out + ".fio"
    with open(job, "w", encoding="utf-8") as fh:
        fh.write(jobfile(args.target, args.runtime, size, args.seq_iodepth))
    argv = [args.fio, "--output-format=json", f"--output={args.out}", job]
    res = subprocess.run(argv, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        print(f"ha_san_fio: {' '.join(argv)}: rc {res.returncode}: {res.stderr.strip()}", file=sys.stderr)
        return 1
    with open(args.out, encoding="utf-8") as fh:
        print(json.dumps(asdict(figures(load_fio_json(fh.read())))))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    results: dict[str, Figures] = {}
    where: dict[str, str] = {}
    raw: dict[str, Any] = {}
    items = list(args.result or [])
    for entry in args.plan or []:
        items.append((entry["kind"], entry["host"], os.path.join(args.dir or ".", f"{entry['kind']}.json")))
    if not items:
        print("ha_san_fio: report: no result (--plan with --dir, or --result)", file=sys.stderr)
        return 2
    for kind, host, path in items:
        with open(path, encoding="utf-8") as fh:
            data = load_fio_json(fh.read())
        results[kind] = figures(data)
        where[kind] = host
        raw[kind] = {
            "host": host,
            "target": (data.get("global options") or {}).get("filename"),
            "fio_version": data.get("fio version"),
            **asdict(results[kind]),
        }
    text = table(results, where)
    print(text, end="")
    for kind in KINDS:
        if kind not in results:
            print(f"{kind}: not measured ({args.skipped.get(kind, 'no scratch target')})")
    if args.out:
        report = {
            "run": args.run,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "settings": args.settings,
            "results": raw,
            "ratios": ratios(results),
            "skipped": {k: args.skipped.get(k, "no scratch target") for k in KINDS if k not in results},
            "table": text,
        }
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=2)
            fh.write("\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, func in (("jobfile", cmd_jobfile), ("run", cmd_run)):
        s = sub.add_parser(name)
        s.add_argument("target", help="block device (or file) fio writes: only a checked scratch target")
        s.add_argument("--runtime", type=int, default=10, help="seconds per job (four jobs)")
        s.add_argument("--size-mib", type=int, default=1024, help="the region fio touches, MiB")
        s.add_argument("--seq-iodepth", type=int, default=4, help="iodepth of the 1 MiB jobs")
        s.set_defaults(func=func)
        if name == "run":
            s.add_argument("--out", required=True, help="fio's JSON; the job file goes beside it (.fio)")
            s.add_argument("--fio", default="fio", help="the fio program")
    r = sub.add_parser("report")
    r.add_argument("--result", type=parse_result, action="append", help="KIND=HOST:FILE")
    r.add_argument(
        "--plan", type=json.loads, help='JSON [{"kind": KIND, "host": HOST, ...}]: D/KIND.json each'
    )
    r.add_argument("--dir", help="where the plan's fio JSON files are")
    r.add_argument("--skipped", type=json.loads, default={}, help='JSON {KIND: "why it was not measured"}')
    r.add_argument(
        "--settings", type=json.loads, default={}, help="JSON of the run's settings, for the report"
    )
    r.add_argument("--run", default="", help="the run's name")
    r.add_argument("--out", help="the report JSON")
    r.set_defaults(func=cmd_report)
    args = p.parse_args(argv)
    try:
        return int(args.func(args))
    except FioError as exc:
        print(f"ha_san_fio: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
