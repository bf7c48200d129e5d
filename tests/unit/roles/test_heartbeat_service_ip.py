"""roles/heartbeat/files/ha_san-service-ip: the service IP on a real interface, in a private netns.

Each test runs the script with the real `ip` inside `unshare -n` (a network namespace of its own, with only
loopback), so nothing touches the host's addresses. send_arp is a recorder.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "heartbeat" / "files" / "ha_san-service-ip"

pytestmark = pytest.mark.skipif(
    shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], check=False).returncode != 0,
    reason="needs unshare -n (root) for a private network namespace",
)


def in_namespace(tmp_path: Path, steps: str) -> subprocess.CompletedProcess[str]:
    """Run shell STEPS in a fresh network namespace; $IP is the script, loopback is up."""
    arp = tmp_path / "send_arp"
    arp.write_text(f'#!/bin/sh\necho "$*" >> "{tmp_path}/arp"\n')
    arp.chmod(0o755)
    env_line = f"export HA_SAN_SEND_ARP={arp} HA_SAN_RUNDIR={tmp_path}/run IP={SCRIPT}"
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", f"{env_line}; ip link set lo up; {steps}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_start_adds_the_address_and_announces_it(tmp_path: Path) -> None:
    r = in_namespace(
        tmp_path, '"$IP" 10.9.9.9/24/lo start; echo "rc=$?"; ip -o -4 addr show dev lo; sleep 0.2'
    )
    assert "running\nrc=0\n" in r.stdout
    assert " inet 10.9.9.9/24 " in r.stdout
    assert (
        (tmp_path / "arp").read_text()
        == f"-i 200 -r 5 -p {tmp_path}/run/send_arp-10.9.9.9.pid lo 10.9.9.9 auto not_used not_used\n"
    )


def test_start_twice_adds_it_once(tmp_path: Path) -> None:
    r = in_namespace(
        tmp_path, '"$IP" 10.9.9.9/24/lo start && "$IP" 10.9.9.9/24/lo start; echo "rc=$?"; ip -o -4 addr'
    )
    assert "rc=0" in r.stdout
    assert r.stdout.count("10.9.9.9/24") == 1


@pytest.mark.parametrize(
    ("before", "status", "rc"), [("", "stopped", 3), ('"$IP" 10.9.9.9/24/lo start >/dev/null;', "running", 0)]
)
def test_status_follows_the_address(tmp_path: Path, before: str, status: str, rc: int) -> None:
    r = in_namespace(tmp_path, f'{before} "$IP" 10.9.9.9/24/lo status; echo "rc=$?"')
    assert r.stdout.endswith(f"{status}\nrc={rc}\n")


def test_another_address_on_the_interface_is_not_ours(tmp_path: Path) -> None:
    r = in_namespace(tmp_path, 'ip addr add 10.9.9.99/24 dev lo; "$IP" 10.9.9.9/24/lo status; echo "rc=$?"')
    assert r.stdout.endswith("stopped\nrc=3\n")


def test_stop_removes_the_address_and_succeeds_when_it_is_gone(tmp_path: Path) -> None:
    r = in_namespace(
        tmp_path,
        '"$IP" 10.9.9.9/24/lo start >/dev/null; "$IP" 10.9.9.9/24/lo stop; echo "rc=$?"; '
        '"$IP" 10.9.9.9/24/lo stop; echo "rc=$?"; ip -o -4 addr',
    )
    assert "stopped\nrc=0\nstopped\nrc=0\n" in r.stdout
    assert "10.9.9.9" not in r.stdout.split("rc=0\n")[-1]


@pytest.mark.parametrize(
    "spec",
    ["", "10.9.9.9", "10.9.9.9/24", "10.9.9.9/33/lo", "10.9.9.9/0/lo", "host/24/lo", "10.9.9.9/24/a/b"],
)
def test_a_malformed_address_is_a_usage_error(tmp_path: Path, spec: str) -> None:
    r = in_namespace(tmp_path, f'"$IP" "{spec}" start; echo "rc=$?"')
    assert "usage:" in r.stderr
    assert r.stdout.endswith("rc=2\n")


def test_an_unknown_action_is_a_usage_error(tmp_path: Path) -> None:
    r = in_namespace(tmp_path, '"$IP" 10.9.9.9/24/lo monitor; echo "rc=$?"')
    assert r.stdout.endswith("rc=2\n")
