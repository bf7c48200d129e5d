"""The drill's verdict (ha_san_verdict.py, ha_san_report.py verdict): one test per reason, and a passing
drill of every kind of fault in faults.json (fault, planned, blind, outage, and one whose undo moves the
service: ends_on)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

DRILL = Path(__file__).resolve().parents[3] / "playbooks" / "files" / "drill"
TABLE: dict[str, dict[str, Any]] = {
    k: v for k, v in json.loads((DRILL / "faults.json").read_text()).items() if not k.startswith("_")
}
VICTIM, SURVIVOR = "srv1", "srv2"
# DRBD's kernel log lines as the timeline carries them (node clocks already aligned)
OUTDATED_PEER = "kernel: drbd r0: pdsk( UpToDate -> Outdated )"
OUTDATED_SELF = "kernel: block drbd0: disk( UpToDate -> Outdated )"
PROMOTED = "kernel: drbd r0: role( Secondary -> Primary )"


def report(fault: str, events: Sequence[tuple[str, str]] = (), **kw: Any) -> dict[str, Any]:
    """A report of a clean drill of ``fault``; ``events`` are (node, event) after the fault."""
    r: dict[str, Any] = {
        "fault": fault,
        "stall_s": 9.3,
        "acked": 1000,
        "lost": 0,
        "split_brain": {"detected": False, "resolved": None, "how": None},
        "double_export": False,
        "fenced": [],
        "timeline": [{"t": 100.0, "t_rel": 0.0, "node": "drill", "event": f"fault {fault}"}]
        + [{"t": 101.0 + i, "t_rel": 1.0 + i, "node": n, "event": e} for i, (n, e) in enumerate(events)],
    }
    r.update(kw)
    return r


def drbd(primary: str, conn: str = "Connected", other_conn: str = "Connected") -> dict[str, dict[str, Any]]:
    """Both servers' DRBD state after the rejoin, ``primary`` holding the resource."""
    other = SURVIVOR if primary == VICTIM else VICTIM
    return {
        primary: {
            "role": "Primary",
            "connection_state": conn,
            "disk_state": "UpToDate",
            "peer_disk_state": "UpToDate",
        },
        other: {
            "role": "Secondary",
            "connection_state": other_conn,
            "disk_state": "UpToDate",
            "peer_disk_state": "UpToDate",
        },
    }


def judge(
    verdict: ModuleType,
    rep: dict[str, Any],
    drbd_after: dict[str, dict[str, Any]],
    observations: dict[str, Any] | None = None,
    fault: dict[str, Any] | None = None,
    fault_name: str | None = None,
) -> tuple[bool, list[str]]:
    return verdict.judge(
        rep,
        TABLE.get(rep["fault"], {}) if fault is None else fault,
        victim=VICTIM,
        survivor=SURVIVOR,
        drbd_after=drbd_after,
        observations=observations or {},
        fault_name=fault_name,
    )


def only(verdict: ModuleType, *args: Any, **kw: Any) -> str:
    """The one reason the drill failed for."""
    passed, reasons = judge(verdict, *args, **kw)
    assert not passed and len(reasons) == 1, reasons
    return reasons[0]


# --- a passing drill of every kind ----------------------------------------------------------------------
def test_the_table_has_every_kind_the_verdict_knows() -> None:
    kinds = {v["kind"] for v in TABLE.values()}
    assert kinds == {"fault", "planned", "blind", "outage"}
    assert TABLE["crash"]["kind"] == "fault" and TABLE["crash"]["service"] == "moves"
    assert TABLE["switchover"]["kind"] == "planned" and TABLE["ping_node_down"]["kind"] == "blind"
    assert TABLE["double_fault"]["kind"] == "outage" and TABLE["disk_fail"]["ends_on"] == "survivor"
    assert TABLE["client_reboot"]["victim"] == "client" and TABLE["client_reboot"]["service"] == "stays"


@pytest.mark.parametrize(
    ("fault", "holder", "events", "observations"),
    [
        ("crash", SURVIVOR, [(SURVIVOR, PROMOTED)], {}),  # kind fault, the service moves
        ("export_kill", VICTIM, [], {}),  # kind fault, the service stays
        ("replication_unplug", VICTIM, [(VICTIM, OUTDATED_PEER)], {}),
        ("switchover", SURVIVOR, [(SURVIVOR, PROMOTED)], {}),  # planned
        ("ping_node_down", VICTIM, [], {"victim_export_rc": 0}),  # blind
        # outage: the survivor stayed Secondary; the victim's own promotion when it is booted is fine
        ("double_fault", VICTIM, [(VICTIM, PROMOTED)], {"survivor_role": "Secondary"}),
        ("disk_fail", SURVIVOR, [(SURVIVOR, PROMOTED)], {}),  # service stays, ends_on survivor
    ],
)
def test_a_clean_drill_of_each_kind_passes(
    verdict: ModuleType, fault: str, holder: str, events: list[tuple[str, str]], observations: dict[str, Any]
) -> None:
    assert judge(verdict, report(fault, events), drbd(holder), observations, fault_name=fault) == (True, [])


