"""playbooks/files/status/ha_san_status.py under Pacemaker: crm_mon --one-shot --output-as=xml captured from
the molecule scenario molecule/pacemaker (tests/unit/fixtures/pacemaker: trixie_* from Pacemaker 3.0 on Debian
13, bookworm_* from Pacemaker 2.1 on Debian 12; the containers name their nodes pcmknode1 and pcmknode2).
DRBD and the clients are the same captures test_status.py uses; only the cluster engine's answers differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_status import R0, client, command, drbd, st

PCMK = Path(__file__).resolve().parents[1] / "fixtures" / "pacemaker"
NAMES = {"san1": "pcmknode1", "san2": "pcmknode2"}
RELEASES = sorted({p.name.split("_", 1)[0] for p in PCMK.glob("*.xml")})


def xml(name: str) -> str:
    return (PCMK / f"{name}.xml").read_text()


def pcmk_server(
    drbd_state: str, exports: bool, mon: str | None, active: str = "active", mon_rc: int = 0
) -> dict[str, Any]:
    """One server's answers as status.yml registers them under Pacemaker."""
    return {
        "pacemaker_active": command(0 if active == "active" else 3, active),
        "crm_mon": command(mon_rc, mon or "", "") if mon is not None else {"skipped": True},
        "drbd": {"results": [drbd(drbd_state)]},
        "export": {
            "results": [command(0, "running", item=R0) if exports else command(3, "stopped", item=R0)]
        },
    }


def facts(san1: dict[str, Any], san2: dict[str, Any]) -> dict[str, Any]:
    return {
        "engine": "pacemaker",
        "node_names": NAMES,
        "resources": [R0],
        "servers": {"san1": san1, "san2": san2},
        "clients": {"client": client()},
    }


def healthy(release: str) -> dict[str, Any]:
    """pcmknode1 (san1) holds the service, both see each other online."""
    mon = xml(f"{release}_healthy")
    return facts(pcmk_server("primary_uptodate", True, mon), pcmk_server("secondary_uptodate", False, mon))


@pytest.mark.parametrize("release", RELEASES)
def test_parse_healthy_capture(release: str) -> None:
    mon = st.parse_crm_mon(xml(f"{release}_healthy"))
    assert mon["error"] is None
    assert mon["nodes"] == {"pcmknode1": "online", "pcmknode2": "online"}
    assert mon["dc"] in ("pcmknode1", "pcmknode2") and mon["quorum"] and mon["stonith_enabled"]
    assert st.running_on(mon, "export-r0") == ["pcmknode1"]
    assert st.running_on(mon, "drbd-r0", st.PCMK_PROMOTED) == ["pcmknode1"]
    assert sorted(st.running_on(mon, "drbd-r0")) == ["pcmknode1", "pcmknode2"]
    assert st.running_on(mon, "service-ip") == ["pcmknode1"]
    assert st.running_on(mon, "fence-pcmknode1") == ["pcmknode2"]
    assert st.running_on(mon, "fence-pcmknode2") == ["pcmknode1"]
    assert mon["failures"] == []


@pytest.mark.parametrize("release", RELEASES)
def test_healthy_pacemaker_pair_is_not_degraded(release: str) -> None:
    report = st.assess(healthy(release), now=0)
    assert report["problems"] == [], report["problems"]
    assert report["engine"] == "pacemaker"
    res = report["resources"][0]
    assert res["holder"] == "san1"
    assert res["pacemaker"]["export_on"] == ["san1"]
    assert res["pacemaker"]["ip_on"] == ["san1"]
    assert res["pacemaker"]["promoted_on"] == ["san1"]
    lines = res["lines"]
    assert lines[1].split()[-1] == "pacemaker"
    assert lines[2].endswith("online, runs export+Promoted+IP, peer san2 online")
    assert lines[3].endswith("online, runs nothing, peer san1 online")
    text = st.textfile(report)
    assert 'ha_san_pacemaker_active{node="san1"} 1' in text
    assert 'ha_san_pacemaker_export_running{resource="r0",node="san1"} 1' in text
    assert "ha_san_heartbeat_active" not in text


def test_pacemaker_disagrees_with_the_exports() -> None:
    """crm_mon says pcmknode2 runs the export (the capture after a move), the resource script says san1."""
    mon = xml("trixie_healthy_on_node2")
    report = st.assess(
        facts(pcmk_server("primary_uptodate", True, mon), pcmk_server("secondary_uptodate", False, mon))
    )
    assert report["resources"][0]["pacemaker"]["export_on"] == ["san2"]
    assert any(
        "Pacemaker runs export-r0 on san2 but the resource script says san1" in p for p in report["problems"]
    )


def test_failed_monitor_restarted_in_place_is_a_failed_action() -> None:
    mon = xml("trixie_export_failed_restarted")
    parsed = st.parse_crm_mon(mon)
    assert st.running_on(parsed, "export-r0") == ["pcmknode2"]
    assert [f["op_key"] for f in parsed["failures"]] == ["export-r0_monitor_3000"]
    # the export runs again (on pcmknode2 = san2, which is Primary here)
    report = st.assess(
        facts(pcmk_server("secondary_uptodate", False, mon), pcmk_server("primary_uptodate", True, mon))
    )
    assert report["degraded"]
    assert len(report["cluster_problems"]) == 1, report["cluster_problems"]
    p = report["cluster_problems"][0]
    assert p.startswith("failed action export-r0_monitor_3000 on san2: Not running")
    assert "crm_resource --cleanup --resource export-r0" in p
    assert report["resources"][0]["problems"] == []


