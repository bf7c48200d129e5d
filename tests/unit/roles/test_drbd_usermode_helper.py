"""roles/drbd/files/ha_san-drbd-helper: DRBD's usermode helper answers fence-peer (5, peer unreachable)
itself only for a listed resource whose peer Heartbeat reports dead, and hands every other call to drbdadm
unchanged."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "drbd" / "files" / "ha_san-drbd-helper"

# cl_status: records its arguments and prints status.out (written by the test).
FAKE_CL_STATUS = """#!/bin/sh
echo "$*" >> "{d}/cl_status.calls"
cat "{d}/status.out" 2>/dev/null
"""
# drbdadm: records its arguments and the environment the kernel gave, exits 4 (what its handler answered).
FAKE_DRBDADM = """#!/bin/sh
echo "$* DRBD_PEER_ADDRESS=${{DRBD_PEER_ADDRESS:-}}" >> "{d}/drbdadm.calls"
exit 4
"""
FAKE_LOGGER = """#!/bin/sh
shift 3
echo "$*" >> "{d}/logger.lines"
"""
PEERS = "# managed\nr0 node2\nr1 node3\n"


@pytest.fixture
def helper(tmp_path: Path) -> Path:
    """The helper with a recording logger first in its PATH, fake cl_status and drbdadm, a list of peers."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in [("cl_status", FAKE_CL_STATUS), ("drbdadm", FAKE_DRBDADM), ("logger", FAKE_LOGGER)]:
        f = bin_dir / name
        f.write_text(text.format(d=tmp_path))
        f.chmod(0o755)
    text = SCRIPT.read_text()
    assert "PATH=/usr/sbin:" in text
    patched = text.replace("PATH=/usr/sbin:", f"PATH={bin_dir}:/usr/sbin:", 1)
    (tmp_path / "ha_san-drbd-helper").write_text(patched)
    (tmp_path / "peers").write_text(PEERS)
    return tmp_path


class Outcome(NamedTuple):
    rc: int
    asked: list[str]  # cl_status calls
    drbdadm: list[str]  # drbdadm calls


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def call(d: Path, *args: str, status: str | None = None, peers: Path | None = None) -> Outcome:
    if status is not None:
        (d / "status.out").write_text(status + "\n")
    # the kernel's environment: nothing of drbdadm's (no DRBD_PEER), the peer's address
    env = {
        "HOME": "/",
        "TERM": "linux",
        "PATH": "/sbin:/usr/sbin:/bin:/usr/bin",
        "DRBD_PEER_AF": "ipv4",
        "DRBD_PEER_ADDRESS": "198.51.100.12",
        "HA_SAN_DRBDADM": str(d / "bin" / "drbdadm"),
        "HA_SAN_CL_STATUS": str(d / "bin" / "cl_status"),
        "HA_SAN_DRBD_FENCE_PEERS": str(peers or d / "peers"),
    }
    r = subprocess.run(
        ["sh", str(d / "ha_san-drbd-helper"), *args], env=env, capture_output=True, timeout=30, check=False
    )
    return Outcome(r.returncode, lines(d / "cl_status.calls"), lines(d / "drbdadm.calls"))


def test_a_dead_peer_is_answered_without_drbdadm(helper: Path) -> None:
    assert call(helper, "fence-peer", "r1", status="dead") == Outcome(5, ["nodestatus node3"], [])
    said = "Heartbeat reports node3 dead: peer unreachable (exit 5) for r1"
    deadline = time.monotonic() + 5  # the syslog line is sent in the background, after the answer
    while not lines(helper / "logger.lines") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lines(helper / "logger.lines") == [said]


@pytest.mark.parametrize("status", ["active", "up", "", "dead but not quite"])
def test_a_peer_not_reported_dead_goes_to_drbdadm_and_its_handler(helper: Path, status: str) -> None:
    out = call(helper, "fence-peer", "r0", status=status)
    assert out == Outcome(4, ["nodestatus node2"], ["fence-peer r0 DRBD_PEER_ADDRESS=198.51.100.12"])


def test_a_resource_not_listed_goes_to_drbdadm_without_asking_heartbeat(helper: Path) -> None:
    out = call(helper, "fence-peer", "r9", status="dead")
    assert out == Outcome(4, [], ["fence-peer r9 DRBD_PEER_ADDRESS=198.51.100.12"])


def test_without_a_list_of_peers_everything_goes_to_drbdadm(helper: Path) -> None:
    out = call(helper, "fence-peer", "r0", status="dead", peers=helper / "absent")
    assert out == Outcome(4, [], ["fence-peer r0 DRBD_PEER_ADDRESS=198.51.100.12"])


@pytest.mark.parametrize(
    "args",
    [("before-resync-target", "minor-0"), ("split-brain", "r0"), ("pri-on-incon-degr", "minor-0"), ()],
)
def test_every_other_call_goes_to_drbdadm_with_the_same_arguments(
    helper: Path, args: tuple[str, ...]
) -> None:
    out = call(helper, *args, status="dead")
    assert out == Outcome(4, [], [f"{' '.join(args)} DRBD_PEER_ADDRESS=198.51.100.12"])


def test_the_shipped_helper_is_executable_and_plain_sh() -> None:
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text().startswith("#!/bin/sh\n")