def test_where_the_service_ends(verdict: ModuleType) -> None:
    assert verdict.ends_on(TABLE["crash"]) == "survivor"
    assert verdict.ends_on(TABLE["export_kill"]) == "victim"
    assert verdict.ends_on(TABLE["disk_fail"]) == "survivor"  # ends_on wins over service: stays
    assert verdict.ends_on({}) == "survivor"  # a fault of the user's own, not in the table: it moves


def test_a_fault_the_table_does_not_know_is_judged_as_a_fault_whose_service_moves(
    verdict: ModuleType,
) -> None:
    assert judge(verdict, report("my_ipmi_off"), drbd(SURVIVOR), fault={}) == (True, [])
    assert "not on srv2" in only(verdict, report("my_ipmi_off"), drbd(VICTIM), fault={})


def targets(*rows: tuple[str, int, int, int | None]) -> list[dict[str, Any]]:
    """The report's ``targets``: (target, acked, lost, acks after the client's boot or None)."""
    return [
        {"target": t, "acked": a, "lost": lost, "stall_s": 9.3, "stall_open": False, "after_boot_acked": b}
        for t, a, lost, b in rows
    ]


E03, E04 = "/dev/etherd/e0.3", "/dev/etherd/e0.4"


def test_a_clean_client_reboot_passes_on_every_target(verdict: ModuleType) -> None:
    """The servers are untouched: the Primary keeps the service, and the client wrote again after its boot."""
    rep = report("client_reboot", targets=targets((E03, 600, 0, 180), (E04, 400, 0, 170)))
    assert judge(verdict, rep, drbd(VICTIM), fault_name="client_reboot") == (True, [])


# --- one test per reason ---------------------------------------------------------------------------------
def test_a_client_that_wrote_nothing_after_its_boot(verdict: ModuleType) -> None:
    rep = report("client_reboot", targets=targets((E03, 600, 0, 180), (E04, 400, 0, 0)))
    assert only(verdict, rep, drbd(VICTIM)) == (
        "the client wrote nothing to /dev/etherd/e0.4 after its boot: it did not find the export again, "
        "or its writes failed"
    )
    # no writer started after the boot at all (its log is missing) counts the same
    rep = report("client_reboot", targets=targets((E03, 1000, 0, None)))
    assert only(verdict, rep, drbd(VICTIM)).startswith("the client wrote nothing to /dev/etherd/e0.3 after")
    # a report without targets cannot show the writes after the boot
    assert only(verdict, report("client_reboot"), drbd(VICTIM)).startswith("the client wrote nothing to its")
    # faults that leave the client up ask for no write after a boot
    assert judge(verdict, report("crash", targets=targets((E03, 1000, 0, None))), drbd(SURVIVOR))[0]


def test_a_lost_block_on_one_of_several_targets(verdict: ModuleType) -> None:
    rep = report("crash", acked=1000, lost=3, targets=targets((E03, 600, 0, None), (E04, 400, 3, None)))
    assert only(verdict, rep, drbd(SURVIVOR)) == (
        "3 of 1000 acknowledged blocks were lost (/dev/etherd/e0.3: 0 of 600; /dev/etherd/e0.4: 3 of 400)"
    )
    # one target: the figures are the drill's, said once
    rep = report("crash", lost=3, targets=targets((E03, 1000, 3, None)))
    assert only(verdict, rep, drbd(SURVIVOR)) == "3 of 1000 acknowledged blocks were lost"


def test_a_target_whose_writer_acknowledged_nothing(verdict: ModuleType) -> None:
    rep = report("crash", targets=targets((E03, 1000, 0, None), (E04, 0, 0, None)))
    assert only(verdict, rep, drbd(SURVIVOR)) == (
        "no block was acknowledged on /dev/etherd/e0.4: nothing was tested there"
    )


def test_the_headline_gives_each_target_when_there_are_several(verdict: ModuleType) -> None:
    rep = report("crash", targets=targets((E03, 600, 0, None), (E04, 400, 0, None)))
    assert verdict.headline(rep, True) == (
        "Drill crash passed: lost 0 of 1000 acknowledged blocks (/dev/etherd/e0.3: 0 of 600; "
        "/dev/etherd/e0.4: 0 of 400), stall 9.30 s"
    )
    one = report("crash", targets=targets((E03, 1000, 0, None)))
    assert (
        verdict.headline(one, True) == "Drill crash passed: lost 0 of 1000 acknowledged blocks, stall 9.30 s"
    )


