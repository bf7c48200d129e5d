"""Failover drill report (ha_san.aoe): one JSON + one PNG per drill, its verdict, and a Markdown summary.

Runs on the controller. The plot needs matplotlib (requirements.txt: run this with the venv's python, as
failover_drill.yml does with ``ansible_playbook_python``); everything else is standard library only.

  report   merge the verifier's JSON, the writer's ack log, the servers' timeline events and the drill's
           facts (fault, fault time, fencing, split brain, double export) into a report JSON with exactly
           the keys fault, stall_s, acked, lost, split_brain, double_export, fenced, timeline; and plot
           write latency over time (x: seconds since the fault) with the fault and the events marked.
  verdict  judge one drill (ha_san_verdict.py): print the drill's figures and every reason it failed;
           exit 1 when it failed.
  summary  read several report JSONs and print a Markdown table per fault: runs, stall p50 / max,
           acked, lost, unresolved split brains, double exports; under a fault whose survivors took the
           group over in different ways, one row per way (see takeover_path).

Times are wall-clock seconds (Unix epoch).  Events from a node whose clock is off by D seconds
(node clock minus the controller's) are corrected with ``--clock-offset NODE=D``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

# ha_san_verdict.py is shipped beside this file. `python3 -I` (isolated) leaves this file's folder off
# sys.path, hence the insert.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
from ha_san_verdict import OBSERVATION_KEYS, ends_on, headline, judge  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REPORT_KEYS = (
    "fault",
    "stall_s",
    "acked",
    "lost",
    "split_brain",
    "double_export",
    "fenced",
    "timeline",
    "targets",
)
# One entry of the report's ``targets``: one per writer (drill_target first, then drill_extra_targets).
TARGET_KEYS = ("target", "acked", "lost", "stall_s", "stall_open", "after_boot_acked")
# The drill's one table of faults (faults.json, beside this file).
FAULT_TABLE: dict[str, dict[str, Any]] = {
    k: v
    for k, v in json.loads((Path(__file__).with_name("faults.json")).read_text(encoding="utf-8")).items()
    if not k.startswith("_")
}
FAULTS = tuple(FAULT_TABLE)

RGB = tuple[int, int, int]
BLUE: RGB = (31, 119, 180)
RED: RGB = (214, 39, 40)
ORANGE: RGB = (230, 120, 0)
STALL: RGB = (255, 226, 226)
MAX_PLOT_EVENTS = 40
# The plot's layout in pixels (at DPI): the title above the axes, tick labels and the x label under them,
# then one legend line per event.
DPI = 100
TITLE_PX, AXES_PX, UNDER_PX, LEGEND_LINE_PX, MARGIN_PX = 60, 360, 52, 14, 10
LEFT_PX, RIGHT_PX = 78, 24


def _mpl(color: RGB) -> tuple[float, float, float]:
    return (color[0] / 255, color[1] / 255, color[2] / 255)


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


def read_ack_logs(paths: list[str], clock_offset: float) -> tuple[list[tuple[float, float]], list[float]]:
    """``read_ack_log`` of several logs in turn (a writer killed with the client, then the one started
    after its boot), their wall times moved to the controller's clock (``clock_offset``: client minus it)."""
    acks: list[tuple[float, float]] = []
    errors: list[float] = []
    for path in paths:
        more, failed = read_ack_log(path)
        acks += [(t - clock_offset, lat) for t, lat in more]
        errors += [t - clock_offset for t in failed]
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
def across_boot(
    verify: dict[str, Any], after_boot: list[tuple[float, float]], errors: list[float]
) -> dict[str, Any]:
    """The verifier's figures for a writer killed by the client's power loss, joined with the writer started
    after the client's boot (``after_boot``: its acks' (wall, latency), ``errors``: its failed writes' walls).

    The stall runs from the last ack before the loss to the first ack after the boot: the client's own
    outage. Both ends are the client's wall clock, since a monotonic clock does not survive a boot; a client
    whose clock steps at boot (no NTP) shifts the stall by that step. No ack after the boot leaves the stall
    open, lasting at least until the last failed write. ``after_boot_acked`` counts the acks after the boot.
    """
    out = dict(verify, after_boot_acked=len(after_boot))
    last = verify.get("last_ack_wall")
    if last is None:
        return out
    out.update(stall_start_wall=last, stall_start_seq=verify.get("last_seq"))
    if after_boot:
        first = after_boot[0][0]
        out.update(stall_s=round(max(0.0, first - last), 6), stall_end_wall=first, stall_open=False)
    else:
        end = max([last, *errors])
        out.update(stall_s=round(max(float(verify.get("stall_s", 0.0)), end - last), 6), stall_open=True)
        out.update(stall_end_wall=end)
    return out


