"""playbooks/files/status/ha_san_status.py: the verdict of status.yml on what the servers and clients said.

The inputs are built the way status.yml gets them: the DRBD answers by the collection's own parsers from
output captured on the lab VMs (tests/unit/fixtures/drbd, the same path ha_san.aoe.drbdadm takes for
DRBD 8.4), the clients' targets from captured sysfs (tests/unit/fixtures/aoe), wrapped as Ansible
registers loop results (item = the resource). Only "Secondary Outdated" is laid out by hand: no capture
holds the fenced Secondary's own view.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "unit" / "fixtures"


def _collections_root() -> Path:
    """Where ansible_collections.ha_san.aoe resolves to this checkout (as tests/unit/plugins/conftest.py)."""
    root = REPO / ".collections"
    if (root / "ansible_collections" / "ha_san" / "aoe" / "plugins").is_dir():
        return root
    tmp = Path(tempfile.mkdtemp(prefix="ha_san-collections-"))
    (tmp / "ansible_collections" / "ha_san").mkdir(parents=True)
    os.symlink(REPO, tmp / "ansible_collections" / "ha_san" / "aoe")
    return tmp


if str(_collections_root()) not in sys.path:
    sys.path.insert(0, str(_collections_root()))

from ansible_collections.ha_san.aoe.plugins.module_utils.aoe_targets import (  # noqa: E402
    targets_from_sysfs,
)
from ansible_collections.ha_san.aoe.plugins.module_utils.drbd_status import (  # noqa: E402
    parse_status_text,
    summarize,
    with_dstate,
)


def _load() -> ModuleType:
    path = REPO / "playbooks" / "files" / "status" / "ha_san_status.py"
    spec = importlib.util.spec_from_file_location("ha_san_status", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["ha_san_status"] = mod
    spec.loader.exec_module(mod)
    return mod


st = _load()

R0 = {
    "name": "r0",
    "device": "/dev/drbd0",
    "minor": 0,
    "disk": "/dev/vdb",
    "port": 7789,
    "shelf": 0,
    "slot": 3,
}
R1 = {
    "name": "r1",
    "device": "/dev/drbd1",
    "minor": 1,
    "disk": "/dev/vdc",
    "port": 7790,
    "shelf": 0,
    "slot": 4,
}


# -- what each host answers, as Ansible registers it ---------------------------------------------------------
def _capture(state: str) -> dict[str, str]:
    doc = json.loads((FIXTURES / "drbd" / f"{state}.json").read_text())
    out = {}
    for r in doc["results"]:
        argv = r.get("argv") or []
        if argv[1:2] in (["status"], ["dstate"]):
            out[argv[1]] = r["stdout"]
    return out


def drbd(
    state: str | None = None, res: dict[str, Any] | None = None, status: str = "", dstate: str = ""
) -> dict:
    """ha_san.aoe.drbdadm state=status's result for one loop item, as the module computes it on 8.4."""
    res = R0 if res is None else res
    if state:
        cap = _capture(state)
        status, dstate = cap["status"], cap["dstate"]
    status = status.replace("r0", res["name"])
    summary = summarize(parse_status_text(status).get(res["name"]))
    if summary["up"] and summary["connection_state"] != "Connected":
        summary = with_dstate(summary, dstate)
    return {
        "changed": False,
        "failed": False,
        "resource": res["name"],
        "commands": [],
        "drbd_version": "8.4.11",
        **summary,
        "item": res,
        "ansible_loop_var": "item",
        "invocation": {"module_args": {"name": res["name"], "state": "status"}},
    }


def command(rc: int, stdout: str = "", stderr: str = "", item: Any = None) -> dict:
    r = {"changed": False, "failed": False, "rc": rc, "stdout": stdout, "stderr": stderr, "cmd": ["..."]}
    r["stdout_lines"] = stdout.splitlines()
    if item is not None:
        r.update(item=item, ansible_loop_var="item")
    return r


def server(
    drbd_results: list[dict],
    running: dict[str, bool],
    peer: str,
    holds: str = "none",
    active: str = "active",
    peer_status: str = "active",
    home: tuple[str, str] | None = None,
) -> dict:
    """One server's answers; HOME = (haresources' home node, this node's name) when the test gives them."""
    resources = [r["item"] for r in drbd_results]
    hb_up = active == "active"
    where = {"home": command(0, home[0] + "\n"), "node_name": home[1]} if home else {}
    return {
        **where,
        "heartbeat_active": command(0 if hb_up else 3, active),
        "rscstatus": command(0, holds)
        if hb_up
        else command(1, "", "Heartbeat is stopped or not responding."),
        "peers": {
            "results": [
                command(0, peer_status, item=peer) if hb_up else command(1, "", "not responding", item=peer)
            ]
        },
        "drbd": {"results": drbd_results, "changed": False},
        "export": {
            "results": [
                command(0, "running", item=r) if running[r["name"]] else command(3, "stopped", item=r)
                for r in resources
            ]
        },
    }