def test_a_report_of_another_fault(verdict: ModuleType) -> None:
    reason = only(verdict, report("crash"), drbd(SURVIVOR), fault_name="partition")
    assert reason == "the report is of the fault 'crash', but the drill injected 'partition'"


def test_a_lost_block(verdict: ModuleType) -> None:
    reason = only(verdict, report("crash", lost=3), drbd(SURVIVOR))
    assert reason == "3 of 1000 acknowledged blocks were lost"


def test_nothing_acknowledged(verdict: ModuleType) -> None:
    reason = only(verdict, report("crash", acked=0), drbd(SURVIVOR))
    assert reason.startswith("no block was acknowledged")


def test_a_split_brain_left_unresolved(verdict: ModuleType) -> None:
    for sb in ({"detected": True, "resolved": False, "how": None}, {"detected": True, "resolved": None}):
        reason = only(verdict, report("partition", split_brain=sb), drbd(SURVIVOR))
        assert reason.startswith("a split brain was left unresolved")
    resolved = {"detected": True, "resolved": True, "how": "after-sb-1pri discard-secondary"}
    assert judge(verdict, report("partition", split_brain=resolved), drbd(SURVIVOR)) == (True, [])


def test_a_double_export(verdict: ModuleType) -> None:
    reason = only(verdict, report("partition", double_export=True), drbd(SURVIVOR))
    assert reason == "the export ran on both servers at once (double export)"


def test_a_server_not_connected_after_the_rejoin(verdict: ModuleType) -> None:
    reason = only(verdict, report("crash"), drbd(SURVIVOR, other_conn="StandAlone"))
    assert reason == (
        "DRBD did not rejoin Connected on both servers after the drill: "
        "srv2 Connected UpToDate/UpToDate, srv1 StandAlone UpToDate/UpToDate"
    )
    # a server that never came back has no state at all
    alone = {SURVIVOR: drbd(SURVIVOR)[SURVIVOR]}
    reason = only(verdict, report("crash"), alone)
    assert reason.endswith("srv2 Connected UpToDate/UpToDate, srv1 unknown unknown/unknown")


def test_a_blind_victim_that_lost_the_export(verdict: ModuleType) -> None:
    reason = only(verdict, report("ping_node_down"), drbd(VICTIM), {"victim_export_rc": 1})
    assert reason.startswith("the victim srv1 did not keep the export while both sides were blind")
    # not observed (the check was skipped): as the playbook's assert did, no reason
    assert judge(verdict, report("ping_node_down"), drbd(VICTIM), {"victim_export_rc": None}) == (True, [])


def test_a_replication_cut_that_outdated_no_disk(verdict: ModuleType) -> None:
    reason = only(verdict, report("replication_unplug"), drbd(VICTIM))
    assert reason.startswith("no disk was marked Outdated while the replication link was cut")
    # the Secondary's own line counts as well as the Primary's view of its peer
    assert judge(verdict, report("replication_unplug", [(SURVIVOR, OUTDATED_SELF)]), drbd(VICTIM))[0]
    # words that only look like it do not
    near = [
        (VICTIM, "pdsk( UpToDate -> Outdated)"),
        (VICTIM, "peer disk Outdated"),
        (VICTIM, "pdsk(->Outdated)"),
    ]
    assert not judge(verdict, report("replication_unplug", near), drbd(VICTIM))[0]
    # other faults need no Outdated line
    assert judge(verdict, report("export_kill"), drbd(VICTIM)) == (True, [])


def test_the_service_on_the_wrong_server(verdict: ModuleType) -> None:
    reason = only(verdict, report("crash"), drbd(VICTIM))
    assert reason == (
        "the service is not on srv2, the survivor, where the fault table says it ends (DRBD roles after the "
        "drill: {'srv1': 'Primary', 'srv2': 'Secondary'})"
    )
    assert "not on srv1, the victim" in only(verdict, report("export_kill"), drbd(SURVIVOR))
    assert "not on srv2, the survivor" in only(verdict, report("disk_fail"), drbd(VICTIM))
    # nobody Primary
    after = drbd(VICTIM)
    after[VICTIM]["role"] = "Secondary"
    assert "not on srv1, the victim" in only(verdict, report("export_kill"), after)


