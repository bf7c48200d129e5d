"""roles/pacemaker/files/fence_ha_san_arbiter: who may fence, decided by the ping nodes and the DRBD role.

Fake `ping`, `drbdadm`, `logger` and `sleep` on PATH stand in for the network, DRBD, syslog and the wait; the
arbiter reads its parameters as Pacemaker's fencer sends them, name=value lines on standard input.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ARBITER = Path(__file__).resolve().parents[3] / "roles" / "pacemaker" / "files" / "fence_ha_san_arbiter"


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """Fakes: ping answers for the addresses listed in $UP (each call logged); drbdadm prints $ROLE."""
    folder = tmp_path / "bin"
    folder.mkdir()
    fakes = {
        "ping": 'echo "ping $*" >> "$CALLS"\nfor a in $UP; do [ "${*: -1}" = "$a" ] && exit 0; done\nexit 1',
        "drbdadm": 'echo "drbdadm $*" >> "$CALLS"\nprintf "%s\\n" $ROLE\n',
        "logger": 'shift 3; echo "log $*" >> "$CALLS"\n',
        "sleep": 'echo "sleep $*" >> "$CALLS"\n',
    }
    for name, body in fakes.items():
        (folder / name).write_text("#!/usr/bin/env bash\n" + body)
        (folder / name).chmod(0o755)
    return folder


def fence(bin_dir: Path, stdin: str, up: str = "", role: str = "Secondary/Primary") -> tuple[int, list[str]]:
    calls = bin_dir.parent / "calls.log"
    calls.write_text("")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "UP": up, "ROLE": role, "CALLS": str(calls)}
    r = subprocess.run(
        ["bash", str(ARBITER)], input=stdin, text=True, env=env, capture_output=True, check=False
    )
    return r.returncode, calls.read_text().splitlines()


REQUEST = "action=off\nplug=secondary\nping_targets=192.0.2.13,192.0.2.14\nisolated_delay=7\n"


def test_a_node_that_sees_a_ping_node_fires_at_once(bin_dir: Path) -> None:
    rc, calls = fence(bin_dir, REQUEST, up="192.0.2.14")
    assert rc == 0
    assert not any(c.startswith("sleep") for c in calls), calls
    assert "ping -n -q -c 1 -i 0.2 -w 1 192.0.2.13" in calls
    assert calls[-1] == "log sees ping node 192.0.2.14: fencing may go on"


def test_a_blind_standby_waits_looks_again_and_never_fences(bin_dir: Path) -> None:
    rc, calls = fence(bin_dir, REQUEST, up="", role="Secondary/Unknown")
    assert rc == 1
    assert "sleep 7" in calls
    assert calls.index("sleep 7") < len(calls) - 1
    assert sum(c.startswith("ping ") for c in calls) == 4  # both targets, before and after the wait
    assert (
        calls[-1]
        == "log still blind and holds nothing: this node is the isolated one, it does not fence its peer"
    )


def test_a_blind_holder_fires_after_the_wait(bin_dir: Path) -> None:
    rc, calls = fence(bin_dir, REQUEST, up="", role="Primary/Unknown")
    assert rc == 0
    assert calls.index("sleep 7") < calls.index("drbdadm role all")
    assert calls[-1].startswith("log still blind, but holds a DRBD Primary")


def test_without_ping_targets_it_refuses(bin_dir: Path) -> None:
    rc, calls = fence(bin_dir, "action=off\nplug=secondary\n", up="192.0.2.13")
    assert rc == 1
    assert calls == ["log no ping_targets set: refusing to decide"]


@pytest.mark.parametrize("action", ["on", "status", "monitor", "list", "validate-all"])
def test_the_other_actions_succeed_without_a_look(bin_dir: Path, action: str) -> None:
    rc, calls = fence(bin_dir, f"action={action}\n")
    assert rc == 0
    assert calls == []


def test_metadata_names_the_agent_and_its_parameters(bin_dir: Path) -> None:
    r = subprocess.run(["bash", str(ARBITER), "-o", "metadata"], capture_output=True, text=True, check=True)
    root = ET.fromstring(r.stdout)
    assert root.get("name") == "fence_ha_san_arbiter"
    params = {p.get("name") for p in root.iter("parameter")}
    assert {"ping_targets", "isolated_delay", "ping_timeout", "plug", "port", "action"} <= params
    assert {a.get("name") for a in root.iter("action")} >= {"off", "reboot", "monitor", "metadata"}
