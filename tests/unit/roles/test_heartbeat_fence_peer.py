"""roles/heartbeat/files/ha_san-fence-peer: DRBD's fence-peer handler answers "peer unreachable" (5) itself
only when Heartbeat reports the peer dead, and otherwise runs drbd-peer-outdater with the same arguments."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "heartbeat" / "files" / "ha_san-fence-peer"

# cl_status: records its arguments, prints status.out and exits with status.rc (both written by the test).
FAKE_CL_STATUS = """#!/bin/sh
echo "$*" >> "{d}/cl_status.calls"
[ -f "{d}/status.sleep" ] && sleep "$(cat "{d}/status.sleep")"
cat "{d}/status.out" 2>/dev/null
exit "$(cat "{d}/status.rc" 2>/dev/null || echo 0)"
"""
# drbd-peer-outdater: records its arguments and environment's peer, exits 4 (peer outdated).
FAKE_OUTDATER = """#!/bin/sh
echo "$* DRBD_PEER=${{DRBD_PEER:-}}" >> "{d}/outdater.calls"
exit 4
"""
FAKE_LOGGER = """#!/bin/sh
shift 3
echo "$*" >> "{d}/logger.lines"
"""


@pytest.fixture
def handler(tmp_path: Path) -> Path:
    """The handler with a recording logger first in its PATH, and fake cl_status and outdater beside it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in [
        ("cl_status", FAKE_CL_STATUS),
        ("drbd-peer-outdater", FAKE_OUTDATER),
        ("logger", FAKE_LOGGER),
    ]:
        f = bin_dir / name
        f.write_text(text.format(d=tmp_path))
        f.chmod(0o755)
    text = SCRIPT.read_text()
    assert "PATH=/usr/sbin:" in text
    (tmp_path / "ha_san-fence-peer").write_text(
        text.replace("PATH=/usr/sbin:", f"PATH={bin_dir}:/usr/sbin:", 1)
    )
    return tmp_path


class Outcome(NamedTuple):
    rc: int
    asked: list[str]  # cl_status calls
    outdater: list[str]  # drbd-peer-outdater calls


def run(
    d: Path,
    args: list[str],
    *,
    peer: str | None = "primary",
    status: str = "",
    status_rc: int = 0,
    cl_status: bool = True,
) -> Outcome:
    (d / "status.out").write_text(status + "\n" if status else "")
    (d / "status.rc").write_text(f"{status_rc}\n")
    env = {
        "PATH": os.environ["PATH"],
        "DRBD_RESOURCE": "r0",
        "HA_SAN_OUTDATER": str(d / "bin" / "drbd-peer-outdater"),
        "HA_SAN_CL_STATUS": str(d / "bin" / "cl_status") if cl_status else str(d / "bin" / "missing"),
    }
    if peer is not None:
        env["DRBD_PEER"] = peer
    r = subprocess.run(
        ["sh", str(d / "ha_san-fence-peer"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Outcome(r.returncode, calls(d / "cl_status.calls"), calls(d / "outdater.calls"))


def calls(path: Path) -> list[str]:
    """The lines a fake recorded, one per call; none when it was never run."""
    return path.read_text().splitlines() if path.exists() else []


def logged(d: Path) -> str:
    # The handler's logger runs in the background; each run here waits for the handler, not for it. The file
    # exists from the moment the shell opens it, before the line is in it: wait for a whole line.
    for _attempt in range(200):
        text = (d / "logger.lines").read_text() if (d / "logger.lines").exists() else ""
        if text.endswith("\n"):
            return text
        time.sleep(0.05)
    return ""


def test_a_peer_heartbeat_reports_dead_is_answered_unreachable_without_dopd(handler: Path) -> None:
    o = run(handler, ["-t", "5"], status="dead")
    assert (o.rc, o.asked, o.outdater) == (5, ["nodestatus primary"], [])
    assert "Heartbeat reports primary dead: peer unreachable (exit 5) for r0" in logged(handler)


@pytest.mark.parametrize("status", ["active", "up", "ping", "Dead", "dead but"])
def test_a_peer_not_reported_dead_is_left_to_drbd_peer_outdater(handler: Path, status: str) -> None:
    o = run(handler, ["-t", "5"], status=status)
    assert (o.rc, o.asked, o.outdater) == (4, ["nodestatus primary"], ["-t 5 DRBD_PEER=primary"])


def test_heartbeat_not_answering_leaves_it_to_drbd_peer_outdater(handler: Path) -> None:
    o = run(handler, ["-t", "5"], status_rc=1)
    assert (o.rc, o.outdater) == (4, ["-t 5 DRBD_PEER=primary"])
    assert "Heartbeat reports primary as 'unknown': asking dopd" in logged(handler)


def test_a_cl_status_that_hangs_is_cut_off_by_the_outdaters_timeout(handler: Path) -> None:
    (handler / "status.sleep").write_text("30\n")
    o = run(handler, ["-t", "1"], status="dead")
    assert (o.rc, o.outdater) == (4, ["-t 1 DRBD_PEER=primary"])


def test_without_cl_status_it_is_left_to_drbd_peer_outdater(handler: Path) -> None:
    o = run(handler, ["-t", "5"], status="dead", cl_status=False)
    assert (o.rc, o.asked, o.outdater) == (4, [], ["-t 5 DRBD_PEER=primary"])


def test_without_a_peer_nothing_is_asked_and_drbd_peer_outdater_decides(handler: Path) -> None:
    o = run(handler, ["-t", "5"], peer=None, status="dead")
    assert (o.rc, o.asked, o.outdater) == (4, [], ["-t 5 DRBD_PEER="])


def test_the_peer_given_with_p_wins_over_drbd_peer_as_in_drbd_peer_outdater(handler: Path) -> None:
    o = run(handler, ["-t", "5", "-p", "secondary", "-r", "r0"], peer="primary", status="dead")
    assert (o.rc, o.asked, o.outdater) == (5, ["nodestatus secondary"], [])


def test_arguments_reach_drbd_peer_outdater_unchanged(handler: Path) -> None:
    args = ["-V", "-t", "7", "-r", "r0", "-x"]
    o = run(handler, args, status="active")
    assert (o.rc, o.outdater) == (4, ["-V -t 7 -r r0 -x DRBD_PEER=primary"])
