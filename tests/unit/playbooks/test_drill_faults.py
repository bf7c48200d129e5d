"""playbooks/failover_drill.yml and inventories/lab agree on the faults the drill knows.

Every fault the report knows is either a planned move (Heartbeat's own tools) or has an inject and a restore
command in the lab's inventory; a blind fault is undone inside the drill, before the aoe driver gives up.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
DRILL_PLAYBOOK = REPO / "playbooks" / "failover_drill.yml"
LAB_VARS = REPO / "inventories" / "lab" / "group_vars" / "all.yml"
# the aoe driver's aoe_deadsecs in Debian's kernel: a target silent this long fails the device's I/O
AOE_DEADSECS = 180
KNOWN_KEYS = {
    "kind",
    "service",
    "service_heartbeat",
    "service_pacemaker",
    "matrix",
    "what",
    "ends_on",
    "max_s",
    "hold_s",
    "victim",
}


def _report_faults() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location(
        "ha_san_report", REPO / "playbooks/files/drill/ha_san_report.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return tuple(mod.FAULTS)


def _fault_table() -> dict[str, dict[str, Any]]:
    table = json.loads((REPO / "playbooks/files/drill/faults.json").read_text(encoding="utf-8"))
    return {k: v for k, v in table.items() if not k.startswith("_")}


def _kind(kind: str) -> list[str]:
    return [f for f, v in _fault_table().items() if v["kind"] == kind]


def _writer_play_vars() -> dict[str, Any]:
    plays = yaml.safe_load(DRILL_PLAYBOOK.read_text(encoding="utf-8"))
    # the writer's play (the first play on the client only checks the target)
    return next(p["vars"] for p in plays if p["hosts"] == "clients[0]" and "drill_fault" in p.get("vars", {}))


def _lab_commands() -> dict[str, dict[str, str]]:
    return yaml.safe_load(LAB_VARS.read_text(encoding="utf-8"))["drill_fault_commands"]


@pytest.mark.parametrize("fault", [f for f in _report_faults() if f not in _kind("planned")])
def test_the_lab_can_inject_and_undo_every_unplanned_fault(fault: str) -> None:
    commands = _lab_commands()
    assert fault in commands, f"inventories/lab sets no drill_fault_commands.{fault}"
    assert commands[fault].get("inject") and commands[fault].get("restore")


def test_the_lab_commands_use_only_the_names_the_drill_defines() -> None:
    drill = _writer_play_vars()
    assert {"victim", "survivor", "client"} <= set(drill)
    for fault, commands in _lab_commands().items():
        for cmd in commands.values():
            names = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", cmd))
            assert names <= {"victim", "survivor", "client"}, (fault, names)


def test_every_blind_fault_is_known_to_the_report_and_undone_by_the_lab() -> None:
    assert _kind("blind"), "no blind fault: the ping_node_down drill is gone"
    for fault in _kind("blind"):
        assert fault in _report_faults()
        assert _lab_commands()[fault]["restore"]


def test_the_blind_hold_ends_before_the_aoe_driver_fails_the_writes() -> None:
    hold = int(_writer_play_vars()["drill_blind_hold_s"])
    # the lab's isolated delay (10 s) plus deadtime and the fence must fit, and the undo (plug) with a margin
    assert 20 <= hold <= AOE_DEADSECS // 3


def test_the_lab_blind_fault_silences_the_ping_node_before_the_partition() -> None:
    inject = _lab_commands()["ping_node_down"]["inject"]
    assert inject.index("icmp_echo_ignore_all=1") < inject.index("fault unplug {{ victim }}")
    restore = _lab_commands()["ping_node_down"]["restore"]
    assert "icmp_echo_ignore_all=0" in restore and "fault boot {{ survivor }}" in restore
    # a fenced holder is booted too, and the ping node is restored whatever the cable step did
    assert "fault boot {{ victim }}" in restore
    assert restore.index("; v=$?;") < restore.index("icmp_echo_ignore_all=0")


def test_the_fault_table_is_the_reports_and_every_entry_is_complete() -> None:
    table = _fault_table()
    assert tuple(table) == _report_faults()
    for fault, entry in table.items():
        assert entry["kind"] in {"fault", "planned", "blind", "outage"}, fault
        assert entry["service"] in {"moves", "stays"}, fault
        for engine in ("heartbeat", "pacemaker"):
            assert entry.get(f"service_{engine}", "moves") in {"moves", "stays"}, fault
        assert not set(entry) - KNOWN_KEYS, (fault, set(entry) - KNOWN_KEYS)
        assert isinstance(entry["matrix"], bool) and entry["what"], fault
        assert entry.get("ends_on", "victim") in {"victim", "survivor"}, fault
        assert entry.get("victim", "client") == "client", fault  # absent: the fault hits the servers


def test_the_playbook_reads_the_fault_table_instead_of_its_own_lists() -> None:
    drill = _writer_play_vars()
    for name in ("__drill_planned", "__drill_blind", "__drill_stays", "__drill_client_down"):
        assert "faults.json" in drill["__drill_faults"] and "__drill_faults" in drill[name], name


def test_the_faults_that_heal_in_place_keep_the_service_on_the_victim() -> None:
    table = _fault_table()
    assert table["export_kill"]["service"] == "stays"
    assert table["export_fail"]["service"] == "moves"
    assert table["cluster_kill"]["service"] == "moves"


def test_a_fault_on_the_client_powers_the_client_off_and_boots_it_again() -> None:
    on_client = [f for f, v in _fault_table().items() if v.get("victim") == "client"]
    assert "client_reboot" in on_client
    for fault in on_client:
        entry, commands = _fault_table()[fault], _lab_commands()[fault]
        # the servers are not touched: the Primary keeps the service
        assert entry["kind"] == "fault" and entry["service"] == "stays" and "ends_on" not in entry
        assert commands["inject"] == "python3 -m lab fault crash {{ client }}"
        assert "fault boot {{ client }}" in commands["restore"]
        assert "victim" not in commands["inject"] + commands["restore"]


@pytest.mark.parametrize(("engine", "disk_fail_stays"), [("heartbeat", True), ("pacemaker", False)])
def test_where_the_service_must_be_follows_the_engine(engine: str, disk_fail_stays: bool) -> None:
    """Pacemaker's DRBD agent hands the Promoted role away from a Diskless disk; Heartbeat keeps it there."""
    import jinja2

    faults = [{"key": k, "value": v} for k, v in _fault_table().items()]
    expr = _writer_play_vars()["__drill_stays"]
    stays = jinja2.Environment().from_string(expr).render(__drill_faults=faults, __drill_engine=engine)
    names = set(re.findall(r"'(\w+)'", stays))
    assert ("disk_fail" in names) is disk_fail_stays
    assert {"export_kill", "replication_unplug"} <= names and "crash" not in names
