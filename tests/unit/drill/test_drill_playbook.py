"""failover_drill.yml and the drill's tools agree: what the client imports is copied there, the controller's
tools run with Ansible's Python (the venv, with matplotlib), and the verdict is the Python one."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
DRILL = REPO / "playbooks" / "files" / "drill"
PLAYS: list[dict[str, Any]] = yaml.safe_load((REPO / "playbooks" / "failover_drill.yml").read_text())


def tasks(play: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for task in play.get("tasks", []):
        out.append(task)
        for key in ("block", "rescue", "always"):
            out.extend(tasks({"tasks": task.get(key, [])}))
    return out


def task(name: str) -> dict[str, Any]:
    return next(t for p in PLAYS for t in tasks(p) if t.get("name") == name)


def drill_imports(script: Path) -> set[str]:
    """The drill's own modules (ha_san_*) a script imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.startswith("ha_san_")}


def test_the_client_gets_every_drill_module_its_tools_import() -> None:
    copied = {Path(f).name for f in task("Copy the drill tools to the client")["loop"]}
    assert "ha_san_block.py" in copied
    for tool in sorted(copied):
        for module in drill_imports(DRILL / tool):
            assert f"{module}.py" in copied, f"{tool} imports {module}, which is not copied to the client"


def test_the_client_tools_need_nothing_beyond_the_standard_library() -> None:
    for tool in ("ha_san_block.py", "ha_san_writer.py", "ha_san_verify.py", "ha_san_wait_resumed.py"):
        for node in ast.walk(ast.parse((DRILL / tool).read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots = {node.module.split(".")[0]}
            elif isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            else:
                continue
            for root in roots:
                assert root in sys.stdlib_module_names or root.startswith("ha_san_"), (tool, root)


def test_the_controller_tools_run_with_ansibles_python() -> None:
    last = PLAYS[-1]
    assert last["name"] == "Write the drill's report and judge it"
    assert "ansible_playbook_python" in last["vars"]["__python"]
    for name in (
        "Turn the servers' logs into a timeline and the drill's facts",
        "Write report.json and latency.png",
    ):
        assert task(name)["ansible.builtin.command"]["cmd"].startswith("{{ __python }} "), name
    assert task("Judge the drill")["ansible.builtin.command"]["argv"][0] == "{{ ansible_playbook_python }}"


def test_the_verdict_is_pythons_and_the_play_fails_with_its_reasons(verdict: ModuleType) -> None:
    last = tasks(PLAYS[-1])
    assert not [t for t in last if "ansible.builtin.assert" in t or "assert" in t]
    judge = task("Judge the drill")
    argv = judge["ansible.builtin.command"]["argv"]
    assert argv[1].endswith("files/drill/ha_san_report.py") and argv[2] == "verdict"
    assert judge["failed_when"] == "__verdict.rc not in [0, 1]"
    fail = task("Fail the drill with the verdict's reasons")
    assert (
        fail["when"] == "__verdict.rc == 1"
        and "__verdict.stdout_lines" in fail["ansible.builtin.fail"]["msg"]
    )
    inputs = {
        i["key"]: i["value"]
        for i in task("Write the DRBD states after the rejoin and the drill's observations for the verdict")[
            "loop"
        ]
    }
    assert set(inputs) == {"drbd_after", "observations"}
    assert set(inputs["observations"]) == set(verdict.OBSERVATION_KEYS)
    for option, key in (("--drbd-after", "drbd_after"), ("--observations", "observations")):
        assert argv[argv.index(option) + 1] == f"{{{{ __dir }}}}/{key}.json"
    # the figures are still shown before the verdict
    names = [t.get("name") for t in last]
    assert names.index("Show the drill's figures") < names.index("Judge the drill")


# --- a fault that cuts the client's power, and one writer per target ----------------------------------------
def writer_block() -> list[dict[str, Any]]:
    """The tasks of the writer play's block that injects the fault, in order."""
    play = next(p for p in PLAYS if p["hosts"] == "clients[0]" and "drill_fault" in p.get("vars", {}))
    return next(t for t in play["tasks"] if "block" in t)["block"]


def test_nothing_runs_on_the_client_between_its_power_loss_and_its_return() -> None:
    """The client is off from the inject to its boot: a task there would find it unreachable and stop the
    drill before the undo boots it. Each task runs on the controller (delegated, or a pause), or is skipped
    for such a fault."""
    names = [t["name"] for t in writer_block()]
    back = names.index("Wait for the client to answer again after its boot")
    assert names.index("Undo the fault (the service comes back where it stayed, a client is booted)") < back
    for t in writer_block()[:back]:
        runs_elsewhere = "delegate_to" in t or "ansible.builtin.pause" in t
        skipped = "not __drill_client_down" in str(t.get("when", ""))
        assert runs_elsewhere or skipped, t["name"]
    undo = task("Undo the fault (the service comes back where it stayed, a client is booted)")
    assert undo["delegate_to"] == "localhost" and "__drill_client_down" in undo["when"]
    # and when a step fails with the client still down, the undo in `always` is still reached
    assert task("Stop the writers if they still run (a step above failed)")["ignore_unreachable"] is True


def test_after_the_boot_the_drill_waits_for_the_exports_verifies_then_writes_again() -> None:
    names = [t["name"] for t in writer_block()]
    order = [
        "Wait for the client to answer again after its boot",
        "Wait until the client sees the drill's exports up again",
        "Wait until every target is there again (a file target's file system mounted)",
        "Verify every acknowledged block, target by target",
        "Write to each target again after the client's boot",
        "Fetch each writer's log and verdict",
    ]
    assert [names.index(n) for n in order] == sorted(names.index(n) for n in order)
    for name in order[:3] + order[4:5]:
        assert task(name)["when"].startswith("__drill_client_down"), name
    discover = task("Wait until the client sees the drill's exports up again")["ha_san.aoe.aoe_stat"]
    assert discover["discover"] is True and discover["state"] == "up"
    again = task("Write to each target again after the client's boot")["ansible.builtin.command"]["argv"]
    assert (
        again[again.index("--log") + 1] == "{{ rundir }}/{{ item.1 }}resume.log"
    )  # never the ack log verified


def test_the_ack_log_is_fsynced_line_by_line_exactly_when_the_client_loses_power() -> None:
    cmd = task("Start the drill writers, one per target")["ansible.builtin.shell"]["cmd"]
    assert "{{ '--fsync-every 1' if __drill_client_down else '' }}" in cmd


def test_every_writer_step_runs_once_per_target() -> None:
    per_writer = {
        "Read what each drill target holds (file systems, partition tables, data no drill wrote)": "item.0",
        "Start the drill writers, one per target": "item.1",
        "Wait for each writer's first acknowledged blocks": "item.1",
        "Wait until each writer acknowledges blocks again after the fault": "item.1",
        "Stop the writers": "item",
        "Wait for each writer's summary line": "item",
        "Verify every acknowledged block, target by target": "item.1",
        "Write to each target again after the client's boot": "item.1",
        "Stop the writers if they still run (a step above failed)": "item",
    }
    for name, used in per_writer.items():
        t = task(name)
        assert "drill_writers" in str(t["loop"]) and "{{ " + used in str(t), name
    assert "drill_writers" in str(task("Fetch each writer's log and verdict")["loop"])
    # only the checks of the variables and the list of writers name drill_target: every step uses the list
    naming = {t["name"] for p in PLAYS for t in tasks(p) if re.search(r"\bdrill_target\b", str(t))}
    assert naming == {
        "Require a drill target",
        "Require drill_extra_targets to be a list of other targets than drill_target and each other",
        "Name the drill's writers, one per target (drill_target first, then drill_extra_targets)",
    }


def test_the_report_gets_every_writers_verdict_and_after_a_boot_its_writes_since() -> None:
    cmd = task("Write report.json and latency.png")["ansible.builtin.command"]["cmd"]
    assert "{% for w in __c.drill_writers %}--verify {{ __dir }}/{{ w.1 }}verify.json" in cmd
    resume = "--resume-log {{ __dir }}/{{ w.1 }}resume.log"
    assert "{% if __c.drill_client_rebooted | default(false) | bool %}" + resume in cmd
    shared = task("Share the drill's clock readings, and whether the client was rebooted, with the report")
    assert shared["ansible.builtin.set_fact"]["drill_client_rebooted"] == "{{ __drill_client_down }}"


def test_writes_count_as_resumed_only_after_the_fault_is_in_effect() -> None:
    """An ack while the inject command is still pulling cables is no resumption (a partition drill passed
    its wait on such an ack, then found nobody serving): the wait's baseline is the later of the fault time
    plus the margin and the end of the inject."""
    names = [t["name"] for t in writer_block()]
    inject = names.index("Inject the fault on the victim")
    assert names[inject + 1] == "Record when the fault is in effect (controller clock)"
    wait = task("Wait until each writer acknowledges blocks again after the fault")
    argv = wait["ansible.builtin.command"]["argv"]
    after = " ".join(argv[argv.index("--after") + 1].split())
    assert after.startswith("{{ [(drill_fault_time | float) + (drill_resume_margin_s"), after
    assert "drill_fault_done_time | default(0) | float] | max }}" in after, after


def test_the_pacemaker_wait_counts_the_online_nodes_in_crm_mon_xml_of_2_1_and_3_0() -> None:
    """Pacemaker 3.0's crm_mon has no --simple-status: the drill reads its XML, the same in 2.1."""
    wait = task("Wait until Pacemaker sees both nodes online")
    assert wait["ansible.builtin.command"]["argv"] == ["crm_mon", "--one-shot", "--output-as=xml"]
    online = re.compile(wait["vars"]["__drill_pcmk_online"])
    fixtures = REPO / "tests" / "unit" / "fixtures" / "pacemaker"
    for name, count in (
        ("bookworm_healthy.xml", 2),
        ("trixie_healthy.xml", 2),
        ("trixie_node2_stopped.xml", 1),  # online but pending: not yet a member to drill with
    ):
        assert len(online.findall((fixtures / name).read_text())) == count, name


def test_the_pacemaker_drill_refuses_failed_actions_that_would_block_the_failover() -> None:
    """A failure on record (a failed start: until it expires) keeps the resource off that node: no drill."""
    read = task("Read Pacemaker's failed actions")
    assert read["ansible.builtin.command"]["argv"] == ["crm_mon", "--one-shot", "--output-as=xml"]
    require = task("Require no failed action on record")
    assert require["ansible.builtin.assert"]["that"] == [
        "__drill_pcmk_settled.stdout | regex_findall(__drill_pcmk_failure) | length == 0"
    ]
    failure = re.compile(require["vars"]["__drill_pcmk_failure"])
    fixtures = REPO / "tests" / "unit" / "fixtures" / "pacemaker"
    for name, found in (
        ("bookworm_healthy.xml", []),
        ("trixie_healthy.xml", []),
        ("trixie_export_failed_restarted.xml", [("export-r0_monitor_3000", "pcmknode2")]),
        (
            "trixie_export_stopped.xml",
            [("export-r0_start_0", "pcmknode1"), ("export-r0_start_0", "pcmknode2")],
        ),
    ):
        assert failure.findall((fixtures / name).read_text()) == found, name


def test_planned_moves_on_pacemaker_move_every_export_and_clear_the_constraints_even_after_a_failure() -> (
    None
):
    """switchover and failback under Pacemaker: crm_resource --move of each export to the survivor, then
    --clear (a cli-* constraint left behind would pin the service), in the block and again in its always."""
    move = task("Move every export to the survivor (planned move, Pacemaker)")
    assert move["ansible.builtin.command"]["argv"][:4] == [
        "crm_resource",
        "--move",
        "--resource",
        "export-{{ item.name }}",
    ]
    assert move["when"] == "drill_fault in __drill_planned and __drill_engine == 'pacemaker'"
    for name in (
        "Clear the planned move's constraints (Pacemaker)",
        "Clear the planned move's constraints if a step above failed (Pacemaker)",
    ):
        clear = task(name)
        assert clear["ansible.builtin.command"]["argv"] == [
            "crm_resource",
            "--clear",
            "--resource",
            "export-{{ item.name }}",
        ]
        assert clear["when"] == move["when"]
    for name in (
        "Hand the group over from the victim (planned switchover, Heartbeat)",
        "Take the group over on the survivor (planned failback, Heartbeat)",
    ):
        assert task(name)["when"].endswith("and __drill_engine == 'heartbeat'")