def client(state: str = "one_target", rename: dict[str, str] | None = None) -> dict:
    """ha_san.aoe.aoe_stat's result from captured sysfs; the capture's e7.N renamed to our targets."""
    doc = json.loads((FIXTURES / "aoe" / f"{state}.json").read_text())
    entries = next(r["entries"] for r in doc["results"] if "sysfs" in r)
    rename = rename if rename is not None else {"e7.1": "e0.3"}
    entries = {"etherd!" + rename.get(k[7:], k[7:]): v for k, v in entries.items()}
    targets = targets_from_sysfs(entries)
    return {"aoe": {"changed": False, "targets": targets, "discovered": False}}


def unreachable(
    msg: str = "Task failed: Failed to connect to the host via ssh: Connection timed out",
) -> dict:
    skipped = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}
    return {
        "heartbeat_active": {"unreachable": True, "msg": msg, "changed": False},
        "rscstatus": skipped,
        "peers": {"results": [{**skipped, "item": "primary"}]},
        "drbd": {"results": [{**skipped, "item": R0}]},
        "export": {"results": [{**skipped, "item": R0}]},
    }


def healthy(**override: Any) -> dict:
    facts = {
        "resources": [R0],
        "servers": {
            "primary": server([drbd("primary_uptodate")], {"r0": True}, "secondary", holds="all"),
            "secondary": server([drbd("secondary_uptodate")], {"r0": False}, "primary"),
        },
        "clients": {"client": client()},
    }
    facts.update(override)
    return facts


def problems_of(facts: dict) -> list[str]:
    degraded, problems, _lines = st.verdict(facts)
    assert degraded == bool(problems)
    return problems


# -- the cases -----------------------------------------------------------------------------------------------
def test_healthy_pair_is_not_degraded_and_prints_one_line_per_host() -> None:
    degraded, problems, lines = st.verdict(healthy())
    assert (degraded, problems) == (False, [])
    assert lines[0] == "r0 = e0.3 (/dev/drbd0) OK, served by primary"
    assert lines[1] == (
        "node       drbd role  peer role  disk      peer disk  connection  sync  export   heartbeat"
    )
    assert lines[2].split()[:8] == [
        "primary", "Primary", "Secondary", "UpToDate", "UpToDate", "Connected", "100%", "running",
    ]  # fmt: skip
    assert "holds all, peer secondary active" in lines[2]
    assert lines[3].split()[:8] == [
        "secondary", "Secondary", "Primary", "UpToDate", "UpToDate", "Connected", "100%", "stopped",
    ]  # fmt: skip
    assert lines[4] == "client     AoE client, sees e0.3 up on eth1 from 52:54:00:5a:01:01"
    assert len(lines) == 5
    # aligned columns: every server line's "connection" column starts where the header's does
    col = lines[1].index("connection")
    assert lines[2][col:].startswith("Connected") and lines[3][col:].startswith("Connected")


def test_lines_print_as_plain_yaml_scalars() -> None:
    """No leading space or YAML indicator, no trailing space: the callbacks print them as they are."""
    for facts in (healthy(), _split_brain()):
        for line in st.verdict(facts)[2]:
            assert line == line.strip() and line[0] not in "-?:,[]{}#&*!|>'\"%@`"


def _split_brain() -> dict:
    return healthy(
        servers={
            "primary": server([drbd("standalone_split_brain")], {"r0": True}, "secondary", holds="all"),
            "secondary": server([drbd("split_brain_victim")], {"r0": False}, "primary"),
        }
    )


def test_split_brain_both_standalone() -> None:
    problems = problems_of(_split_brain())
    assert len(problems) == 1, problems
    assert problems[0].startswith("DRBD r0 on primary and secondary is StandAlone")
    assert "`drbdadm connect --discard-my-data r0`" in problems[0]