def test_an_outage_survivor_not_secondary_at_the_end_of_the_hold(verdict: ModuleType) -> None:
    for seen in ("Primary", None, ""):
        reason = only(verdict, report("double_fault"), drbd(VICTIM), {"survivor_role": seen})
        assert reason.startswith(
            f"the survivor srv2 was not Secondary at the end of the hold (drbdadm role said {seen!r})"
        )
    # drbd 8.4 prints both roles: the local one comes first
    assert judge(verdict, report("double_fault"), drbd(VICTIM), {"survivor_role": "Secondary/Unknown"})[0]


def test_an_outage_survivor_that_logged_a_promotion(verdict: ModuleType) -> None:
    rep = report(
        "double_fault", [(SURVIVOR, PROMOTED), (SURVIVOR, "kernel: drbd r0: role( Primary -> Secondary )")]
    )
    reason = only(verdict, rep, drbd(VICTIM), {"survivor_role": "Secondary"})
    assert reason == f"the survivor srv2 was promoted with an outdated disk: it logged {PROMOTED!r}"
    # only outage faults forbid it: a crash promotes the survivor by design
    assert judge(verdict, report("crash", [(SURVIVOR, PROMOTED)]), drbd(SURVIVOR)) == (True, [])


def test_every_reason_at_once(verdict: ModuleType) -> None:
    rep = report(
        "double_fault",
        [(SURVIVOR, PROMOTED)],
        lost=5,
        split_brain={"detected": True, "resolved": False},
        double_export=True,
    )
    passed, reasons = judge(verdict, rep, drbd(SURVIVOR, other_conn="WFConnection"), {"victim_export_rc": 2})
    assert not passed and len(reasons) == 8, reasons


# --- the command line ------------------------------------------------------------------------------------
def run_cli(
    reporter: ModuleType, tmp_path: Path, rep: dict[str, Any], after: dict[str, Any], obs: Any, *extra: str
) -> int:
    (tmp_path / "report.json").write_text(json.dumps(rep))
    (tmp_path / "drbd_after.json").write_text(json.dumps(after))
    (tmp_path / "observations.json").write_text(json.dumps(obs))
    return int(
        reporter.main(
            [
                "verdict",
                "--report",
                str(tmp_path / "report.json"),
                "--fault-table",
                str(DRILL / "faults.json"),
                "--victim",
                VICTIM,
                "--survivor",
                SURVIVOR,
                "--drbd-after",
                str(tmp_path / "drbd_after.json"),
                "--observations",
                str(tmp_path / "observations.json"),
                "--out",
                str(tmp_path / "verdict.json"),
                *extra,
            ]
        )
    )


def test_cli_passes_a_clean_drill(
    reporter: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    obs = {"victim_export_rc": None, "survivor_role": "Secondary"}
    assert (
        run_cli(reporter, tmp_path, report("double_fault"), drbd(VICTIM), obs, "--fault", "double_fault") == 0
    )
    assert (
        capsys.readouterr().out
        == "Drill double_fault passed: lost 0 of 1000 acknowledged blocks, stall 9.30 s\n"
    )
    assert json.loads((tmp_path / "verdict.json").read_text()) == {
        "fault": "double_fault",
        "passed": True,
        "reasons": [],
        "victim": VICTIM,
        "survivor": SURVIVOR,
        "ends_on": "victim",
    }


def test_cli_prints_every_reason_and_exits_1(
    reporter: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = run_cli(reporter, tmp_path, report("crash", lost=2, double_export=True), drbd(VICTIM), {})
    out = capsys.readouterr().out.splitlines()
    assert rc == 1
    assert out[0] == "Drill crash FAILED: lost 2 of 1000 acknowledged blocks, stall 9.30 s"
    assert out[1:] == [
        "- 2 of 1000 acknowledged blocks were lost",
        "- the export ran on both servers at once (double export)",
        "- the service is not on srv2, the survivor, where the fault table says it ends "
        "(DRBD roles after the drill: {'srv1': 'Primary', 'srv2': 'Secondary'})",
    ]
    saved = json.loads((tmp_path / "verdict.json").read_text())
    assert saved["passed"] is False and saved["reasons"] == [line[2:] for line in out[1:]]


def test_cli_refuses_bad_inputs_with_2(
    reporter: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(reporter, tmp_path, report("crash"), drbd(SURVIVOR), {"survivor_roles": "Secondary"}) == 2
    assert "found ['survivor_roles']" in capsys.readouterr().err
    assert run_cli(reporter, tmp_path, report("crash"), [], {}) == 2
    (tmp_path / "bad.json").write_text("{")
    assert (
        run_cli(
            reporter, tmp_path, report("crash"), drbd(SURVIVOR), {}, "--report", str(tmp_path / "bad.json")
        )
        == 2
    )
    assert "verdict:" in capsys.readouterr().err
