"""Failover drill events (ha_san.aoe): a timeline and the facts of one drill, from what the servers logged.

Runs on the controller after a drill, standard library only, knows nothing about the lab. Reads, per server,
the journal since the drill began (``journalctl -o short-unix``), the export sampler's log (lines
``<wall> <vblade processes> <macvlan present 0|1>``, one per sample) and DRBD's final state, and writes:

- ``--timeline-out``: ``[{t, node, event}]`` (node clocks) for ``ha_san_report.py report --timeline``;
- ``--facts-out``: ``{fault, fault_time, fenced, split_brain, double_export, double_export_detail,
  clock_offsets}`` for ``ha_san_report.py report --facts``.

Double export: every sample in which a server ran vblade *and* held the floating MAC counts as "exporting"
from that sample until the next one (or, for the last sample, half a sampling interval, or until the time
the node was powered off when it died exporting: fault time for a crash, fence time otherwise). Two servers
exporting in overlapping intervals (controller clock) is a double export. A powered-off server exports
nothing: its intervals end at its death, and a sample stamped after it (which only a clock error can make)
is counted in ``samples_after_death``, not taken as an export.

Clocks: the check compares two servers' clocks, so each node's offset matters. ``--clock-samples FILE``
holds lines ``<node> <controller time before the read> <node time>``, in the order they were taken, one
after the other: each node read happened between its line's controller time and the next line's, which
brackets the node's offset (a lab VM takes the host's clock at boot to the second: -1.2 to +0.6 s
measured; a server without NTP can be off by much more). The offset used is the value inside the
tightest bracket closest to 0 (an NTP-synced cluster keeps 0); ``--clock-offset``
overrides it.

Usage: python3 ha_san_drill_events.py --fault crash --fault-time T --node primary=DIR --node secondary=DIR
       [--clock-samples clock.txt] [--clock-offset primary=0.1] [--victim primary] [--fence-log lab/fence.log]
       --timeline-out timeline.json --facts-out facts.json
DIR holds journal.txt, exports.log and drbd_state.json (any may be missing).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

PATTERNS = [
    (re.compile(r"node (\S+): is dead|Node (\S+): status dead|Cluster node (\S+) returning"), None),
    (re.compile(r"Resetting node (\S+) with"), None),
    (re.compile(r"node (\S+) now reset"), None),
    (re.compile(r"STONITH|stonith", re.I), None),
    (re.compile(r"ha_san_fence"), None),
    (
        re.compile(
            r"[Tt]aking over resource group|Resource acquisition completed|mach_down takeover complete"
            r"|received ip-request-resp"
        ),
        None,
    ),
    (
        re.compile(r"Giving up all HA resources|All HA resources relinquished|foreign HA resource release"),
        None,
    ),
    (re.compile(r"ipfail|Link \S+ dead|Link \S+ up|Ping node .* dead"), None),
    (re.compile(r"ha_san-aoe-export"), None),
    (re.compile(r"ha_san-drbddisk|drbddisk"), None),
    (re.compile(r"drbd \S+: (role|peer|conn|disk|pdsk)\( "), None),
    (re.compile(r"drbd \S+: .*(Split-Brain|split-brain|Resync done|helper command)"), None),
    (re.compile(r"IPaddr2?.*(192|ip addr|Success|Resource is stopped)|ha_san-service-ip"), None),
    (re.compile(r"heartbeat.*(Starting|Stopping|Heartbeat shutdown|Initial resource acquisition)"), None),
    # Corosync and Pacemaker: membership and links, the ping resource's attribute, the scheduler's decisions,
    # the controller's starts, stops, promotions and fencing, and the role's DRBD fence-peer handler.
    (
        re.compile(
            r"A processor failed|A new membership|Members left|link: host: \S+ link: \S+ is (down|up)"
        ),
        None,
    ),
    (re.compile(r"Setting pingd\["), None),
    (
        re.compile(
            r"Actions: (Move|Promote|Demote|Start|Stop|Recover|Restart) |Scheduling node \S+ for fencing"
        ),
        None,
    ),
    (re.compile(r"(Initiating|Result of) (start|stop|promote|demote) operation"), None),
    (re.compile(r"Requesting fencing|Peer \S+ was terminated|state is now lost"), None),
    (re.compile(r"ha_san-pcmk-fence-peer"), None),
]
LINE = re.compile(r"^(\d+\.\d+) (\S+) ([^:]+): (.*)$")
# Noise: debug chatter, ipfail's ping-count exchange, the drill's own Ansible commands.
SKIP = re.compile(
    r"\bdebug: |^ansible-|Asking other side|Checking remote count|Message \[num_ping\]|Found ping node"
)


def parse_journal(text: str, node: str, since: float, limit: int = 300) -> list[dict]:
    events: list[dict] = []
    for raw in text.splitlines():
        m = LINE.match(raw)
        if not m:
            continue
        t = float(m.group(1))
        if t < since:
            continue
        ident, msg = m.group(3), m.group(4)
        full = f"{ident}: {msg}"
        if SKIP.search(full):
            continue
        if any(p.search(full) for p, _name in PATTERNS):
            events.append({"t": t, "node": node, "event": f"{ident.split('[')[0]}: {msg}"[:140]})
    if len(events) > limit:
        events = events[:limit]
    return events


def split_brain(journals: dict[str, str], since: float, states: dict[str, dict]) -> dict | bool:
    detected = resolved = unresolved = False
    how = []
    for text in journals.values():
        for raw in text.splitlines():
            m = LINE.match(raw)
            if not m or float(m.group(1)) < since:
                continue
            msg = m.group(4)
            if "Split-Brain detected" in msg or "split-brain" in msg.lower():
                detected = True
                if "unresolved" in msg:
                    unresolved = True
                elif "automatically solved" in msg or "solved" in msg:
                    resolved = True
                    how.append(msg.split(": ", 1)[-1][:120])
    connected = (
        all(
            s.get("connection_state") == "Connected"
            and s.get("disk_state") == "UpToDate"
            and s.get("peer_disk_state") == "UpToDate"
            for s in states.values()
        )
        and len(states) >= 2
    )
    if not detected:
        return False
    return {
        "detected": True,
        "resolved": bool(resolved and not unresolved and connected),
        "how": "; ".join(dict.fromkeys(how)) or ("none: left StandAlone" if not connected else "resynced"),
    }


def parse_samples(samples: str, offset: float) -> list[tuple[float, bool]]:
    """The sampler's lines as (controller time, exporting), sorted.

    A line with a NUL byte is skipped whole: a power loss leaves the unflushed tail of the log as zeros, and
    the text after a run of zeros may be the end of a line whose start was lost (a wrong time).
    """
    pts: list[tuple[float, bool]] = []
    for raw in samples.splitlines():
        parts = raw.split()
        if "\0" in raw or len(parts) != 3:
            continue
        try:
            t = float(parts[0]) - offset
            active = int(parts[1]) > 0 and int(parts[2]) > 0
        except ValueError:
            continue
        pts.append((t, active))
    pts.sort()
    return pts


def export_intervals(
    samples: str, offset: float, death: float | None
) -> tuple[list[tuple[float, float]], int]:
    """When the node exported (controller clock), and how many samples are stamped after its death."""
    pts = parse_samples(samples, offset)
    after_death = sum(1 for t, _active in pts if death is not None and t > death)
    if death is not None:
        pts = [p for p in pts if p[0] <= death]
    out = []
    for i, (t, active) in enumerate(pts):
        if not active:
            continue
        if i + 1 < len(pts):
            end = pts[i + 1][0]
        elif death is not None and death > t:
            end = death
        else:
            end = t + 0.25
        out.append((t, end))
    return out, after_death


def clock_brackets(text: str) -> dict[str, tuple[float, float]]:
    """Per node, the (lowest, highest) offset (node minus controller) consistent with every sample."""
    rows = []
    for raw in text.splitlines():
        parts = raw.split()
        if len(parts) < 3:
            continue
        try:
            rows.append((parts[0], float(parts[1]), float(parts[2])))
        except ValueError:
            continue
    out: dict[str, tuple[float, float]] = {}
    for i, (node, sent, read) in enumerate(rows):
        hi = read - sent
        lo = read - rows[i + 1][1] if i + 1 < len(rows) else float("-inf")
        if node in out:
            old_lo, old_hi = out[node]
            new = (max(lo, old_lo), min(hi, old_hi))
            # disagreeing samples (a clock stepped between them): keep the narrower one
            if new[0] > new[1]:
                new = min((lo, hi), (old_lo, old_hi), key=lambda b: b[1] - b[0])
            out[node] = new
        else:
            out[node] = (lo, hi)
    return out


def _finite(x: float) -> float | None:
    return round(x, 3) if abs(x) != float("inf") else None


def offset_in(bracket: tuple[float, float]) -> float:
    """The offset inside the bracket closest to 0: synced clocks stay uncorrected."""
    lo, hi = bracket
    return round(min(max(0.0, lo), hi), 3)


def fence_events(path: str | None, since: float) -> list[dict]:
    if not path or not Path(path).exists():
        return []
    out = []
    for raw in Path(path).read_text(errors="replace").splitlines():
        parts = raw.split(" ", 2)
        if len(parts) < 3:
            continue
        try:
            t = float(parts[1])
        except ValueError:
            continue
        if t >= since and "request='status" not in parts[2]:
            out.append({"t": t, "node": "powerswitch", "event": parts[2][:140]})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--fault", required=True)
    ap.add_argument("--fault-time", type=float, required=True)
    ap.add_argument(
        "--since", type=float, help="ignore log lines before this (node clock); default fault time - 30"
    )
    ap.add_argument("--node", action="append", default=[], help="NODE=DIR")
    ap.add_argument(
        "--clock-samples", help="lines '<node> <controller time before> <node time>', in the order taken"
    )
    ap.add_argument(
        "--clock-offset", action="append", default=[], help="NODE=SECONDS (node minus controller); wins"
    )
    ap.add_argument("--victim", help="the server the fault hit")
    ap.add_argument("--fence-log", help="the power switch's log (lab: STATE/fence.log), controller clock")
    ap.add_argument("--timeline-out", required=True)
    ap.add_argument("--facts-out", required=True)
    a = ap.parse_args(argv)

    brackets = clock_brackets(Path(a.clock_samples).read_text()) if a.clock_samples else {}
    offsets = {n: offset_in(b) for n, b in brackets.items()}
    offsets.update({k: float(v) for k, v in (s.split("=", 1) for s in a.clock_offset)})
    since = a.since if a.since is not None else a.fault_time - 30
    journals: dict[str, str] = {}
    samples: dict[str, str] = {}
    states: dict[str, dict] = {}
    timeline: list[dict] = []
    for spec in a.node:
        node, d = spec.split("=", 1)
        p = Path(d)
        journals[node] = (
            (p / "journal.txt").read_text(errors="replace") if (p / "journal.txt").exists() else ""
        )
        samples[node] = (
            (p / "exports.log").read_text(errors="replace") if (p / "exports.log").exists() else ""
        )
        if (p / "drbd_state.json").exists():
            try:
                states[node] = json.loads((p / "drbd_state.json").read_text())
            except ValueError:
                states[node] = {}
        timeline += parse_journal(journals[node], node, since + offsets.get(node, 0.0))

    fences = fence_events(a.fence_log, a.fault_time - 5)
    # the power switch logs on the controller's clock (offset 0 in the report's convention)
    timeline += fences
    fenced = []
    for ev in timeline:
        m = re.search(r"node (\S+) now reset", ev["event"])
        if m and ev["node"] != "powerswitch":
            fenced.append(
                {
                    "node": m.group(1).rstrip("."),
                    "t": ev["t"] - offsets.get(ev["node"], 0.0),
                    "by": ev["node"],
                }
            )
    for ev in fences:
        m = re.search(r"request='off (\S+)", ev["event"])
        if m and "answer='ok" in ev["event"] and not any(f["node"] == m.group(1) for f in fenced):
            fenced.append({"node": m.group(1), "t": ev["t"], "by": "powerswitch"})

    # when did the victim stop being able to export: the crash itself, else its fencing
    deaths: dict[str, float] = {}
    if a.victim:
        if a.fault == "crash":
            deaths[a.victim] = a.fault_time
        for f in fenced:
            deaths.setdefault(f["node"], f["t"])
    intervals: dict[str, list[tuple[float, float]]] = {}
    after_death: dict[str, int] = {}
    for n, text in samples.items():
        intervals[n], after_death[n] = export_intervals(text, offsets.get(n, 0.0), deaths.get(n))
    overlaps = []
    nodes = sorted(intervals)
    for i, n1 in enumerate(nodes):
        for n2 in nodes[i + 1 :]:
            for s1, e1 in intervals[n1]:
                for s2, e2 in intervals[n2]:
                    lo, hi = max(s1, s2), min(e1, e2)
                    if hi > lo:
                        overlaps.append({"nodes": [n1, n2], "from": lo, "to": hi})
    facts = {
        "fault": a.fault,
        "fault_time": a.fault_time,
        "fenced": fenced or None,
        "split_brain": split_brain(journals, since, states),
        "double_export": bool(overlaps),
        "double_export_detail": overlaps[:20],
        "export_samples": {n: len(s.splitlines()) for n, s in samples.items()},
        "samples_after_death": {n: c for n, c in after_death.items() if c},
        # first and last sample per node (controller clock): a report that claims an overlap shows its ground
        "export_spans": {
            n: [round(pts[0][0], 3), round(pts[-1][0], 3)]
            for n, text in samples.items()
            if (pts := parse_samples(text, offsets.get(n, 0.0)))
        },
        "deaths": deaths,
        "drbd_final": states,
        "clock_offsets": offsets,
        "clock_brackets": {n: [_finite(lo), _finite(hi)] for n, (lo, hi) in brackets.items()},
    }
    timeline.sort(key=lambda e: e["t"])
    Path(a.timeline_out).write_text(json.dumps(timeline, indent=1) + "\n")
    Path(a.facts_out).write_text(json.dumps(facts, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