def test_secondary_outdated_after_the_replication_link_was_cut() -> None:
    outdated = drbd(
        status="r0 role:Secondary\n  disk:Outdated\n  peer connection:Connecting\n\n",
        dstate="Outdated/DUnknown\n",
    )
    facts = healthy(
        servers={
            "primary": server([drbd("peer_outdated")], {"r0": True}, "secondary", holds="all"),
            "secondary": server([outdated], {"r0": False}, "primary"),
        }
    )
    problems = problems_of(facts)
    assert problems == [
        "DRBD r0 on primary and secondary is waiting for its peer (Connecting): the peer or the replication "
        "link is down",
        "the disk of r0 on secondary is Outdated: it missed writes while disconnected and cannot take over; "
        "it resyncs once Connected",
    ]
    lines = st.verdict(facts)[2]
    assert lines[0] == "r0 = e0.3 (/dev/drbd0) DEGRADED, served by primary"
    assert lines[2].split()[:6] == ["primary", "Primary", "Unknown", "UpToDate", "Outdated", "Connecting"]
    assert lines[-2].startswith("PROBLEM DRBD r0 on primary and secondary is waiting")


def test_double_export() -> None:
    facts = healthy()
    facts["servers"]["secondary"] = server([drbd("secondary_uptodate")], {"r0": True}, "primary")
    problems = problems_of(facts)
    assert problems == [
        "e0.3 is exported by primary and secondary at once: a double export. Stop it on the DRBD Secondary "
        "now: `/etc/ha.d/resource.d/ha_san-aoe-export r0 stop`"
    ]


def test_export_on_the_secondary_only_and_none_on_the_primary() -> None:
    facts = healthy()
    facts["servers"]["primary"] = server([drbd("primary_uptodate")], {"r0": False}, "secondary", holds="all")
    facts["servers"]["secondary"] = server([drbd("secondary_uptodate")], {"r0": True}, "primary")
    problems = problems_of(facts)
    assert problems[0] == "secondary exports e0.3 but is not DRBD Primary for r0"
    assert problems[1].startswith("the DRBD Primary primary does not export e0.3 (resource script: stopped)")
    assert st.verdict(facts)[2][0] == "r0 = e0.3 (/dev/drbd0) DEGRADED, NOT SERVED"


def test_client_sees_the_target_down() -> None:
    problems = problems_of(healthy(clients={"client": client("target_down")}))
    assert problems == ["client client sees e0.3 down, not up"]


def test_client_does_not_see_the_target() -> None:
    problems = problems_of(healthy(clients={"client": client("no_targets")}))
    assert len(problems) == 1 and problems[0].startswith("client client does not see e0.3")


def test_client_without_the_aoe_driver_or_unreachable() -> None:
    no_driver = {
        "aoe": {"failed": False, "msg": "The aoe kernel driver is not loaded (no /sys/module/aoe): ..."}
    }
    gone = {"aoe": {"unreachable": True, "msg": "Failed to connect to the host via ssh: Connection refused"}}
    problems = problems_of(healthy(clients={"c1": no_driver, "c2": gone}))
    assert problems == [
        "client c1: cannot list AoE targets: The aoe kernel driver is not loaded (no /sys/module/aoe): ...",
        "client c2 did not answer (Failed to connect to the host via ssh: Connection refused)",
    ]


def test_sync_in_progress_says_resyncing_and_its_percentage() -> None:
    facts = healthy(
        servers={
            "primary": server([drbd("sync_source")], {"r0": True}, "secondary", holds="all"),
            "secondary": server([drbd("sync_target")], {"r0": False}, "primary"),
        }
    )
    degraded, problems, lines = st.verdict(facts)
    assert degraded
    # one problem for the pair, and no "Inconsistent" one for the SyncTarget's disk
    assert problems == [
        "r0 is resyncing 4.36% (primary is SyncSource): the Secondary cannot take over until it is UpToDate"
    ]
    assert lines[2].split()[:7] == [
        "primary",
        "Primary",
        "Secondary",
        "UpToDate",
        "Inconsistent",
        "Connected",
        "4.36%",
    ]
    assert lines[3].split()[3:7] == ["Inconsistent", "UpToDate", "Connected", "6.98%"]


def test_no_primary() -> None:
    facts = healthy()
    facts["servers"]["primary"] = server([drbd("both_secondary")], {"r0": False}, "secondary")
    problems = problems_of(facts)
    assert problems[0] == "no server is DRBD Primary for r0: the service is down"


def test_inconsistent_without_a_resync_and_diskless() -> None:
    facts = healthy()
    facts["servers"]["secondary"] = server([drbd("diskless")], {"r0": False}, "primary")
    problems = problems_of(facts)
    assert problems == [
        "the disk of r0 on secondary is Diskless: detached from its backing disk (an I/O error?): check it, "
        "then `drbdadm attach r0`"
    ]


