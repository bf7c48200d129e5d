"""Failover drill report (ha_san.aoe): one JSON + one PNG per drill, and a Markdown summary over drills.

Runs on the controller with nothing but python3 (no numpy / matplotlib: the PNG is drawn here).

  report   merge the verifier's JSON, the writer's ack log, the servers' timeline events and the drill's
           facts (fault, fault time, fencing, split brain, double export) into a report JSON with exactly
           the keys fault, stall_s, acked, lost, split_brain, double_export, fenced, timeline; and plot
           write latency over time (x: seconds since the fault) with the fault and the events marked.
  summary  read several report JSONs and print a Markdown table per fault: runs, stall p50 / max,
           acked, lost, unresolved split brains, double exports; under a fault whose survivors took the
           group over in different ways, one row per way (see takeover_path).

Times are wall-clock seconds (Unix epoch).  Events from a node whose clock is off by D seconds
(node clock minus the controller's) are corrected with ``--clock-offset NODE=D``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

REPORT_KEYS = ("fault", "stall_s", "acked", "lost", "split_brain", "double_export", "fenced", "timeline")
# The drill's one table of faults (faults.json, beside this file).
FAULT_TABLE: dict[str, dict[str, Any]] = {
    k: v
    for k, v in json.loads((Path(__file__).with_name("faults.json")).read_text(encoding="utf-8")).items()
    if not k.startswith("_")
}
FAULTS = tuple(FAULT_TABLE)

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
GRID: RGB = (225, 225, 225)
BLUE: RGB = (31, 119, 180)
RED: RGB = (214, 39, 40)
ORANGE: RGB = (230, 120, 0)
STALL: RGB = (255, 226, 226)

# 5x7 bitmap font: 7 rows per glyph, bit 4 = leftmost column.  Lower case is drawn as upper case.
FONT: dict[str, tuple[int, ...]] = {
    "0": (0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E),
    "1": (0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E),
    "2": (0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F),
    "3": (0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E),
    "4": (0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02),
    "5": (0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E),
    "6": (0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E),
    "7": (0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08),
    "8": (0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E),
    "9": (0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C),
    "A": (0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11),
    "B": (0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E),
    "C": (0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E),
    "D": (0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C),
    "E": (0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F),
    "F": (0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10),
    "G": (0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F),
    "H": (0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11),
    "I": (0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E),
    "J": (0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C),
    "K": (0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11),
    "L": (0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F),
    "M": (0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11),
    "N": (0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11),
    "O": (0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E),
    "P": (0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10),
    "Q": (0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D),
    "R": (0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11),
    "S": (0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E),
    "T": (0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04),
    "U": (0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E),
    "V": (0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04),
    "W": (0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A),
    "X": (0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11),
    "Y": (0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04),
    "Z": (0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F),
    " ": (0, 0, 0, 0, 0, 0, 0),
    ".": (0, 0, 0, 0, 0, 0x0C, 0x0C),
    ",": (0, 0, 0, 0, 0x0C, 0x04, 0x08),
    ":": (0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0),
    ";": (0, 0x0C, 0x0C, 0, 0x0C, 0x04, 0x08),
    "-": (0, 0, 0, 0x1F, 0, 0, 0),
    "+": (0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0),
    "_": (0, 0, 0, 0, 0, 0, 0x1F),
    "/": (0, 0x01, 0x02, 0x04, 0x08, 0x10, 0),
    "(": (0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02),
    ")": (0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08),
    "[": (0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E),
    "]": (0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E),
    "=": (0, 0, 0x1F, 0, 0x1F, 0, 0),
    "<": (0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02),
    ">": (0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08),
    "%": (0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03),
    "#": (0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A),
    "!": (0x04, 0x04, 0x04, 0x04, 0x04, 0, 0x04),
    "?": (0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04),
    "*": (0, 0x04, 0x15, 0x0E, 0x15, 0x04, 0),
    "'": (0x0C, 0x04, 0x08, 0, 0, 0, 0),
    '"': (0x0A, 0x0A, 0, 0, 0, 0, 0),
    "@": (0x0E, 0x11, 0x01, 0x0D, 0x15, 0x15, 0x0E),
}
GLYPH_W, GLYPH_H = 5, 7
MAX_PLOT_EVENTS = 40


# --- raster + PNG -----------------------------------------------------------------------------------
class Canvas:
    """An RGB raster with just what a latency plot needs."""

    def __init__(self, width: int, height: int, bg: RGB = WHITE) -> None:
        self.width, self.height = width, height
        self.pix = bytearray(bytes(bg) * (width * height))

    def set(self, x: int, y: int, color: RGB) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.pix[i : i + 3] = bytes(color)

    def get(self, x: int, y: int) -> RGB:
        i = (y * self.width + x) * 3
        return self.pix[i], self.pix[i + 1], self.pix[i + 2]

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: RGB) -> None:
        """Filled rectangle, corners inclusive."""
        x0, x1 = sorted((max(0, x0), min(self.width - 1, x1)))
        for y in range(max(0, min(y0, y1)), min(self.height - 1, max(y0, y1)) + 1):
            i = (y * self.width + x0) * 3
            self.pix[i : i + (x1 - x0 + 1) * 3] = bytes(color) * (x1 - x0 + 1)

    def line(self, x0: int, y0: int, x1: int, y1: int, color: RGB, dash: int = 0) -> None:
        """Bresenham; with ``dash`` > 0, ``dash`` pixels on, ``dash`` off."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err, n = dx + dy, 0
        while True:
            if not dash or (n // dash) % 2 == 0:
                self.set(x0, y0, color)
            if x0 == x1 and y0 == y1:
                return
            n += 1
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x: int, y: int, s: str, color: RGB = BLACK, scale: int = 1) -> int:
        """Draw ``s`` with its top-left corner at (x, y); returns the x after the last glyph."""
        for ch in s:
            rows = FONT.get(ch.upper(), FONT["?"])
            for r, bits in enumerate(rows):
                for c in range(GLYPH_W):
                    if bits & (0x10 >> c):
                        self.rect(
                            x + c * scale,
                            y + r * scale,
                            x + c * scale + scale - 1,
                            y + r * scale + scale - 1,
                            color,
                        )
            x += (GLYPH_W + 1) * scale
        return x

    def png(self) -> bytes:
        return png_bytes(self.width, self.height, bytes(self.pix))


