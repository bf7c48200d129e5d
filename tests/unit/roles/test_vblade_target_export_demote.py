"""roles/vblade_target/files/ha_san-aoe-export: stop demotes the DRBD resource with as few drbdadm calls as
the state allows, and never reports it demoted when it is not; stop stops the export's systemd unit before the
demotion; run becomes vblade under the PID file status reads; giveup runs the configured command.
(The real export under systemd is tested by molecule/vblade_target.)"""

from __future__ import annotations

import os
import subprocess
import time
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
    systemctl = tmp_path / "bin" / "systemctl"  # records what the script asks systemd
    systemctl.write_text(f'#!/bin/sh\necho "$*" >> "{tmp_path}/systemctl.calls"\nexit 0\n')
    systemctl.chmod(0o755)
    vblade = tmp_path / "bin" / "vblade"  # prints its arguments and PID instead of exporting
    vblade.write_text('#!/bin/bash\necho "vblade $$ $*"\n')
    vblade.chmod(0o755)
    logger = tmp_path / "bin" / "logger"  # the script's syslog copy of each line stays off the host's journal
    logger.write_text("#!/bin/sh\nexit 0\n")
    logger.chmod(0o755)
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "r0.conf").write_text(
        "SHELF=0\nSLOT=3\nDEVICE=/dev/drbd0\nINTERFACE=eth1\nMODE=nic\nMAC=02:ae:00:00:00:03\n"
        "MACVLAN=aoe0_3\nALLOWED_MACS=''\nANNOUNCE_SECONDS=0\nANNOUNCE_INTERVAL=0.5\nDRBD_RESOURCE=r0\n"
        "PROMOTE_TIMEOUT=10\nUNIT=ha_san-aoe-export@r0.service\n"
        f"GIVEUP_COMMAND='echo gave up >> {tmp_path}/giveup.out'\nGIVEUP_INTERVAL=0.05\n"
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


def run_action(d: Path, action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(d / "ha_san-aoe-export"), "r0", action],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_stop_stops_the_unit_before_the_demotion(export: Path) -> None:
    rc, out, calls, _log = stop(export, [0])
    assert (rc, out, calls) == (0, "stopped\n", ["secondary r0"])
    systemctl = (export / "systemctl.calls").read_text().splitlines()
    assert systemctl[0] == "stop ha_san-aoe-export@r0.service"
    # the failure of a unit that gave up is cleared (in the background), so the next takeover may start it
    for _attempt in range(50):
        systemctl = (export / "systemctl.calls").read_text().splitlines()
        if len(systemctl) > 1:
            break
        time.sleep(0.1)
    assert systemctl[1:] == ["reset-failed ha_san-aoe-export@r0.service"]


def test_run_becomes_vblade_with_direct_synchronous_io_under_the_pid_file(export: Path) -> None:
    disk = export / "disk.img"
    disk.write_bytes(b"\0" * 4096)
    conf = export / "exports" / "r0.conf"
    conf.write_text(conf.read_text().replace("DEVICE=/dev/drbd0", f"DEVICE={disk}"))
    r = run_action(export, "run")
    assert r.returncode == 0, r.stderr
    word, pid, *args = r.stdout.split()
    assert (word, args) == ("vblade", ["-d", "-s", "0", "3", "eth1", str(disk)])
    # exec keeps the script's PID: the PID file names vblade itself
    assert (export / "run" / "aoe-export-r0.pid").read_text().strip() == pid


def test_run_refuses_a_missing_device(export: Path) -> None:
    r = run_action(export, "run")
    assert r.returncode == 1 and r.stdout == ""
    assert "device /dev/drbd0 missing" in (export / "export.log").read_text()


def test_giveup_runs_the_configured_command(export: Path) -> None:
    r = run_action(export, "giveup")
    assert r.returncode == 0, r.stderr
    assert (export / "giveup.out").read_text() == "gave up\n"
    assert "giving the service up" in (export / "export.log").read_text()


def test_giveup_without_a_command_fails_and_moves_nothing(export: Path) -> None:
    conf = export / "exports" / "r0.conf"
    conf.write_text(conf.read_text().replace("GIVEUP_COMMAND='echo", "GIVEUP_COMMAND= #'echo"))
    r = run_action(export, "giveup")
    assert r.returncode == 1
    assert not (export / "giveup.out").exists()


def set_conf(d: Path, **values: str) -> None:
    conf = d / "exports" / "r0.conf"
    conf.write_text(conf.read_text() + "".join(f"{k}={v}\n" for k, v in values.items()))


def test_giveup_asks_again_until_the_cluster_has_moved_the_service(export: Path) -> None:
    # a cluster whose peer is down ignores the first requests; the third time the service has left
    set_conf(export, GIVEUP_DONE=f"'[ $(wc -l < {export}/giveup.out) -ge 3 ]'")
    r = run_action(export, "giveup")
    assert r.returncode == 0, r.stderr
    assert (export / "giveup.out").read_text() == "gave up\n" * 3
    assert "the service left this server" in (export / "export.log").read_text()


def test_giveup_stops_asking_when_its_patience_runs_out(export: Path) -> None:
    set_conf(export, GIVEUP_DONE="false", GIVEUP_PATIENCE="0")
    r = run_action(export, "giveup")
    assert r.returncode == 1
    assert (export / "giveup.out").read_text() == "gave up\n"
    assert "nobody took the service in 0 s" in (export / "export.log").read_text()


def test_a_refused_promotion_starts_nothing_and_gives_the_service_up(export: Path) -> None:
    # DRBD refuses an outdated disk: no vblade, no unit started, the give-up unit started instead
    set_conf(export, PROMOTE_TIMEOUT="0")
    r = run_action(export, "start")
    assert r.returncode == 1
    assert "drbdadm primary r0 failed" in r.stderr
    systemctl = (export / "systemctl.calls").read_text().splitlines()
    assert systemctl == ["start --no-block ha_san-aoe-giveup@r0.service"]