def test_heartbeat_stopped_on_the_secondary() -> None:
    facts = healthy()
    facts["servers"]["secondary"] = server(
        [drbd("secondary_uptodate")], {"r0": False}, "primary", active="inactive"
    )
    _degraded, problems, lines = st.verdict(facts)
    assert problems == [
        "Heartbeat is not running on secondary (systemctl is-active heartbeat says inactive): nothing would "
        "take over; `systemctl start heartbeat`"
    ]
    assert lines[3].endswith("stopped  inactive")
    assert lines[-1].startswith("PROBLEM Heartbeat is not running on secondary")


def test_heartbeat_peer_dead_and_in_transition() -> None:
    facts = healthy()
    facts["servers"]["primary"] = server(
        [drbd("primary_uptodate")], {"r0": True}, "secondary", holds="transition", peer_status="dead"
    )
    assert problems_of(facts) == [
        "Heartbeat on primary sees its peer secondary as dead, not active",
        "Heartbeat on primary is moving resources (transition)",
    ]


def test_heartbeat_disagrees_with_drbd_about_the_holder() -> None:
    facts = healthy()
    facts["servers"]["primary"] = server([drbd("primary_uptodate")], {"r0": True}, "secondary", holds="none")
    facts["servers"]["secondary"] = server(
        [drbd("secondary_uptodate")], {"r0": False}, "primary", holds="all"
    )
    assert problems_of(facts) == [
        "Heartbeat on primary holds no resources (none) although DRBD is Primary there",
        "Heartbeat on secondary holds resources (all) although DRBD is Secondary there",
    ]


def test_a_server_that_does_not_answer() -> None:
    facts = healthy()
    facts["servers"]["secondary"] = unreachable()
    _degraded, problems, lines = st.verdict(facts)
    # (the Primary's view would say Connecting too; the capture used here is the connected one)
    assert problems == [
        "secondary did not answer (Failed to connect to the host via ssh: Connection timed out)"
    ]
    assert (
        lines[3] == "secondary  did not answer (Failed to connect to the host via ssh: Connection timed out)"
    )
    assert lines[2].startswith("primary    Primary")  # the node column is as wide as the longest name


def test_a_server_missing_from_the_facts_and_a_drbd_error() -> None:
    facts = healthy()
    del facts["servers"]["secondary"]
    facts["servers"]["secondary"] = None
    failed = {
        "failed": False,
        "msg": "DRBD resource 'r0' is not defined for this host in the DRBD configuration; resources "
        "configured here: none.",
        "resource": "r0",
        "commands": [],
        "item": R0,
    }
    facts["servers"]["primary"] = server([failed], {"r0": False}, "secondary", holds="all")
    problems = problems_of(facts)
    assert problems[0].startswith("cannot read DRBD r0 on primary: DRBD resource 'r0' is not defined")
    assert problems[1] == "secondary did not answer (the host was not reached)"


def test_export_script_missing() -> None:
    facts = healthy()
    # what ansible-core 2.19 registers for a command that does not exist (failed_when: false)
    facts["servers"]["secondary"]["export"]["results"][0] = {
        "changed": False,
        "cmd": "/etc/ha.d/resource.d/ha_san-aoe-export r0 status",
        "failed": False,
        "failed_when_result": False,
        "failed_when_suppressed_exception": "(traceback unavailable)",
        "msg": "Error executing command.",
        "rc": 2,
        "stderr": "",
        "stderr_lines": [],
        "stdout": "",
        "stdout_lines": [],
        "item": R0,
    }
    problems = problems_of(facts)
    assert problems == [
        "cannot ask whether secondary exports e0.3: Error executing command. (rc=2: is the resource script "
        "there? site.yml installs it)"
    ]


def test_two_resources_get_a_table_each() -> None:
    facts = {
        "resources": [R0, R1],
        "servers": {
            "primary": server(
                [drbd("primary_uptodate"), drbd("primary_uptodate", R1)],
                {"r0": True, "r1": True},
                "secondary",
                "all",
            ),
            "secondary": server(
                [drbd("secondary_uptodate"), drbd("sync_target", R1)], {"r0": False, "r1": False}, "primary"
            ),
        },
        "clients": {"client": client("target_down", {"e7.2": "e0.3", "e7.1": "e0.4"})},
    }
    _degraded, problems, lines = st.verdict(facts)
    assert [line for line in lines if " = e0." in line] == [
        "r0 = e0.3 (/dev/drbd0) OK, served by primary",
        "r1 = e0.4 (/dev/drbd1) DEGRADED, served by primary",
    ]
    assert problems == [
        "r1 is resyncing 6.98% (secondary is SyncTarget): the Secondary cannot take over until it is "
        "UpToDate",
        "client client sees e0.4 down, not up",
    ]