def text_width(s: str, scale: int = 1) -> int:
    return len(s) * (GLYPH_W + 1) * scale


def png_bytes(width: int, height: int, rgb: bytes) -> bytes:
    """8-bit RGB, no interlace, filter 0 on every row."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    stride = width * 3
    raw = b"".join(b"\0" + rgb[y * stride : (y + 1) * stride] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """Round tick values (1, 2, 5 x 10^k steps) covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, i = [], 0
    while first + i * step <= hi + step * 1e-9:
        ticks.append(round(first + i * step, 10))
        i += 1
    return ticks


def fmt_num(v: float) -> str:
    if v == int(v) and abs(v) < 1e9:
        return str(int(v))
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.1f}"


# --- inputs -----------------------------------------------------------------------------------------
def read_ack_log(path: str) -> tuple[list[tuple[float, float]], list[float]]:
    """(wall time, latency ms) of every ack, and the wall times of write errors, of the log's last run."""
    acks: list[tuple[float, float]] = []
    errors: list[float] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            kind, _sep, rest = line.partition(" ")
            f = rest.split(" ", 5)
            if kind == "H":
                acks, errors = [], []
            elif kind in ("A", "E") and len(f) >= 5:
                try:
                    wall, lat = float(f[3]), float(f[4])
                except ValueError:
                    continue
                if kind == "A":
                    acks.append((wall, lat))
                else:
                    errors.append(wall)
    return acks, errors


def norm_split_brain(value: Any) -> dict[str, Any]:
    """bool or {detected, resolved, how} -> {detected: bool, resolved: bool|None, how: str|None}."""
    if isinstance(value, dict):
        detected = bool(value.get("detected", True))
        resolved = value.get("resolved")
        return {
            "detected": detected,
            "resolved": (bool(resolved) if resolved is not None else None) if detected else None,
            "how": value.get("how") if detected else None,
        }
    return {"detected": bool(value), "resolved": None, "how": None}


