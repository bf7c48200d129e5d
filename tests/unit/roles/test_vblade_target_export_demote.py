"""roles/vblade_target/files/ha_san-aoe-export stop: the DRBD resource is demoted with as few drbdadm calls
as the state allows, and never reported demoted when it is not."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "vblade_target" / "files" / "ha_san-aoe-export"

# A drbdadm that records its calls and answers from files the test writes: secondary.rc (one exit code per
# line, the last one repeated) and role.out.
FAKE_DRBDADM = """#!/bin/sh
echo "$*" >> "{d}/calls"
case "$1" in
  secondary)
    n=$(wc -l < "{d}/calls.secondary" 2>/dev/null || echo 0); echo x >> "{d}/calls.secondary"
    rc=$(sed -n "$((n + 1))p" "{d}/secondary.rc"); [ -n "$rc" ] || rc=$(tail -n 1 "{d}/secondary.rc")
    [ "$rc" = 0 ] || echo "r0: State change failed: (-12) Device is held open by someone" >&2
    exit "$rc" ;;
  role) cat "{d}/role.out"; exit "$(cat "{d}/role.rc")" ;;
esac
exit 1
"""


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """The script, its paths moved under TMP_PATH, with a fake drbdadm first in its PATH."""
    (tmp_path / "bin").mkdir()
    drbdadm = tmp_path / "bin" / "drbdadm"
    drbdadm.write_text(FAKE_DRBDADM.format(d=tmp_path))
    drbdadm.chmod(0o755)
    logger = tmp_path / "bin" / "logger"  # the script's syslog copy of each line stays off the host's journal
    logger.write_text("#!/bin/sh\nexit 0\n")
    logger.chmod(0o755)
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "r0.conf").write_text(
        "SHELF=0\nSLOT=3\nDEVICE=/dev/drbd0\nINTERFACE=eth1\nMODE=nic\nMAC=02:ae:00:00:00:03\n"
        "MACVLAN=aoe0_3\nALLOWED_MACS=''\nANNOUNCE_SECONDS=0\nANNOUNCE_INTERVAL=0.5\nDRBD_RESOURCE=r0\n"
        "PROMOTE_TIMEOUT=10\n"
    )
    text = SCRIPT.read_text()
    for old, new in [
        ("PATH=/usr/sbin:", f"PATH={tmp_path}/bin:/usr/sbin:"),
        ("CONF=/etc/ha_san/exports/", f"CONF={tmp_path}/exports/"),
        ("RUNDIR=/run/ha_san", f"RUNDIR={tmp_path}/run"),
        ("LOGF=/var/log/ha_san-aoe-export.log", f"LOGF={tmp_path}/export.log"),
    ]:
        assert old in text
        text = text.replace(old, new, 1)
    script = tmp_path / "ha_san-aoe-export"
    script.write_text(text)
    return tmp_path


def stop(d: Path, secondary_rc: list[int], role: str = "Secondary/Unknown", role_rc: int = 0) -> tuple:
    (d / "secondary.rc").write_text("".join(f"{rc}\n" for rc in secondary_rc))
    (d / "role.out").write_text(role + "\n")
    (d / "role.rc").write_text(f"{role_rc}\n")
    env = {"PATH": os.environ["PATH"]}
    r = subprocess.run(
        ["bash", str(d / "ha_san-aoe-export"), "r0", "stop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls = (d / "calls").read_text().splitlines() if (d / "calls").exists() else []
    log = (d / "export.log").read_text() if (d / "export.log").exists() else ""
    return r.returncode, r.stdout, calls, log


def test_a_primary_is_demoted_with_one_drbdadm_call(export: Path) -> None:
    rc, out, calls, log = stop(export, [0])
    assert (rc, out, calls) == (0, "stopped\n", ["secondary r0"])
    assert log.splitlines()[-1].endswith(" r0 DRBD r0 Secondary")


def test_a_resource_drbd_does_not_know_is_left_alone(export: Path) -> None:
    # DRBD down (the module unloaded, the resource not configured): nothing to demote, the stop succeeds
    rc, out, calls, log = stop(export, [10], role="r0: No such resource", role_rc=10)
    assert (rc, out, calls) == (0, "stopped\n", ["secondary r0", "role r0"])
    assert "Secondary" not in log


def test_a_demotion_refused_while_the_device_is_open_is_retried(export: Path) -> None:
    rc, out, calls, _log = stop(export, [11, 0], role="Primary/Secondary")
    assert (rc, out, calls) == (0, "stopped\n", ["secondary r0", "role r0", "secondary r0"])


def test_a_demotion_refused_six_times_fails_the_stop(export: Path) -> None:
    # Heartbeat's ResourceManager then retries, and reboots the node when the stop keeps failing
    rc, out, calls, log = stop(export, [11], role="Primary/Secondary")
    assert (rc, out) == (1, "")
    assert calls.count("secondary r0") == 6
    assert "drbdadm secondary r0 failed 6 times: r0: State change failed" in log
