"""failover_drill.yml and the drill's tools agree: what the client imports is copied there, the controller's
tools run with Ansible's Python (the venv, with matplotlib), and the verdict is the Python one."""

from __future__ import annotations

import ast
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
