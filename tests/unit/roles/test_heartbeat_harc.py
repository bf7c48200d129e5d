"""roles/heartbeat/files/harc: the events of a takeover run without sourcing shellfuncs; others as before."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

HARC = Path(__file__).resolve().parents[3] / "roles" / "heartbeat" / "files" / "harc"
NICE_FAILBACK_MSG = ">>>\nt=resource\nrsc_hold=foreign\ninfo=mach_down\n<<<\n"


@pytest.fixture
def ha_dir(tmp_path: Path) -> Path:
    """An HA_DIR whose shellfuncs, rc.d scripts and ResourceManager record that they ran."""
    (tmp_path / "rc.d").mkdir()
    (tmp_path / "shellfuncs").write_text(
        f'echo sourced >> "{tmp_path}/trace"\nha_log() {{ echo "log $*" >> "{tmp_path}/trace"; }}\n'
    )
    for event in ("status", "ip-request", "ip-request-resp"):
        script = tmp_path / "rc.d" / event
        script.write_text(f'#!/bin/sh\necho "ran {event} $* st=$HA_st" >> "{tmp_path}/trace"\n')
        script.chmod(0o755)
    (tmp_path / "bin").mkdir()
    manager = tmp_path / "bin" / "ResourceManager"
    manager.write_text(f'#!/bin/sh\necho "ResourceManager $*" >> "{tmp_path}/trace"\n')
    manager.chmod(0o755)
    (tmp_path / "resource.d").mkdir()
    # status answers "running" once a start ran (its marker file exists), as the real scripts do
    for name in ("ha_san-aoe-export", "IPaddr"):
        script, up = tmp_path / "resource.d" / name, tmp_path / f"{name}.up"
        script.write_text(
            "#!/bin/sh\n"
            f'case "$*" in *status) [ -e "{up}" ] && echo running || echo stopped; exit;; esac\n'
            f'echo "{name} $*" >> "{tmp_path}/trace"\n'
            f'case "$*" in *start) : > "{up}" ;; esac\n'
        )
        script.chmod(0o755)
    (tmp_path / "lock").mkdir()
    (tmp_path / "haresources").write_text(
        "#\n# Ansible managed\n#\n# One group, started left to right on one node, stopped right to left.\n"
        "primary ha_san-aoe-export::r0 IPaddr2::192.0.2.100/24/eth1\n"
    )
    return tmp_path


def harc_env(ha_dir: Path, **env: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HA_DIR": str(ha_dir),
        "HA_FUNCS": str(ha_dir / "shellfuncs"),
        "HA_NOARCHBIN": str(ha_dir / "bin"),
        "HA_RESOURCEDIR": str(ha_dir / "resource.d"),
        "HA_FIFO": str(ha_dir / "fifo"),
        "HA_CURHOST": "secondary",
        "HA_LOGFACILITY": "none",
        "HA_SAN_LOCKDIR": str(ha_dir / "lock"),
        **env,
    }


def harc(ha_dir: Path, *args: str, **env: str) -> tuple[int, list[str], str]:
    full = harc_env(ha_dir, **env)
    r = subprocess.run(
        ["sh", str(HARC), *args], env=full, capture_output=True, text=True, timeout=30, check=False
    )
    trace = ha_dir / "trace"
    return r.returncode, trace.read_text().splitlines() if trace.exists() else [], r.stderr


def fifo(ha_dir: Path) -> str:
    path = ha_dir / "fifo"
    return path.read_text() if path.exists() else ""


@pytest.mark.parametrize("status", ["up", "active", "ping", "init"])
def test_a_status_event_that_is_no_death_ends_without_sourcing_anything(ha_dir: Path, status: str) -> None:
    assert harc(ha_dir, "status", HA_st=status, HA_src="primary")[:2] == (0, [])
    assert fifo(ha_dir) == ""


def test_a_dead_ping_node_ends_without_sourcing_anything(ha_dir: Path) -> None:
    assert harc(ha_dir, "status", HA_st="dead", HA_src="192.0.2.13", HA_info="ping")[:2] == (0, [])
    assert fifo(ha_dir) == ""


def test_a_dead_group_owner_is_taken_over_without_sourcing_anything(ha_dir: Path) -> None:
    rc, trace, log = harc(ha_dir, "status", HA_st="dead", HA_src="primary", HA_NICEFAILBACK="yes")
    assert rc == 0
    assert trace == ["ha_san-aoe-export r0 start", "ResourceManager takegroup ha_san-aoe-export::r0"]
    assert fifo(ha_dir) == NICE_FAILBACK_MSG
    assert log.splitlines() == [
        "info: Taking over resource group ha_san-aoe-export::r0",
        f"info: Running {ha_dir}/resource.d/ha_san-aoe-export r0 start (harc, before ResourceManager)",
        f"info: {HARC}: nice_failback: foreign resources acquired",
        "info: mach_down takeover complete for node primary.",
    ]


def test_a_dead_node_is_matched_whatever_its_case(ha_dir: Path) -> None:
    (ha_dir / "haresources").write_text("Primary  ha_san-aoe-export::r0   IPaddr2::192.0.2.100/24/eth1\n")
    rc, trace, _log = harc(ha_dir, "status", HA_st="dead", HA_src="PRIMARY", HA_NICEFAILBACK="yes")
    assert (rc, trace) == (
        0,
        ["ha_san-aoe-export r0 start", "ResourceManager takegroup ha_san-aoe-export::r0"],
    )


def test_a_dead_node_that_owns_no_group_gives_this_node_its_own_group_back(ha_dir: Path) -> None:
    # The survivor owns the group: mach_down takes nothing, Heartbeat's req_resource would ask for it next.
    rc, trace, log = harc(
        ha_dir, "status", HA_st="dead", HA_src="secondary", HA_CURHOST="primary", HA_NICEFAILBACK="yes"
    )
    assert (rc, trace) == (
        0,
        ["ha_san-aoe-export r0 start", "ResourceManager takegroup ha_san-aoe-export::r0"],
    )
    assert fifo(ha_dir) == NICE_FAILBACK_MSG
    assert log.splitlines()[:2] == [
        f"info: {HARC}: nice_failback: foreign resources acquired",
        "info: mach_down takeover complete for node secondary.",
    ]
    assert log.splitlines()[2] == (
        "info: Taking back resource group ha_san-aoe-export::r0 (Heartbeat requests it next)"
    )


def test_an_own_group_that_already_runs_here_is_left_alone(ha_dir: Path) -> None:
    (ha_dir / "ha_san-aoe-export.up").touch()
    rc, trace, log = harc(
        ha_dir, "status", HA_st="dead", HA_src="secondary", HA_CURHOST="Primary", HA_NICEFAILBACK="yes"
    )
    assert (rc, trace) == (0, [])
    assert fifo(ha_dir) == NICE_FAILBACK_MSG
    assert log.splitlines()[-1] == "info: mach_down takeover complete for node secondary."


def test_a_group_asked_for_twice_at_once_is_started_once(ha_dir: Path) -> None:
    # mach_down and req_resource's ip-request-resp may both take the group; the second must find it running.
    slow = ha_dir / "resource.d" / "ha_san-aoe-export"
    up, trace_file = ha_dir / "up", ha_dir / "trace"
    slow.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *status) [ -e "{up}" ] && echo running || echo stopped; exit;; esac\n'
        f'[ -e "{up}" ] && exit 0\n'
        f'echo "begin $*" >> "{trace_file}"; sleep 1; echo "end $*" >> "{trace_file}"; : > "{up}"\n'
    )
    full = harc_env(ha_dir, HA_CURHOST="primary", HA_NICEFAILBACK="yes")
    answer = {"HA_ipaddr": "ha_san-aoe-export::r0", "HA_dest": "primary", "HA_ok": "OK"}
    procs = [
        subprocess.Popen(["sh", str(HARC), "status"], env={**full, "HA_st": "dead", "HA_src": "secondary"}),
        subprocess.Popen(["sh", str(HARC), "ip-request-resp"], env={**full, **answer}),
    ]
    assert [p.wait(timeout=30) for p in procs] == [0, 0]
    trace = (ha_dir / "trace").read_text().splitlines()
    assert [t for t in trace if not t.startswith("ResourceManager")] == ["begin r0 start", "end r0 start"]
    assert trace.count("ResourceManager takegroup ha_san-aoe-export::r0") == 2


def test_a_lock_that_cannot_be_opened_never_stops_a_takeover(ha_dir: Path) -> None:
    rc, trace, log = harc(
        ha_dir,
        "status",
        HA_st="dead",
        HA_src="primary",
        HA_SAN_LOCKDIR=str(ha_dir / "no" / "such" / "dir"),
    )
    assert (rc, trace) == (
        0,
        ["ha_san-aoe-export r0 start", "ResourceManager takegroup ha_san-aoe-export::r0"],
    )
    assert (
        f"WARN: cannot open {ha_dir}/no/such/dir/ha_san-harc.lock: taking ha_san-aoe-export::r0 unlocked"
        in log
    )


def test_our_own_death_takes_nothing_and_says_nothing(ha_dir: Path) -> None:
    rc, trace, _log = harc(ha_dir, "status", HA_st="dead", HA_src="secondary", HA_NICEFAILBACK="yes")
    assert (rc, trace, fifo(ha_dir)) == (0, [], "")


def test_without_nice_failback_no_message_is_sent(ha_dir: Path) -> None:
    rc, trace, _log = harc(ha_dir, "status", HA_st="dead", HA_src="primary", HA_NICEFAILBACK="no")
    assert (rc, trace, fifo(ha_dir)) == (
        0,
        ["ha_san-aoe-export r0 start", "ResourceManager takegroup ha_san-aoe-export::r0"],
        "",
    )


def test_an_ok_answer_for_this_node_takes_the_group(ha_dir: Path) -> None:
    rc, trace, log = harc(
        ha_dir,
        "ip-request-resp",
        HA_ipaddr="ha_san-aoe-export::r0",
        HA_dest="secondary",
        HA_ok="OK",
        HA_weown="yes",
    )
    assert (rc, trace) == (
        0,
        ["ha_san-aoe-export r0 start", "ResourceManager takegroup ha_san-aoe-export::r0"],
    )
    assert log.splitlines()[0] == "received ip-request-resp ha_san-aoe-export::r0 OK yes"


@pytest.mark.parametrize(("dest", "ok"), [("primary", "OK"), ("secondary", "no"), ("secondary", "")])
def test_an_answer_for_another_node_or_not_ok_takes_nothing(ha_dir: Path, dest: str, ok: str) -> None:
    rc, trace, _log = harc(
        ha_dir, "ip-request-resp", HA_ipaddr="ha_san-aoe-export::r0", HA_dest=dest, HA_ok=ok
    )
    assert (rc, trace) == (0, [])


def test_an_answer_without_a_group_runs_the_package_script(ha_dir: Path) -> None:
    rc, trace, _log = harc(ha_dir, "ip-request-resp")
    assert rc == 0 and trace[0] == "sourced" and trace[-1] == "ran ip-request-resp ip-request-resp st="


def test_other_events_run_their_rc_d_script(ha_dir: Path) -> None:
    rc, trace, _log = harc(ha_dir, "ip-request", "x")
    assert rc == 0
    assert trace == [
        "sourced",
        f"log info: Running {ha_dir}/rc.d/ip-request ip-request x",
        "ran ip-request ip-request x st=",
    ]


def test_a_missing_rc_d_script_is_an_error(ha_dir: Path) -> None:
    rc, trace, _log = harc(ha_dir, "hb_takeover")
    assert rc == 1 and "not executable" in trace[-1]


@pytest.mark.parametrize(
    ("key", "started"),
    [
        ("ha_san-aoe-export::r0", "ha_san-aoe-export r0 start"),
        ("ha_san-aoe-export::r0::extra::x", "ha_san-aoe-export r0 extra x start"),
        ("192.0.2.100", "IPaddr 192.0.2.100 start"),
        ("IPaddr::192.0.2.100/24/eth1", "IPaddr 192.0.2.100/24/eth1 start"),
    ],
)
def test_the_first_resource_is_started_with_resource_managers_arguments(
    ha_dir: Path, key: str, started: str
) -> None:
    (ha_dir / "haresources").write_text(f"primary {key} IPaddr2::192.0.2.100/24/eth1\n")
    rc, trace, _log = harc(ha_dir, "status", HA_st="dead", HA_src="primary")
    assert (rc, trace) == (0, [started, f"ResourceManager takegroup {key}"])


def test_a_first_resource_without_a_script_is_left_to_resource_manager(ha_dir: Path) -> None:
    (ha_dir / "haresources").write_text("primary nosuchscript::r0\n")
    rc, trace, _log = harc(ha_dir, "status", HA_st="dead", HA_src="primary")
    assert (rc, trace) == (0, ["ResourceManager takegroup nosuchscript::r0"])


def test_a_failed_first_start_still_leaves_the_group_to_resource_manager(ha_dir: Path) -> None:
    failing = ha_dir / "resource.d" / "ha_san-aoe-export"
    failing.write_text(f'#!/bin/sh\necho "failed $*" >> "{ha_dir}/trace"\nexit 1\n')
    rc, trace, _log = harc(ha_dir, "status", HA_st="dead", HA_src="primary")
    assert (rc, trace) == (0, ["failed r0 start", "ResourceManager takegroup ha_san-aoe-export::r0"])


def test_a_resource_that_reads_its_input_does_not_swallow_the_next_groups(ha_dir: Path) -> None:
    greedy = ha_dir / "resource.d" / "ha_san-aoe-export"
    greedy.write_text(f'#!/bin/sh\ncat >/dev/null\necho "ha_san-aoe-export $*" >> "{ha_dir}/trace"\n')
    (ha_dir / "haresources").write_text("primary ha_san-aoe-export::r0\nprimary ha_san-aoe-export::r1\n")
    rc, trace, _log = harc(ha_dir, "status", HA_st="dead", HA_src="primary")
    assert (rc, trace) == (
        0,
        [
            "ha_san-aoe-export r0 start",
            "ResourceManager takegroup ha_san-aoe-export::r0",
            "ha_san-aoe-export r1 start",
            "ResourceManager takegroup ha_san-aoe-export::r1",
        ],
    )


def test_a_daemon_the_group_starts_does_not_keep_the_lock(ha_dir: Path) -> None:
    # vblade runs on after its start script: holding the lock, it blocked every later takeover on the node
    # (Heartbeat stayed "in transition" in the lab until the node was rebooted).
    daemon = ha_dir / "resource.d" / "ha_san-aoe-export"
    daemon.write_text(
        f'#!/bin/sh\necho "ha_san-aoe-export $*" >> "{ha_dir}/trace"\nsleep 60 </dev/null >/dev/null 2>&1 &\n'
    )
    assert harc(ha_dir, "status", HA_st="dead", HA_src="primary")[0] == 0
    started = time.monotonic()
    rc, trace, _log = harc(
        ha_dir, "ip-request-resp", HA_ipaddr="ha_san-aoe-export::r0", HA_dest="secondary", HA_ok="OK"
    )
    assert rc == 0 and time.monotonic() - started < 10
    assert trace[-2:] == ["ha_san-aoe-export r0 start", "ResourceManager takegroup ha_san-aoe-export::r0"]