def test_export_that_fails_to_start_everywhere_is_stopped() -> None:
    mon = xml("trixie_export_stopped")
    report = st.assess(
        facts(pcmk_server("primary_uptodate", False, mon), pcmk_server("secondary_uptodate", False, mon))
    )
    res = report["resources"][0]
    assert res["holder"] is None
    assert res["pacemaker"]["export_on"] == [] and res["pacemaker"]["ip_on"] == []
    assert res["pacemaker"]["promoted_on"] == ["san1"]
    assert any(p.startswith("Pacemaker runs export-r0 nowhere (stopped)") for p in res["problems"])
    assert any(p.startswith("Pacemaker runs service-ip nowhere") for p in res["problems"])
    failed = [p for p in report["cluster_problems"] if p.startswith("failed action export-r0_start_0")]
    assert len(failed) == 2  # on both nodes
    assert "NOT SERVED" in res["lines"][0]


def test_peer_pacemaker_stopped_corosync_still_up() -> None:
    """systemctl stop pacemaker on pcmknode2: pcmknode1 sees it pending, its own crm_mon cannot connect."""
    report = st.assess(
        facts(
            pcmk_server("primary_uptodate", True, xml("trixie_node2_stopped")),
            pcmk_server(
                "secondary_uptodate",
                False,
                xml("trixie_pacemaker_not_running"),
                active="inactive",
                mon_rc=102,
            ),
        )
    )
    cp = report["cluster_problems"]
    assert any(p.startswith("Pacemaker on san1 sees san2 pending, not online") for p in cp), cp
    assert any(p.startswith("Pacemaker is not running on san2") for p in cp), cp
    # fence-pcmknode1 may only run on pcmknode2: nobody can fence pcmknode1 now
    assert any(p.startswith("fence device fence-pcmknode1 is stopped") for p in cp), cp
    res = report["resources"][0]
    assert res["holder"] == "san1" and res["pacemaker"]["export_on"] == ["san1"]
    assert res["lines"][3].endswith("  inactive")


def test_crm_mon_error_is_reported_when_pacemaker_claims_to_run() -> None:
    report = st.assess(
        facts(
            pcmk_server("primary_uptodate", True, xml("trixie_healthy")),
            pcmk_server("secondary_uptodate", False, xml("trixie_pacemaker_not_running"), mon_rc=102),
        )
    )
    assert (
        "cannot read Pacemaker's status on san2 (crm_mon): crm_mon: Connection to cluster failed: "
        "Connection refused"
    ) in report["cluster_problems"]
    assert report["resources"][0]["lines"][3].endswith("active, crm_mon: ?")


@pytest.mark.parametrize("release", RELEASES)
def test_peer_offline(release: str) -> None:
    report = st.assess(
        facts(
            pcmk_server("primary_uptodate", True, xml(f"{release}_node2_offline")),
            pcmk_server("secondary_uptodate", False, None, active="inactive"),
        )
    )
    assert "Pacemaker on san1 sees san2 offline, not online" in report["cluster_problems"]
    assert report["degraded"]


def test_unreachable_server_under_pacemaker() -> None:
    f = healthy("trixie")
    f["servers"]["san2"] = {"pacemaker_active": {"unreachable": True, "msg": "Failed to connect"}}
    report = st.assess(f)
    assert "san2 did not answer (Failed to connect)" in report["problems"]
    assert report["resources"][0]["pacemaker"]["export_on"] == ["san1"]


def test_leftover_cli_ban_is_a_problem() -> None:
    mon = xml("trixie_healthy").replace(
        "<bans>",
        '<bans>\n    <ban id="cli-ban-export-r0-on-pcmknode2" resource="export-r0" node="pcmknode2" '
        'weight="-1000000" promoted-only="false" master_only="false"/>',
    )
    report = st.assess(
        facts(pcmk_server("primary_uptodate", True, mon), pcmk_server("secondary_uptodate", False, mon))
    )
    assert report["cluster_problems"] == [
        "constraint cli-ban-export-r0-on-pcmknode2 (left by crm_resource --ban or --move) keeps export-r0 "
        "off san2: `crm_resource --clear --resource export-r0`"
    ]


def test_not_crm_mon_xml() -> None:
    with pytest.raises(ValueError):
        st.parse_crm_mon("<cib/>")
    with pytest.raises(ValueError):
        st.parse_crm_mon("Connection to cluster failed")


def test_heartbeat_facts_give_the_report_as_before() -> None:
    """No engine in the facts is Heartbeat: no engine key, the heartbeat column."""
    from test_status import healthy as hb_healthy

    report = st.assess(hb_healthy(), now=0)
    assert "engine" not in report
    assert report["resources"][0]["lines"][1].split()[-1] == "heartbeat"
    assert "pacemaker" not in report["resources"][0]


def test_crm_mon_mode_prints_the_parsed_xml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """switchover.yml's use: --crm-mon FILE prints what crm_mon said as JSON; exit 2 on anything else."""
    import json

    path = tmp_path / "mon.xml"
    path.write_text(xml("trixie_node2_offline"))
    assert st.main(["--crm-mon", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["nodes"] == {"pcmknode1": "online", "pcmknode2": "offline"}
    assert out["failures"] == [] and out["error"] is None
    path.write_text("Connection to cluster failed")
    assert st.main(["--crm-mon", str(path)]) == 2