def norm_fenced(value: Any) -> list[dict[str, Any]]:
    """None | {node, t} | [{node, t, ...}] -> list of {node, t, ...} sorted by time."""
    if not value:
        return []
    items = value if isinstance(value, list) else [value]
    out = [dict(v) if isinstance(v, dict) else {"node": str(v), "t": None} for v in items]
    return sorted(out, key=lambda v: (v.get("t") is None, v.get("t") or 0))


def parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "y", "on"):
        return True
    if text.lower() in ("0", "false", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")


# --- report -----------------------------------------------------------------------------------------
def build_report(
    verify: dict[str, Any],
    events: list[dict[str, Any]],
    *,
    fault: str,
    fault_time: float | None,
    fenced: Any = None,
    split_brain: Any = False,
    double_export: bool = False,
    clock_offsets: dict[str, float] | None = None,
    client_node: str = "client",
) -> dict[str, Any]:
    """The per-drill report: exactly REPORT_KEYS.  Timeline times are on the controller's clock."""
    offsets = clock_offsets or {}
    cl = offsets.get(client_node, 0.0)
    origin = fault_time if fault_time is not None else (verify.get("first_ack_wall") or 0.0) - cl
    timeline: list[dict[str, Any]] = []

    def add(t: float | None, node: str, event: str) -> None:
        if t is not None:
            timeline.append({"t": round(t, 3), "t_rel": round(t - origin, 3), "node": node, "event": event})

    for ev in events:
        add(
            float(ev["t"]) - offsets.get(str(ev.get("node", "")), 0.0),
            str(ev.get("node", "")),
            str(ev["event"]),
        )
    if fault_time is not None:
        add(fault_time, "drill", f"fault {fault}")
    if verify.get("stall_start_wall") is not None and verify.get("stall_s", 0) > 0:
        add(
            verify["stall_start_wall"] - cl,
            client_node,
            f"last ack before the longest stall (seq {verify['stall_start_seq']})",
        )
        if not verify.get("stall_open"):
            add(verify["stall_end_wall"] - cl, client_node, f"writes resume after {verify['stall_s']:.2f} s")
    if verify.get("first_error_wall") is not None:
        add(
            verify["first_error_wall"] - cl,
            client_node,
            f"first write error ({verify.get('errors', 0)} in all)",
        )
    timeline.sort(key=lambda e: e["t"])
    fenced_list = norm_fenced(fenced)
    for f in fenced_list:
        if f.get("t") is not None:
            f["t_rel"] = round(float(f["t"]) - origin, 3)
    return {
        "fault": fault,
        "stall_s": round(float(verify.get("stall_s", 0.0)), 3),
        "acked": int(verify.get("acked", 0)),
        "lost": int(verify.get("lost", 0)),
        "split_brain": norm_split_brain(split_brain),
        "double_export": bool(double_export),
        "fenced": fenced_list,
        "timeline": timeline,
    }


def plot(
    report: dict[str, Any],
    acks: list[tuple[float, float]],
    errors: list[float],
    origin: float,
    *,
    log_y: bool = False,
    width: int = 1000,
    stall: tuple[float, float] | None = None,
) -> Canvas:
    """Write latency (ms) over seconds since ``origin``; fault and timeline events as vertical lines.

    ``acks`` / ``errors`` are already on the controller's clock; ``stall`` = (start, end) to shade.
    """
    left, right, top, plot_h = 78, 24, 58, 360
    pw = width - left - right
    bottom = top + plot_h
    xs = [t - origin for t, _lat in acks]
    ys = [lat for _t, lat in acks]
    x_lo, x_hi = min([0.0, *xs]), max([0.0, *xs])
    if x_hi - x_lo < 1e-3:
        x_lo, x_hi = x_lo - 1.0, x_hi + 1.0
    x_lo, x_hi = x_lo - 0.02 * (x_hi - x_lo), x_hi + 0.02 * (x_hi - x_lo)
    # events inside the plotted time range are drawn and listed; the report JSON has them all
    others = [e for e in report["timeline"] if e["node"] != "drill"]
    events = [e for e in others if x_lo <= e["t_rel"] <= x_hi][:MAX_PLOT_EVENTS]
    hidden = len(others) - len(events)
    legend_top = bottom + 46
    height = legend_top + 12 * (len(events) + 2 + bool(hidden)) + 8
    cv = Canvas(width, height)

    def px(x: float) -> int:
        return left + round((x - x_lo) / (x_hi - x_lo) * (pw - 1))

    if log_y:
        pos = [y for y in ys if y > 0] or [1.0]
        y_lo = 10 ** math.floor(math.log10(min(pos)))
        y_hi = 10 ** math.ceil(math.log10(max(pos) * 1.0001))
        y_ticks = [10**k for k in range(round(math.log10(y_lo)), round(math.log10(y_hi)) + 1)]

        def ymap(y: float) -> float:
            return (math.log10(max(y, y_lo)) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo))
    else:
        y_lo, y_top = 0.0, max([1.0, *ys]) * 1.05
        y_ticks = nice_ticks(0.0, y_top)
        if y_ticks[-1] < y_top:  # the axis ends on a tick above the highest point
            y_ticks.append(round(2 * y_ticks[-1] - y_ticks[-2], 10))
        y_hi = y_ticks[-1]

        def ymap(y: float) -> float:
            return (y - y_lo) / (y_hi - y_lo)

    def py(y: float) -> int:
        return bottom - round(ymap(y) * (plot_h - 1))

    # title, stall band, grid, axes
    r = report
    cv.text(left, 8, f"HA SAN DRILL: {r['fault']}", BLACK, 2)
    cv.text(left, 28, f"acked {r['acked']}  lost {r['lost']}  longest stall {r['stall_s']:.2f} s", BLACK)
    cv.text(8, top - 16, "LATENCY MS" + (" (LOG)" if log_y else ""), BLACK)
    if stall is not None:
        cv.rect(px(stall[0] - origin), top, px(stall[1] - origin), bottom, STALL)
    for yt in y_ticks:
        y = py(yt)
        cv.line(left, y, left + pw - 1, y, GRID)
        lab = fmt_num(yt)
        cv.text(left - 6 - text_width(lab), y - 3, lab)
    for xt in nice_ticks(x_lo, x_hi, 10):
        x = px(xt)
        cv.line(x, top, x, bottom, GRID)
        cv.line(x, bottom, x, bottom + 4, BLACK)
        lab = fmt_num(xt)
        cv.text(x - text_width(lab) // 2, bottom + 8, lab)
    cv.text(
        left + pw // 2 - text_width("SECONDS SINCE THE FAULT") // 2, bottom + 22, "SECONDS SINCE THE FAULT"
    )
    cv.line(left, top, left, bottom, BLACK)
    cv.line(left, bottom, left + pw - 1, bottom, BLACK)

    # data: a dot per ack, joined to the previous one unless they are far apart (a stall stays a gap);
    # write errors as red crosses on the x axis
    prev: tuple[int, int] | None = None
    for x, y in zip(xs, ys, strict=True):
        cur = (px(x), py(y))
        if prev is not None and cur[0] - prev[0] <= 3:
            cv.line(*prev, *cur, BLUE)
        cv.rect(cur[0], cur[1] - 1, cur[0] + 1, cur[1], BLUE)
        prev = cur
    for t in errors:
        x = px(t - origin)
        cv.line(x - 2, bottom - 6, x + 2, bottom - 2, RED)
        cv.line(x - 2, bottom - 2, x + 2, bottom - 6, RED)

    # fault and events: vertical lines, numbered at the top, explained in the legend
    x0 = px(0.0)
    cv.line(x0, top, x0, bottom, RED)
    cv.line(x0 + 1, top, x0 + 1, bottom, RED)
    cv.text(x0 + 4, top + 2, "FAULT", RED)
    rows: list[int] = []  # right edge of the last label in each label row
    for n, ev in enumerate(events, 1):
        x = px(ev["t_rel"])
        cv.line(x, top + 12, x, bottom, ORANGE, dash=3)
        lab = str(n)
        row = next((i for i, edge in enumerate(rows) if edge < x), len(rows))
        if row == len(rows):
            rows.append(0)
        rows[row] = x + 2 + text_width(lab)
        cv.text(x + 2, top + 14 + row * 9, lab, ORANGE)  # right of its line
    y = legend_top
    cv.text(left, y, f"0  {0.0:+.2f} S  FAULT {r['fault']}", RED)
    chars = (width - left - 8) // (GLYPH_W + 1)
    for n, ev in enumerate(events, 1):
        y += 12
        cv.text(left, y, f"{n}  {ev['t_rel']:+.2f} S  {ev['node']}: {ev['event']}"[:chars], ORANGE)
    if hidden:
        cv.text(left, y + 12, f"{hidden} more events outside the plot: see the report JSON"[:chars], BLACK)
    return cv


# --- summary ----------------------------------------------------------------------------------------
def unresolved(split_brain: Any) -> bool:
    sb = norm_split_brain(split_brain)
    return sb["detected"] and not sb["resolved"]


# How Heartbeat R1 took a dead node's group over, as the survivor logged it (the role's harc and the package's
# rc.d scripts log the same words). The two ways differ by a second on a slow server, and a crash drill moves
# the group each time, so a series alternates between them: comparisons need them apart.
TAKEOVER_PATHS = (
    ("mach_down", re.compile(r"[Tt]aking over resource group")),  # the dead node's group
    ("home", re.compile(r"received ip-request-resp")),  # this node's own group, taken back
)
NOT_SERVERS = ("drill", "client", "powerswitch")


def takeover_path(report: dict[str, Any]) -> str | None:
    """The way the first takeover after the fault went: 'mach_down' (the survivor took the dead node's group),
    'home' (the survivor is the group's home and took it back through req_resource and ip-request-resp), or
    None when the timeline shows neither (a planned move, ipfail's standby, no takeover). Events of a fenced
    node are not read: only the survivor takes over."""
    fenced = {str(f.get("node")) for f in norm_fenced(report.get("fenced"))}
    for ev in sorted(report.get("timeline") or [], key=lambda e: float(e.get("t_rel", 0.0))):
        node = str(ev.get("node", ""))
        if float(ev.get("t_rel", 0.0)) < 0 or node in fenced or node in NOT_SERVERS:
            continue
        for name, pattern in TAKEOVER_PATHS:
            if pattern.search(str(ev.get("event", ""))):
                return name
    return None


def summarize(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per fault (in first-seen order), each followed by a row per takeover path when its drills took
    more than one, and a last row over all drills."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in reports:
        groups.setdefault(r["fault"], []).append(r)

    def row(name: str, rs: list[dict[str, Any]]) -> dict[str, Any]:
        stalls = [float(r["stall_s"]) for r in rs]
        return {
            "fault": name,
            "runs": len(rs),
            "stall_p50_s": round(statistics.median(stalls), 3),
            "stall_max_s": round(max(stalls), 3),
            "acked": sum(int(r["acked"]) for r in rs),
            "lost": sum(int(r["lost"]) for r in rs),
            "split_brain_unresolved": sum(1 for r in rs if unresolved(r["split_brain"])),
            "double_exports": sum(1 for r in rs if r["double_export"]),
        }

    rows = []
    for name, rs in groups.items():
        rows.append(row(name, rs))
        paths: dict[str, list[dict[str, Any]]] = {}
        for r in rs:
            path = takeover_path(r)
            if path:
                paths.setdefault(path, []).append(r)
        if len(paths) > 1:
            rows.extend(row(f"{name} ({path})", prs) for path, prs in sorted(paths.items()))
    if reports:
        rows.append(row("all", reports))
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| fault | runs | stall p50 (s) | stall max (s) | acked | lost "
        "| split brains unresolved | double exports |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        name = f"**{r['fault']}**" if r["fault"] == "all" else r["fault"]
        lines.append(
            f"| {name} | {r['runs']} | {r['stall_p50_s']:.2f} | {r['stall_max_s']:.2f} | {r['acked']} | "
            f"{r['lost']} | {r['split_brain_unresolved']} | {r['double_exports']} |"
        )
    return "\n".join(lines) + "\n"


# --- command line -----------------------------------------------------------------------------------
def load_json(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def cmd_report(args: argparse.Namespace) -> int:
    facts: dict[str, Any] = load_json(args.facts) if args.facts else {}
    verify = load_json(args.verify)
    events: list[dict[str, Any]] = []
    for path in args.timeline or []:
        events.extend(load_json(path))
    events.extend(facts.get("timeline", []))
    offsets = {str(k): float(v) for k, v in facts.get("clock_offsets", {}).items()}
    for item in args.clock_offset or []:
        node, _sep, val = item.partition("=")
        offsets[node] = float(val)
    fault = args.fault or facts.get("fault")
    if not fault:
        print("ha_san_report: --fault (or facts.fault) is required", file=sys.stderr)
        return 2
    fault_time = args.fault_time if args.fault_time is not None else facts.get("fault_time")
    report = build_report(
        verify,
        events,
        fault=fault,
        fault_time=fault_time,
        fenced=json.loads(args.fenced) if args.fenced is not None else facts.get("fenced"),
        split_brain=json.loads(args.split_brain)
        if args.split_brain is not None
        else facts.get("split_brain", False),
        double_export=args.double_export
        if args.double_export is not None
        else bool(facts.get("double_export")),
        clock_offsets=offsets,
        client_node=args.client_node,
    )
    text = json.dumps(report, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    else:
        print(text)
    if args.png:
        cl = offsets.get(args.client_node, 0.0)
        acks, errors = read_ack_log(args.log) if args.log else ([], [])
        acks = [(t - cl, lat) for t, lat in acks]
        origin = fault_time if fault_time is not None else (acks[0][0] if acks else 0.0)
        stall = None
        if verify.get("stall_start_wall") is not None and verify.get("stall_end_wall") is not None:
            stall = (verify["stall_start_wall"] - cl, verify["stall_end_wall"] - cl)
        cv = plot(
            report, acks, [t - cl for t in errors], origin, log_y=args.log_y, width=args.width, stall=stall
        )
        with open(args.png, "wb") as fh:
            fh.write(cv.png())
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    reports = [load_json(p) for p in args.reports]
    rows = summarize(reports)
    text = markdown(rows)
    print(text, end="")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2)
            fh.write("\n")
    if args.check and rows:
        total = rows[-1]
        bad = total["lost"] or total["split_brain_unresolved"] or total["double_exports"]
        if bad:
            print(
                f"ha_san_report: {total['lost']} acknowledged blocks lost, "
                f"{total['split_brain_unresolved']} split brains unresolved, "
                f"{total['double_exports']} double exports",
                file=sys.stderr,
            )
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report", help="one drill: report JSON and latency plot PNG")
    r.add_argument("--verify", required=True, help="ha_san_verify.py's JSON")
    r.add_argument("--log", help="the writer's ack log (for the plot)")
    r.add_argument("--timeline", action="append", help="JSON list of {t, node, event}; repeatable")
    r.add_argument(
        "--facts", help="JSON {fault, fault_time, fenced, split_brain, double_export, clock_offsets}"
    )
    r.add_argument("--fault", help=f"fault name ({', '.join(FAULTS)})")
    r.add_argument("--fault-time", type=float, help="wall-clock time of the fault (controller clock)")
    r.add_argument("--fenced", help='JSON: [{"node": "srv1", "t": 1764070000.1}] or null')
    r.add_argument("--split-brain", help='JSON: false or {"detected": true, "resolved": true, "how": "..."}')
    r.add_argument("--double-export", type=parse_bool, help="did two nodes export the shelf.slot at once")
    r.add_argument("--clock-offset", action="append", help="NODE=SECONDS (node clock minus controller clock)")
    r.add_argument("--client-node", default="client", help="node name of the writer's host")
    r.add_argument("--out", help="report JSON (default: stdout)")
    r.add_argument("--png", help="latency plot to write")
    r.add_argument("--log-y", action="store_true", help="logarithmic latency axis")
    r.add_argument("--width", type=int, default=1000, help="plot width in pixels")
    r.set_defaults(func=cmd_report)
    s = sub.add_parser("summary", help="Markdown table over several report JSONs")
    s.add_argument("reports", nargs="+", help="report JSON files")
    s.add_argument("--out", help="also write the Markdown here")
    s.add_argument("--json", help="also write the rows as JSON here")
    s.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if any block was lost, a split brain left or a double export",
    )
    s.set_defaults(func=cmd_summary)
    args = p.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
