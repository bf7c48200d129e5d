"""The lab itself, shown on the real VMs: kernel modules, AoE over the SAN switch, cable faults,
the management NIC's isolation, and power loss + boot."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import SERVERS, lab_cli, lab_ssh, lab_status, wait_until

pytestmark = pytest.mark.lab

SHELF, SLOT = 0, 9  # a target no role uses, so this test never collides with a real export


@pytest.mark.parametrize("node", SERVERS)
def test_drbd_module_loads_on_servers(lab: dict[str, Any], node: str) -> None:
    r = lab_ssh(node, "modprobe drbd && head -n 1 /proc/drbd")
    assert r.returncode == 0, r.stderr
    assert re.match(r"version: \d+\.\d+\.\d+ \(api:\d+/proto:\d+-\d+\)", r.stdout), r.stdout


def test_aoe_module_loads_on_client(lab: dict[str, Any]) -> None:
    r = lab_ssh("client", "modprobe aoe && cat /sys/module/aoe/version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().isdigit(), r.stdout


def test_storage_addresses_and_names(lab: dict[str, Any]) -> None:
    for node, san, repl in (
        ("primary", "192.0.2.11", "198.51.100.11"),
        ("secondary", "192.0.2.12", "198.51.100.12"),
        ("client", "192.0.2.13", None),
    ):
        r = lab_ssh(node, "uname -n; ip -o -4 addr show dev eth1; ip -o -4 addr show dev eth2 2>&1 || true")
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0] == node
        assert f"inet {san}/24" in lines[1]
        if repl:
            assert f"inet {repl}/24" in r.stdout
        else:
            assert "inet " not in "\n".join(lines[2:])  # the client has no eth2


def test_ssh_command_exit_code_propagates(lab: dict[str, Any]) -> None:
    r = lab_cli("ssh", "client", "--", "echo", "out;", "exit", "7", check=False)
    assert r.returncode == 7
    assert r.stdout.strip() == "out"


def _aoe_targets() -> str:
    r = lab_ssh("client", "aoe-discover; sleep 1; aoe-stat")
    return r.stdout


def test_vblade_export_reaches_client_and_cable_pull_cuts_it(lab: dict[str, Any]) -> None:
    target = f"e{SHELF}.{SLOT}"
    start = lab_ssh(
        "primary",
        f"setsid nohup vblade {SHELF} {SLOT} eth1 /dev/vdb >/tmp/lab-vblade.log 2>&1 "
        "</dev/null & echo $! >/tmp/lab-vblade.pid",
    )
    assert start.returncode == 0, start.stderr
    try:
        assert lab_ssh("primary", "kill -0 $(cat /tmp/lab-vblade.pid)").returncode == 0, (
            "vblade did not stay up"
        )
        assert lab_ssh("client", "modprobe aoe").returncode == 0
        assert wait_until(lambda: target in _aoe_targets(), timeout=60, interval=2), (
            f"{target} never appeared in the client's aoe-stat: {_aoe_targets()!r}"
        )

        ping = "ping -c 2 -w 4 192.0.2.11"
        assert lab_ssh("client", ping).returncode == 0, "primary not reachable on the SAN before the fault"
        lab_cli("fault", "unplug", "primary", "--nic", "san")
        try:
            r = lab_ssh("client", ping)
            assert r.returncode != 0, f"client still reaches primary with its SAN cable pulled:\n{r.stdout}"
            # the replication network is a different switch: the other cable still works
            assert lab_ssh("secondary", "ping -c 1 -w 4 198.51.100.11").returncode == 0
        finally:
            lab_cli("fault", "plug", "primary", "--nic", "san")
        assert wait_until(
            lambda: lab_ssh("client", "ping -c 1 -w 2 192.0.2.11").returncode == 0, timeout=30
        ), "client does not reach primary again after the cable was plugged back in"
    finally:
        lab_ssh("primary", "kill $(cat /tmp/lab-vblade.pid) 2>/dev/null; rm -f /tmp/lab-vblade.pid")
    assert lab_ssh("primary", "pgrep -x vblade").returncode != 0, "vblade still running after clean-up"


def test_management_nic_cannot_reach_the_host(lab: dict[str, Any]) -> None:
    """restrict=on: a listener on host loopback is not reachable from a VM (the lab's network rule)."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        srv.settimeout(0.5)
        port = srv.getsockname()[1]
        r = lab_ssh("client", f"timeout 5 bash -c 'echo hi >/dev/tcp/10.0.2.2/{port}' && echo CONNECTED")
        assert "CONNECTED" not in r.stdout
        with pytest.raises(TimeoutError):
            srv.accept()


def test_up_refuses_while_running_and_changes_nothing(lab: dict[str, Any]) -> None:
    before = {n: s["pid"] for n, s in lab_status()["nodes"].items()}
    r = lab_cli("up", check=False)
    assert r.returncode != 0
    assert "already running" in r.stderr
    assert {n: s["pid"] for n, s in lab_status()["nodes"].items()} == before


def test_crash_and_boot(lab: dict[str, Any]) -> None:
    """Power loss of the client (kill -9 of its QEMU), then `fault boot` on the same disks."""
    assert lab_ssh("client", "echo survived-crash >/root/lab-marker && sync").returncode == 0
    lab_cli("fault", "crash", "client")
    status = lab_status()["nodes"]["client"]
    assert not status["running"] and status["pid"] is None
    r = lab_cli("ssh", "client", "--", "true", check=False)
    assert r.returncode != 0 and "not running" in r.stderr
    t0 = time.monotonic()
    lab_cli("fault", "boot", "client")
    print(f"client booted again in {time.monotonic() - t0:.1f} s")
    assert lab_status()["nodes"]["client"]["running"]
    r = lab_ssh("client", "cat /root/lab-marker; rm /root/lab-marker")
    assert r.stdout.strip() == "survived-crash", "the overlay disk did not survive the power loss"


def fence_request(node: str, line: str) -> str:
    """Send one line to the lab's power switch from NODE (guestfwd 10.0.2.100:7000); its answer."""
    r = lab_ssh(
        node, f"exec 3<>/dev/tcp/10.0.2.100/7000 && echo '{line}' >&3 && read -r -t 30 a <&3; echo \"$a\""
    )
    return r.stdout.strip()


def test_fence_service_over_guestfwd(lab: dict[str, Any]) -> None:
    """The power switch as a STONITH plugin will use it: refusals, status, off and on of a real VM."""
    status = lab_status()
    pid = status["nodes"]["client"]["pid"]
    assert fence_request("primary", "status client from primary") == f"ok status client on pid {pid}"
    assert fence_request("primary", "off client from secondary") == (
        "error request says it is from secondary but came from primary"
    )
    assert fence_request("secondary", "format client").startswith("error unknown request 'format'")
    assert fence_request("secondary", "off router").startswith("error unknown node 'router'")
    assert lab_status()["nodes"]["client"]["pid"] == pid, "a refused request changed something"

    answer = fence_request("primary", "off client from primary")
    assert answer.startswith(f"ok off client killed pid {pid} in "), answer
    assert not lab_status()["nodes"]["client"]["running"]
    assert fence_request("secondary", "status client") == "ok status client off"
    answer = fence_request("secondary", "on client from secondary")
    assert answer.startswith("ok on client started pid "), answer
    assert wait_until(
        lambda: lab_ssh("client", "true", timeout=30).returncode == 0, timeout=300, interval=3
    ), "client did not answer SSH after the power switch turned it on"

    log = (Path(status["state_dir"]) / "fence.log").read_text()
    assert f"caller=primary request='off client from primary' answer='ok off client killed pid {pid}" in log
    assert "caller=secondary request='on client from secondary' answer='ok on client started pid" in log