def target_entry(verify: dict[str, Any]) -> dict[str, Any]:
    """One writer's figures in the report (TARGET_KEYS); ``after_boot_acked`` is None unless the client was
    rebooted in the drill."""
    return {
        "target": verify.get("target"),
        "acked": int(verify.get("acked", 0)),
        "lost": int(verify.get("lost", 0)),
        "stall_s": round(float(verify.get("stall_s", 0.0)), 3),
        "stall_open": bool(verify.get("stall_open")),
        "after_boot_acked": verify.get("after_boot_acked"),
    }


def build_report(
    verify: dict[str, Any] | list[dict[str, Any]],
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
    """The per-drill report: exactly REPORT_KEYS.  Timeline times are on the controller's clock.

    ``verify`` is the verifier's JSON, or one per writer (drill_target's first): acked and lost are their
    sums, stall_s the longest, ``targets`` has each; the client's events name the target when there are
    several.
    """
    verifies = [verify] if isinstance(verify, dict) else list(verify)
    offsets = clock_offsets or {}
    cl = offsets.get(client_node, 0.0)
    origin = fault_time if fault_time is not None else (verifies[0].get("first_ack_wall") or 0.0) - cl
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
    for v in verifies:
        on = f"{v.get('target')}: " if len(verifies) > 1 else ""
        if v.get("stall_start_wall") is not None and v.get("stall_s", 0) > 0:
            add(
                v["stall_start_wall"] - cl,
                client_node,
                f"{on}last ack before the longest stall (seq {v['stall_start_seq']})",
            )
            if not v.get("stall_open"):
                add(v["stall_end_wall"] - cl, client_node, f"{on}writes resume after {v['stall_s']:.2f} s")
        if v.get("first_error_wall") is not None:
            first_error = f"{on}first write error ({v.get('errors', 0)} in all)"
            add(v["first_error_wall"] - cl, client_node, first_error)
    timeline.sort(key=lambda e: e["t"])
    fenced_list = norm_fenced(fenced)
    for f in fenced_list:
        if f.get("t") is not None:
            f["t_rel"] = round(float(f["t"]) - origin, 3)
    targets = [target_entry(v) for v in verifies]
    return {
        "fault": fault,
        "stall_s": max(t["stall_s"] for t in targets),
        "acked": sum(t["acked"] for t in targets),
        "lost": sum(t["lost"] for t in targets),
        "split_brain": norm_split_brain(split_brain),
        "double_export": bool(double_export),
        "fenced": fenced_list,
        "timeline": timeline,
        "targets": targets,
    }


def plot_height(events: int, hidden: bool) -> int:
    """The PNG's height in pixels with ``events`` events in the legend (and a "more events" line)."""
    return TITLE_PX + AXES_PX + UNDER_PX + LEGEND_LINE_PX * (events + 1 + int(hidden)) + MARGIN_PX


def plot(
    report: dict[str, Any],
    acks: list[tuple[float, float]],
    errors: list[float],
    origin: float,
    *,
    log_y: bool = False,
    width: int = 1000,
    stall: tuple[float, float] | None = None,
) -> Figure:
    """Write latency (ms) over seconds since ``origin``; fault and timeline events as vertical lines.

    ``acks`` / ``errors`` are already on the controller's clock; ``stall`` = (start, end) to shade.
    Drawn with matplotlib's Agg backend (no display); ``png`` turns the figure into the file's bytes.
    """
    # imported here: the report JSON, the verdict and the summary need nothing beyond the standard library
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

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
    height = plot_height(len(events), bool(hidden))
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    pw = width - LEFT_PX - RIGHT_PX
    ax = fig.add_axes((LEFT_PX / width, 1 - (TITLE_PX + AXES_PX) / height, pw / width, AXES_PX / height))
    r = report
    fig.text(LEFT_PX / width, 1 - 8 / height, f"HA SAN drill: {r['fault']}", va="top", size=14)
    fig.text(
        LEFT_PX / width,
        1 - 32 / height,
        f"acked {r['acked']}  lost {r['lost']}  longest stall {r['stall_s']:.2f} s",
        va="top",
        size=9,
    )

    # a dot per ack, joined to the previous one unless they are far apart (a stall stays a gap)
    gap = 3 * (x_hi - x_lo) / pw
    line_x: list[float] = []
    line_y: list[float] = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if i and x - xs[i - 1] > gap:
            line_x.append(float("nan"))
            line_y.append(float("nan"))
        line_x.append(x)
        line_y.append(y)
    ax.plot(line_x, line_y, color=_mpl(BLUE), linewidth=0.8, marker="s", markersize=1.5, zorder=3)
    if stall is not None:
        ax.axvspan(stall[0] - origin, stall[1] - origin, color=_mpl(STALL), linewidth=0, zorder=0)
    # write errors as red crosses on the x axis
    if errors:
        ax.plot(
            [t - origin for t in errors],
            [0.015] * len(errors),
            "x",
            color=_mpl(RED),
            markersize=5,
            transform=ax.get_xaxis_transform(),
            zorder=4,
        )
    ax.set_xlim(x_lo, x_hi)
    if log_y:
        ax.set_yscale("log", nonpositive="clip")
    else:
        ax.set_ylim(0, max([1.0, *ys]) * 1.05)
    ax.grid(True, color="0.88", linewidth=0.8, zorder=1)
    ax.set_axisbelow(True)
    ax.set_ylabel("latency ms" + (" (log)" if log_y else ""), size=9)
    ax.set_xlabel("seconds since the fault", size=9)
    ax.tick_params(labelsize=8)

    # fault and events: vertical lines, numbered at the top, explained in the legend under the plot
    ax.axvline(0.0, color=_mpl(RED), linewidth=2, zorder=5)
    ax.text(0.0, 0.99, " fault", color=_mpl(RED), size=8, va="top", transform=ax.get_xaxis_transform())
    rows: list[float] = []  # right edge (pixels) of the last number in each row of numbers
    for n, ev in enumerate(events, 1):
        ax.axvline(ev["t_rel"], color=_mpl(ORANGE), linewidth=1, linestyle=(0, (3, 3)), zorder=4)
        x_px = (ev["t_rel"] - x_lo) / (x_hi - x_lo) * pw
        row = next((i for i, edge in enumerate(rows) if edge < x_px), len(rows))
        if row == len(rows):
            rows.append(0.0)
        rows[row] = x_px + 3 + 7 * len(str(n))
        ax.annotate(
            str(n),
            (ev["t_rel"], 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -24 - 10 * row),
            textcoords="offset pixels",
            color=_mpl(ORANGE),
            size=7,
        )
    lines = [(f"0  {0.0:+.2f} s  fault {r['fault']}", RED)]
    chars = (width - LEFT_PX - 8) // 7
    lines += [
        (f"{n}  {ev['t_rel']:+.2f} s  {ev['node']}: {ev['event']}"[:chars], ORANGE)
        for n, ev in enumerate(events, 1)
    ]
    if hidden:
        lines.append((f"{hidden} more events outside the plot: see the report JSON"[:chars], (0, 0, 0)))
    top = TITLE_PX + AXES_PX + UNDER_PX
    for i, (text, color) in enumerate(lines):
        fig.text(
            LEFT_PX / width,
            1 - (top + i * LEGEND_LINE_PX) / height,
            text,
            color=_mpl(color),
            family="monospace",
            size=8,
            va="top",
        )
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, at its own size (width x height pixels at DPI)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


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


def load_verifies(paths: list[str], resume_logs: list[str] | None) -> list[dict[str, Any]]:
    """The verifier's JSON of each writer; joined, in the same order, with the ack log of the writer started
    after the client's boot when the drill rebooted the client (``across_boot``). A missing log is a writer
    that could not even open its target after the boot: nothing written."""
    verifies = [load_json(p) for p in paths]
    if not resume_logs:
        return verifies
    if len(resume_logs) != len(verifies):
        raise ValueError(f"{len(resume_logs)} --resume-log for {len(verifies)} --verify: give one per writer")
    return [
        across_boot(v, *(read_ack_log(log) if os.path.exists(log) else ([], [])))
        for v, log in zip(verifies, resume_logs, strict=True)
    ]


def cmd_report(args: argparse.Namespace) -> int:
    facts: dict[str, Any] = load_json(args.facts) if args.facts else {}
    try:
        verifies = load_verifies(args.verify, args.resume_log)
    except ValueError as exc:
        print(f"ha_san_report: {exc}", file=sys.stderr)
        return 2
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
        verifies,
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
        # the plot shows drill_target's writer (the first), and after a client's boot the writer started then
        cl = offsets.get(args.client_node, 0.0)
        acks, errors = read_ack_logs(([args.log] if args.log else []) + (args.resume_log or [])[:1], cl)
        verify = verifies[0]
        origin = fault_time if fault_time is not None else (acks[0][0] if acks else 0.0)
        stall = None
        if verify.get("stall_start_wall") is not None and verify.get("stall_end_wall") is not None:
            stall = (verify["stall_start_wall"] - cl, verify["stall_end_wall"] - cl)
        try:
            fig = plot(
                report,
                acks,
                errors,
                origin,
                log_y=args.log_y,
                width=args.width,
                stall=stall,
            )
        except ImportError as exc:
            print(
                f"ha_san_report: the plot needs matplotlib ({exc}): run this with the Python of the venv "
                f"made from requirements.txt (failover_drill.yml uses ansible_playbook_python); "
                f"{args.out or 'the report JSON'} is written, {args.png} is not",
                file=sys.stderr,
            )
            return 2
        with open(args.png, "wb") as fh:
            fh.write(png(fig))
    return 0


def cmd_verdict(args: argparse.Namespace) -> int:
    try:
        report = load_json(args.report)
        table = load_json(args.fault_table) if args.fault_table else FAULT_TABLE
        drbd_after = load_json(args.drbd_after)
        observations = load_json(args.observations) if args.observations else {}
    except (OSError, ValueError) as exc:
        print(f"ha_san_report: verdict: {exc}", file=sys.stderr)
        return 2
    unknown = set(observations) - set(OBSERVATION_KEYS)
    if not isinstance(drbd_after, dict) or unknown:
        print(
            "ha_san_report: verdict: --drbd-after is {SERVER: {role, connection_state, ...}} and "
            f"--observations has only the keys {sorted(OBSERVATION_KEYS)} (found {sorted(unknown)})",
            file=sys.stderr,
        )
        return 2
    fault_name = args.fault or str(report.get("fault", ""))
    fault = table.get(fault_name) or {}  # a fault of the user's own, not in the table: its service moves
    passed, reasons = judge(
        report,
        fault,
        victim=args.victim,
        survivor=args.survivor,
        drbd_after=drbd_after,
        observations=observations,
        fault_name=fault_name,
    )
    print(headline(report, passed))
    for reason in reasons:
        print(f"- {reason}")
    if args.out:
        verdict = {
            "fault": fault_name,
            "passed": passed,
            "reasons": reasons,
            "victim": args.victim,
            "survivor": args.survivor,
            "ends_on": ends_on(fault),
        }
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(verdict, fh, indent=2)
            fh.write("\n")
    return 0 if passed else 1


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
    r.add_argument(
        "--verify",
        required=True,
        action="append",
        help="ha_san_verify.py's JSON; repeatable, one per writer (drill_target's first)",
    )
    r.add_argument("--log", help="the first writer's ack log (for the plot)")
    r.add_argument(
        "--resume-log",
        action="append",
        help="the ack log of the writer started after the client's boot; one per --verify, in the same order",
    )
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
    v = sub.add_parser("verdict", help="judge one drill: exit 1 with every reason when it failed")
    v.add_argument("--report", required=True, help="the drill's report JSON (report --out)")
    v.add_argument("--fault-table", help="faults.json (default: the one beside this script)")
    v.add_argument("--fault", help="the fault the drill injected (default: the report's)")
    v.add_argument("--victim", required=True, help="the server the fault hit (the Primary before it)")
    v.add_argument("--survivor", required=True, help="the other server")
    v.add_argument(
        "--drbd-after",
        required=True,
        help="JSON {SERVER: {role, connection_state, disk_state, peer_disk_state}} after the rejoin",
    )
    v.add_argument(
        "--observations",
        help="JSON {victim_export_rc: int|null, survivor_role: str|null}: what the drill saw in the fault",
    )
    v.add_argument("--out", help="also write {fault, passed, reasons, victim, survivor, ends_on} here")
    v.set_defaults(func=cmd_verdict)
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
