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

# the same, with the victim fenced only at 110
JOURNAL_FENCED_AT_110 = JOURNAL.replace(
    "104.0 secondary heartbeat[12]: info: node primary now reset.",
    "110.0 secondary heartbeat[12]: info: node primary now reset.",
)


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
    s = node_dir(tmp_path, "secondary", JOURNAL_FENCED_AT_110, "100.0 0 0\n108.0 1 1\n108.5 1 1\n")
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


def test_a_nul_padded_tail_is_not_read_as_samples() -> None:
    # a power loss leaves the unflushed tail as zeros; what follows a run of zeros may be half a line
    text = "100.0 1 1\n100.5 1 1\n" + "\0" * 40 + "96181612.3 1 1\n"
    assert ev.parse_samples(text, 0.0) == [(100.0, True), (100.5, True)]


def test_a_crashed_server_exports_nothing_after_its_death() -> None:
    # its clock ran 20 s ahead: samples stamped after the crash are counted, not taken as exports
    intervals, after = ev.export_intervals("100.0 1 1\n100.5 1 1\n121.0 1 1\n121.5 1 1\n", 0.0, 101.0)
    assert intervals == [(100.0, 100.5), (100.5, 101.0)]
    assert after == 2


def test_clock_readings_bracket_each_offset() -> None:
    # primary 20 s ahead, secondary synced; each read lies between its controller time and the next one's
    text = (
        "primary 10.0 30.2\nsecondary 10.5 10.6\nprimary 11.0 31.1\nsecondary 11.3 11.4\nprimary 11.6 31.7\n"
    )
    b = ev.clock_brackets(text)
    assert b["primary"][0] == 31.1 - 11.3 and b["primary"][1] == 31.7 - 11.6
    assert b["secondary"] == (11.4 - 11.6, 11.4 - 11.3)
    assert ev.offset_in(b["primary"]) == round(31.1 - 11.3, 3)
    assert ev.offset_in(b["secondary"]) == 0.0


def test_a_drifted_clock_makes_no_double_export_once_measured(tmp_path: Path) -> None:
    # the crashed primary's clock ran 20 s ahead, so its last samples looked like exports while the survivor
    # had taken over (one way to get the overlap a review drill saw on 2026-12-02); it was off after the crash
    p = node_dir(tmp_path, "primary", samples="".join(f"{100 + 20 + i / 2:.1f} 1 1\n" for i in range(10)))
    s = node_dir(tmp_path, "secondary", JOURNAL, "100.0 0 0\n105.0 0 0\n108.0 1 1\n108.5 1 1\n")
    args = ["--fault", "crash", "--fault-time", "105.2", "--victim", "primary", "--node", p, "--node", s]
    _timeline, facts = run(tmp_path, *args)
    assert facts["samples_after_death"] == {"primary": 10}
    clock = tmp_path / "clock.txt"
    clock.write_text("primary 90.0 110.1\nsecondary 90.2 90.3\nprimary 90.4 110.5\nsecondary 90.6 90.6\n")
    _timeline, facts = run(tmp_path, *args, "--clock-samples", str(clock))
    assert facts["clock_offsets"] == {"primary": 19.9, "secondary": 0.0}
    assert facts["double_export"] is False and facts["samples_after_death"] == {}
    assert facts["export_spans"]["primary"] == [100.1, 104.6]


def test_a_real_overlap_is_still_a_double_export_with_measured_clocks(tmp_path: Path) -> None:
    # the victim (5 s behind) exported until it was fenced at 110 (controller); the survivor took over at 108
    p = node_dir(tmp_path, "primary", samples="95.0 1 1\n95.5 1 1\n")
    s = node_dir(tmp_path, "secondary", JOURNAL_FENCED_AT_110, "100.0 0 0\n108.0 1 1\n108.5 1 1\n")
    clock = tmp_path / "clock.txt"
    clock.write_text("primary 90.0 85.1\nsecondary 90.2 90.3\nprimary 90.4 85.5\nsecondary 90.6 90.6\n")
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
        "--clock-samples",
        str(clock),
    )
    assert facts["clock_offsets"]["primary"] == -4.9
    assert facts["double_export"] is True


def test_pacemaker_takeover_lines_make_the_timeline() -> None:
    """Captured from the lab's san_unplug under Pacemaker 2.1.5: where its stall went (the ping attribute, the
    scheduler, each stop, demote, promote and start); knet's link chatter and the monitors stay out."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "drill" / "pacemaker_san_unplug_journal.txt"
    lines = fixture.read_text().splitlines()
    journal = "\n".join(line for line in lines if line.split()[1] == "secondary")
    events = [e["event"] for e in ev.parse_journal(journal, "secondary", since=0)]
    assert "corosync:   [KNET  ] link: host: 1 link: 0 is down" in events
    assert "pacemaker-attrd:  notice: Setting pingd[secondary]: 1101 -> 0" in events
    assert any(e.startswith("pacemaker-schedulerd:  notice: Actions: Move       export-r0") for e in events)
    assert any("Initiating stop operation export-r0_stop_0" in e for e in events)
    assert any("Initiating promote operation drbd-r0_promote_0 on primary" in e for e in events)
    assert not any("best link" in e or "monitor" in e for e in events), events
