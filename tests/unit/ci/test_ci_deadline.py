"""The lab tier's guard of CI's time limit: optional tests run before HA_SAN_CI_DEADLINE, never after; the
core runs always."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_CONFTEST = Path(__file__).resolve().parents[2] / "integration" / "conftest.py"
_spec = importlib.util.spec_from_file_location("ha_san_integration_conftest", _CONFTEST)
assert _spec is not None and _spec.loader is not None
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
ci_skip_reason = _mod.ci_skip_reason


def test_the_core_never_skips() -> None:
    assert ci_skip_reason(False, "100", now=1000.0) is None


def test_optional_tests_run_before_the_deadline_and_without_one() -> None:
    assert ci_skip_reason(True, "2000", now=1000.0) is None
    assert ci_skip_reason(True, None, now=1000.0) is None


def test_optional_tests_skip_after_the_deadline_and_say_why() -> None:
    reason = ci_skip_reason(True, "100", now=1000.0)
    assert reason == "CI deadline passed (00:01:40 UTC): optional"
