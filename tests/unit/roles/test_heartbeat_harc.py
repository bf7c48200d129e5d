"""roles/heartbeat/files/harc: no-op status events end at once; other events run rc.d/EVENT as before."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

HARC = Path(__file__).resolve().parents[3] / "roles" / "heartbeat" / "files" / "harc"


@pytest.fixture
def ha_dir(tmp_path: Path) -> Path:
    """An HA_DIR whose shellfuncs and rc.d scripts record that they ran."""
    (tmp_path / "rc.d").mkdir()
    (tmp_path / "shellfuncs").write_text(
        f'echo sourced >> "{tmp_path}/trace"\nha_log() {{ echo "log $*" >> "{tmp_path}/trace"; }}\n'
    )
    for event in ("status", "ip-request"):
        script = tmp_path / "rc.d" / event
        script.write_text(f'#!/bin/sh\necho "ran {event} $* st=$HA_st" >> "{tmp_path}/trace"\n')
        script.chmod(0o755)
    return tmp_path


def harc(ha_dir: Path, *args: str, **env: str) -> tuple[int, list[str]]:
    full = {"PATH": os.environ["PATH"], "HA_DIR": str(ha_dir), "HA_FUNCS": str(ha_dir / "shellfuncs"), **env}
    r = subprocess.run(
        ["sh", str(HARC), *args], env=full, capture_output=True, text=True, timeout=30, check=False
    )
    trace = ha_dir / "trace"
    return r.returncode, trace.read_text().splitlines() if trace.exists() else []


@pytest.mark.parametrize("status", ["up", "active", "ping", "init"])
def test_a_status_event_that_is_no_death_ends_without_sourcing_anything(ha_dir: Path, status: str) -> None:
    assert harc(ha_dir, "status", HA_st=status, HA_src="secondary") == (0, [])


def test_a_dead_ping_node_ends_without_sourcing_anything(ha_dir: Path) -> None:
    assert harc(ha_dir, "status", HA_st="dead", HA_src="192.0.2.13", HA_info="ping") == (0, [])


def test_a_dead_cluster_node_still_runs_rc_d_status(ha_dir: Path) -> None:
    rc, trace = harc(ha_dir, "status", HA_st="dead", HA_src="primary")
    assert rc == 0
    assert trace == ["sourced", f"log info: Running {ha_dir}/rc.d/status status", "ran status status st=dead"]


def test_other_events_run_their_rc_d_script(ha_dir: Path) -> None:
    rc, trace = harc(ha_dir, "ip-request", "x")
    assert rc == 0 and trace[-1] == "ran ip-request ip-request x st="


def test_a_missing_rc_d_script_is_an_error(ha_dir: Path) -> None:
    rc, trace = harc(ha_dir, "hb_takeover")
    assert rc == 1 and "not executable" in trace[-1]
