"""roles/heartbeat/files/harc: the events of a takeover run without sourcing shellfuncs; others as before."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parents[3] / "roles" / "heartbeat" / "files"
HARC = FILES / "harc"
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
    for name in ("ha_san-aoe-export", "IPaddr"):
        script = tmp_path / "resource.d" / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/trace"\n')
        script.chmod(0o755)
    (tmp_path / "haresources").write_text(
        "#\n# Ansible managed\n#\n# One group, started left to right on one node, stopped right to left.\n"
        "primary ha_san-aoe-export::r0 IPaddr2::192.0.2.100/24/eth1\n"
    )
    return tmp_path


def harc(ha_dir: Path, *args: str, **env: str) -> tuple[int, list[str], str]:
    full = {
        "PATH": os.environ["PATH"],
        "HA_DIR": str(ha_dir),
        "HA_FUNCS": str(ha_dir / "shellfuncs"),
        "HA_NOARCHBIN": str(ha_dir / "bin"),
        "HA_RESOURCEDIR": str(ha_dir / "resource.d"),
        "HA_FIFO": str(ha_dir / "fifo"),
        "HA_CURHOST": "secondary",
        "HA_LOGFACILITY": "none",
        "HA_SAN_FUNCTIONS": str(FILES / "resource_functions.sh"),
        **env,
    }
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


def test_a_dead_node_that_owns_no_group_takes_nothing_but_still_tells_heartbeat(ha_dir: Path) -> None:
    # The survivor owns the group: it takes it back through ip-request-resp, not here (as mach_down does).
    rc, trace, log = harc(
        ha_dir, "status", HA_st="dead", HA_src="secondary", HA_CURHOST="primary", HA_NICEFAILBACK="yes"
    )
    assert (rc, trace) == (0, [])
    assert fifo(ha_dir) == NICE_FAILBACK_MSG
    assert log.splitlines()[-1] == "info: mach_down takeover complete for node secondary."


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


def test_without_the_roles_functions_a_death_takes_the_package_way(ha_dir: Path) -> None:
    # a half-installed role: slower, but rc.d/status and the package's mach_down still take the group
    rc, trace, _log = harc(
        ha_dir, "status", HA_st="dead", HA_src="primary", HA_SAN_FUNCTIONS=str(ha_dir / "no-such-file")
    )
    assert rc == 0
    assert trace == [
        "sourced",
        f"log info: Running {ha_dir}/rc.d/status status",
        "ran status status st=dead",
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


TWO_EXPORTS = "primary ha_san-aoe-export::r0 ha_san-aoe-export::r1 IPaddr2::192.0.2.100/24/eth1\n"


def slow_exports(ha_dir: Path) -> None:
    """An export script that takes a second and records when it began and ended."""
    script = ha_dir / "resource.d" / "ha_san-aoe-export"
    script.write_text(
        f'#!/bin/sh\necho "begin $*" >> "{ha_dir}/trace"\nsleep 1\necho "end $*" >> "{ha_dir}/trace"\n'
    )
    script.chmod(0o755)


def assert_exports_overlap_then_takegroup(trace: list[str]) -> None:
    begins = [i for i, line in enumerate(trace) if line.startswith("begin ")]
    ends = [i for i, line in enumerate(trace) if line.startswith("end ")]
    assert sorted(trace[i] for i in begins) == ["begin r0 start", "begin r1 start"], trace
    assert max(begins) < min(ends), f"the second export waited for the first: {trace}"
    assert trace[-1] == "ResourceManager takegroup ha_san-aoe-export::r0", trace
    assert len(trace) == 5, trace  # two begins, two ends, then ResourceManager; the IP is ResourceManager's


def test_a_dead_owners_exports_start_together_before_resource_manager(ha_dir: Path) -> None:
    (ha_dir / "haresources").write_text(TWO_EXPORTS)
    slow_exports(ha_dir)
    rc, trace, _log = harc(ha_dir, "status", HA_st="dead", HA_src="primary")
    assert rc == 0
    assert_exports_overlap_then_takegroup(trace)


def test_an_ok_answer_starts_every_export_of_the_keys_haresources_line(ha_dir: Path) -> None:
    (ha_dir / "haresources").write_text("# a comment naming ha_san-aoe-export::r0\n" + TWO_EXPORTS)
    slow_exports(ha_dir)
    rc, trace, _log = harc(
        ha_dir, "ip-request-resp", HA_ipaddr="ha_san-aoe-export::r0", HA_dest="secondary", HA_ok="OK"
    )
    assert rc == 0
    assert_exports_overlap_then_takegroup(trace)
