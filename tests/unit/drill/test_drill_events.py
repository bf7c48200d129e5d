"""ha_san_drill_events.py: timeline, fencing, split brain and double-export facts from the servers' logs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "ha_san_drill_events",
    Path(__file__).resolve().parents[3] / "playbooks" / "files" / "drill" / "ha_san_drill_events.py",
)
assert _spec is not None and _spec.loader is not None
ev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ev)


def node_dir(tmp: Path, name: str, journal: str = "", samples: str = "", state: dict | None = None) -> str:
    d = tmp / name
    d.mkdir()
    (d / "journal.txt").write_text(journal)
    (d / "exports.log").write_text(samples)
    (d / "drbd_state.json").write_text(
        json.dumps(
            state
            or {"connection_state": "Connected", "disk_state": "UpToDate", "peer_disk_state": "UpToDate"}
        )
    )
    return f"{name}={d}"


def run(tmp: Path, *args: str) -> tuple[list[dict], dict]:
    rc = ev.main([*args, "--timeline-out", str(tmp / "t.json"), "--facts-out", str(tmp / "f.json")])
    assert rc == 0
    return json.loads((tmp / "t.json").read_text()), json.loads((tmp / "f.json").read_text())


JOURNAL = """\
102.5 secondary heartbeat[10]: WARN: node primary: is dead
102.6 secondary ipfail[11]: debug: Found ping node 192.0.2.13!
103.0 secondary heartbeat[12]: info: Resetting node primary with [ha_san_fence]
104.0 secondary heartbeat[12]: info: node primary now reset.
106.0 secondary kernel: drbd r0: role( Secondary -> Primary )
107.0 secondary ansible-ansible.legacy.command[13]: Invoked with drbdadm role r0
"""


def test_crash_clean(tmp_path: Path) -> None:
    p = node_dir(tmp_path, "primary", samples="100.0 1 1\n100.5 1 1\n")
    s = node_dir(tmp_path, "secondary", JOURNAL, "100.0 0 0\n105.0 0 0\n108.0 1 1\n108.5 1 1\n")
    timeline, facts = run(
        tmp_path, "--fault", "crash", "--fault-time", "101", "--victim", "primary", "--node", p, "--node", s
    )
    assert facts["double_export"] is False
    assert facts["split_brain"] is False
    assert facts["fenced"] == [{"node": "primary", "t": 104.0, "by": "secondary"}]
    events = [e["event"] for e in timeline]
    assert any("is dead" in e for e in events) and any("role( Secondary -> Primary )" in e for e in events)
    assert not any("debug:" in e or e.startswith("ansible") for e in events)


def test_double_export_when_the_victim_still_exported(tmp_path: Path) -> None:
    # partition: the victim kept exporting until it was fenced at 110, the survivor exported from 108
    p = node_dir(tmp_path, "primary", samples="100.0 1 1\n100.5 1 1\n")
    j = JOURNAL.replace(
        "104.0 secondary heartbeat[12]: info: node primary now reset.",
        "110.0 secondary heartbeat[12]: info: node primary now reset.",
    )
    s = node_dir(tmp_path, "secondary", j, "100.0 0 0\n108.0 1 1\n108.5 1 1\n")
    _timeline, facts = run(
        tmp_path,
        "--fault",
        "partition",
        "--fault-time",
        "100.2",
        "--victim",
        "primary",
        "--node",
        p,
        "--node",
        s,
    )
    assert facts["double_export"] is True
    assert facts["double_export_detail"][0]["nodes"] == ["primary", "secondary"]


def test_split_brain_resolved_and_unresolved(tmp_path: Path) -> None:
    sb = (
        "150.0 secondary kernel: drbd r0: Split-Brain detected, 1 primaries, automatically solved."
        " Sync from this node\n"
    )
    p = node_dir(tmp_path, "primary")
    s = node_dir(tmp_path, "secondary", sb)
    _timeline, facts = run(tmp_path, "--fault", "partition", "--fault-time", "140", "--node", p, "--node", s)
    assert facts["split_brain"]["detected"] and facts["split_brain"]["resolved"]

    bad = "150.0 secondary kernel: drbd r0: Split-Brain detected but unresolved, dropping connection!\n"
    (tmp_path / "x").mkdir()
    p = node_dir(tmp_path / "x", "primary", state={"connection_state": "StandAlone"})
    s = node_dir(tmp_path / "x", "secondary", bad, state={"connection_state": "StandAlone"})
    _timeline, facts = run(
        tmp_path / "x", "--fault", "partition", "--fault-time", "140", "--node", p, "--node", s
    )
    assert facts["split_brain"]["detected"] and not facts["split_brain"]["resolved"]