def test_no_resources_is_degraded() -> None:
    assert problems_of(healthy(resources=[])) == ["ha_san_resources is empty: nothing to report on"]


# -- the command line: JSON out, textfile, exit code ---------------------------------------------------------
def test_main_writes_the_report_and_the_textfile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(healthy()))
    out, prom = tmp_path / "out" / "status.json", tmp_path / "ha_san.prom"
    assert st.main([str(facts), "--json-out", str(out), "--textfile", str(prom)]) == 0
    report = json.loads(out.read_text())
    assert report == json.loads(capsys.readouterr().out)
    assert report["degraded"] is False and report["resources"][0]["holder"] == "primary"
    text = prom.read_text()
    assert "ha_san_degraded 0\n" in text
    assert 'ha_san_drbd_uptodate{resource="r0",node="primary"} 1\n' in text
    assert 'ha_san_drbd_primary{resource="r0",node="secondary"} 0\n' in text
    assert 'ha_san_export_running{resource="r0",node="primary"} 1\n' in text
    assert 'ha_san_client_target_up{resource="r0",target="e0.3",client="client"} 1\n' in text
    assert 'ha_san_heartbeat_active{node="secondary"} 1\n' in text
    assert "# TYPE ha_san_drbd_sync_percent gauge\n" in text
    assert not [p for p in prom.parent.iterdir() if p.name.startswith(".ha_san_status.")]  # no leftovers


def test_main_exit_code_is_one_when_degraded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(_split_brain()))
    prom = tmp_path / "ha_san.prom"
    assert st.main([str(facts), "--textfile", str(prom)]) == 1
    assert json.loads(capsys.readouterr().out)["degraded"] is True
    assert "ha_san_degraded 1\n" in prom.read_text()
    assert 'ha_san_drbd_connected{resource="r0",node="primary"} 0\n' in prom.read_text()


def test_main_reads_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(healthy())))
    assert st.main(["-"]) == 0
    assert json.loads(capsys.readouterr().out)["lines"][0].startswith("r0 = e0.3")


def test_main_refuses_unreadable_facts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "facts.json"
    bad.write_text("[1, 2")
    assert st.main([str(bad)]) == 2
    assert "cannot read the collected facts" in capsys.readouterr().err


# -- Heartbeat's rscstatus against the group's home node (as the lab's Heartbeat 3.0.6 said it) --------------
def pair(primary_holds: str, secondary_holds: str, primary_is_drbd_primary: bool = True) -> dict:
    """Both servers, the group's home primary (haresources), DRBD Primary where the test says."""
    p_drbd, s_drbd = ("primary_uptodate", "secondary_uptodate")
    if not primary_is_drbd_primary:
        p_drbd, s_drbd = s_drbd, p_drbd
    facts = healthy()
    facts["servers"] = {
        "primary": server(
            [drbd(p_drbd)],
            {"r0": primary_is_drbd_primary},
            "secondary",
            holds=primary_holds,
            home=("primary", "primary"),
        ),
        "secondary": server(
            [drbd(s_drbd)],
            {"r0": not primary_is_drbd_primary},
            "primary",
            holds=secondary_holds,
            home=("primary", "secondary"),
        ),
    }
    return facts


def test_converged_heartbeat_pair_says_local_on_both_servers_and_is_healthy() -> None:
    """The lab's converged pair: the home holds its group ("local"); the other holds its own groups, none."""
    assert problems_of(pair("local", "local")) == []


def test_group_away_from_home_is_foreign_there_and_healthy() -> None:
    assert problems_of(pair("none", "all", primary_is_drbd_primary=False)) == []
    assert problems_of(pair("none", "foreign", primary_is_drbd_primary=False)) == []


def test_home_node_holding_local_while_drbd_secondary_is_a_problem() -> None:
    facts = pair("local", "all", primary_is_drbd_primary=False)
    assert problems_of(facts) == [
        "Heartbeat on primary holds resources (local) although DRBD is Secondary there"
    ]


def test_other_node_holding_only_its_own_empty_groups_while_drbd_primary_is_a_problem() -> None:
    facts = pair("none", "local", primary_is_drbd_primary=False)
    assert problems_of(facts) == [
        "Heartbeat on secondary holds no resources (local) although DRBD is Primary there"
    ]


def test_unreadable_haresources_counts_local_as_holding() -> None:
    facts = pair("local", "local")
    facts["servers"]["secondary"]["home"] = command(2, "", "awk: cannot open /etc/ha.d/haresources")
    assert problems_of(facts) == [
        "Heartbeat on secondary holds resources (local) although DRBD is Secondary there"
    ]
