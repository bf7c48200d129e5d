"""Unit tests of the lab: no VMs, no root, no network. Each test gets its own state dir."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The lab lives at the repository root, not in an installed package.
REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "st"
    monkeypatch.setenv("HA_SAN_LAB_STATE", str(d))
    monkeypatch.setenv("HA_SAN_LAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HA_SAN_LAB_BASE_PORT", raising=False)
    monkeypatch.delenv("HA_SAN_LAB_ACCEL", raising=False)
    # the defaults under test, whatever release or engine the caller's environment chose
    monkeypatch.delenv("HA_SAN_LAB_RELEASE", raising=False)
    monkeypatch.delenv("HA_SAN_LAB_ENGINE", raising=False)
    return d
