"""lab/guest/fence_ha_san_lab: the lab's fence agent, against a stand-in power switch on loopback.

The agent speaks the fence-agents interface (name=value lines on standard input, or -o/-n options) and asks
the switch with one line "VERB NODE from ME"; the stand-in answers as lab/fence_service.py does.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

AGENT = Path(__file__).resolve().parents[3] / "lab" / "guest" / "fence_ha_san_lab"


class Switch:
    """Answers each connection's one line with answer(line); keeps the lines it was asked."""

    def __init__(self, answer) -> None:
        self.asked: list[str] = []
        self._answer = answer
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _addr = self._sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rw") as f:
                line = f.readline().strip()
                self.asked.append(line)
                f.write(self._answer(line) + "\n")

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def switch() -> Iterator[Switch]:
    def answer(line: str) -> str:
        verb, node = line.split()[:2]
        if verb == "status":
            return f"ok status {node} off" if node == "secondary" else f"ok status {node} on pid 42"
        return f"ok {verb} {node} killed pid 42" if verb != "log" else "ok logged"

    s = Switch(answer)
    yield s
    s.close()


def agent(stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(AGENT), *args], input=stdin, capture_output=True, text=True, timeout=30, check=False
    )


def params(switch: Switch, **kw: str) -> str:
    return "".join(f"{k}={v}\n" for k, v in {"ipaddr": "127.0.0.1", "ipport": str(switch.port), **kw}.items())


def test_off_asks_the_switch_and_succeeds_on_ok(switch: Switch) -> None:
    r = agent(params(switch, action="off", plug="primary"))
    assert r.returncode == 0, r.stderr
    assert len(switch.asked) == 1
    assert switch.asked[0].startswith("off primary from ")


def test_reboot_is_the_switchs_reset(switch: Switch) -> None:
    assert agent(params(switch, action="reboot", port="secondary")).returncode == 0
    assert switch.asked[0].startswith("reset secondary from ")


@pytest.mark.parametrize(("node", "rc"), [("primary", 0), ("secondary", 2)])
def test_status_is_0_when_on_and_2_when_off(switch: Switch, node: str, rc: int) -> None:
    assert agent(params(switch, action="status", plug=node)).returncode == rc


def test_a_switch_error_fails_the_action() -> None:
    s = Switch(lambda line: "error off primary: pid 42 did not exit after kill -9")
    try:
        assert agent(params(s, action="off", plug="primary")).returncode == 1
    finally:
        s.close()


def test_an_unknown_node_is_refused_before_asking(switch: Switch) -> None:
    r = agent(params(switch, action="off", plug="elsewhere"))
    assert r.returncode == 1
    assert "unknown plug" in r.stderr
    assert switch.asked == []


def test_command_line_options_work_like_standard_input(switch: Switch) -> None:
    r = agent("", "-o", "off", "-n", "client", "-a", "127.0.0.1", "-u", str(switch.port))
    assert r.returncode == 0, r.stderr
    assert switch.asked[0].startswith("off client from ")


def test_metadata_names_the_agent_and_its_actions() -> None:
    r = agent("action=metadata\n")
    assert r.returncode == 0
    assert '<resource-agent name="fence_ha_san_lab"' in r.stdout
    for action in ("off", "reboot", "status", "monitor", "list", "metadata"):
        assert f'<action name="{action}"' in r.stdout


def test_list_gives_the_labs_nodes() -> None:
    r = agent("action=list\n")
    assert (r.returncode, r.stdout) == (0, "primary,\nsecondary,\nclient,\n")
