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
exporting in overlapping intervals (controller clock) is a double export.

Usage: python3 ha_san_drill_events.py --fault crash --fault-time T --node primary=DIR --node secondary=DIR
       [--clock-offset primary=0.1] [--victim primary] [--fence-log lab/fence.log]
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


def export_intervals(samples: str, offset: float, death: float | None) -> list[tuple[float, float]]:
    pts: list[tuple[float, bool]] = []
    for raw in samples.splitlines():
        parts = raw.split()
        if len(parts) != 3:
            continue
        try:
            t = float(parts[0]) - offset
            active = int(parts[1]) > 0 and int(parts[2]) > 0
        except ValueError:
            continue
        pts.append((t, active))
    pts.sort()
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
    return out


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
        "--clock-offset", action="append", default=[], help="NODE=SECONDS (node minus controller)"
    )
    ap.add_argument("--victim", help="the server the fault hit")
    ap.add_argument("--fence-log", help="the power switch's log (lab: STATE/fence.log), controller clock")
    ap.add_argument("--timeline-out", required=True)
    ap.add_argument("--facts-out", required=True)
    a = ap.parse_args(argv)

    offsets = {k: float(v) for k, v in (s.split("=", 1) for s in a.clock_offset)}
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
    intervals = {n: export_intervals(s, offsets.get(n, 0.0), deaths.get(n)) for n, s in samples.items()}
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
        "drbd_final": states,
        "clock_offsets": offsets,
    }
    timeline.sort(key=lambda e: e["t"])
    Path(a.timeline_out).write_text(json.dumps(timeline, indent=1) + "\n")
    Path(a.facts_out).write_text(json.dumps(facts, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
