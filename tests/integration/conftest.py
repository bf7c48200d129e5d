"""The lab's VMs as a pytest session fixture, plus helpers every lab test shares.

`lab` (session scope) builds the image (instant when cached) and boots the three VMs, unless a
complete lab is already running, which it then reuses and leaves alone. A lab it started itself
is stopped at the end unless HA_SAN_LAB_KEEP=1 (keep it to iterate on tests without rebooting).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from lab import config, lifecycle  # noqa: E402  (needs the sys.path line above)

NODES = config.NODE_NAMES
SERVERS = tuple(n.name for n in config.NODES if n.is_server)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "lab: needs the lab's three QEMU VMs (slow; boots them if not running)"
    )
    config.addinivalue_line(
        "markers",
        "optional: outside the lab tier's core; skipped once HA_SAN_CI_DEADLINE (Unix time) has passed",
    )


def ci_skip_reason(optional: bool, deadline: str | None, now: float) -> str | None:
    """Why an optional test is skipped (HA_SAN_CI_DEADLINE, Unix time, has passed), or None to run it."""
    if not optional or not deadline or now < float(deadline):
        return None
    return f"CI deadline passed ({time.strftime('%H:%M:%S', time.gmtime(float(deadline)))} UTC): optional"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """CI guards its own time limit: past the deadline it runs nothing optional, and the tier log says so."""
    optional = item.get_closest_marker("optional") is not None
    reason = ci_skip_reason(optional, os.environ.get("HA_SAN_CI_DEADLINE"), time.time())
    if reason is None:
        return
    log = os.environ.get("HA_SAN_TIER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"lab: skipped {item.nodeid} ({reason})\n")
    pytest.skip(reason)


def lab_cli(*args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run `python3 -m lab ARGS` from the repository; output captured, progress echoed on failure."""
    r = subprocess.run(
        [sys.executable, "-m", "lab", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and r.returncode != 0:
        raise AssertionError(
            f"`python3 -m lab {' '.join(args)}` failed ({r.returncode}):\n{r.stderr}{r.stdout}"
        )
    return r


def lab_status() -> dict[str, Any]:
    return json.loads(lab_cli("status", "--json").stdout)


def lab_ssh(node: str, cmd: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run shell command CMD as root on NODE; never raises on a non-zero exit (tests assert on it)."""
    argv = lifecycle.ssh_command(node, [cmd])
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 1.0) -> bool:
    """Poll PREDICATE until it is true (True) or TIMEOUT seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _all_ssh_up() -> bool:
    return all(n["ssh"] for n in lab_status()["nodes"].values())


@pytest.fixture(scope="session")
def lab() -> Iterator[dict[str, Any]]:
    status = lab_status()
    stopped = [n for n, s in status["nodes"].items() if not s["running"]]
    switches_up = all(s["running"] for s in status["switches"].values())
    started_here = False
    if len(stopped) == len(NODES) and not any(s["running"] for s in status["switches"].values()):
        t0 = time.monotonic()
        lab_cli("build")
        t1 = time.monotonic()
        try:
            lab_cli("up")
        except AssertionError:
            if os.environ.get("HA_SAN_LAB_KEEP") != "1":
                lab_cli("down", check=False)  # so the next run starts clean instead of "half up"
            raise
        print(f"\nlab build {t1 - t0:.1f} s, up {time.monotonic() - t1:.1f} s", file=sys.stderr)
        started_here = True
    elif switches_up:
        # Someone's lab (maybe still booting, maybe with a node a test crashed): use it, never kill it.
        for node in stopped:
            lab_cli("fault", "boot", node)
        if not wait_until(_all_ssh_up, timeout=420, interval=3):
            pytest.fail(
                f"the running lab in {status['state_dir']} does not answer SSH: check `python3 -m lab status`"
            )
        # It may have been started from another checkout: this one's inventory must name its VMs.
        lab_cli("inventory")
        print(f"\nreusing the running lab in {status['state_dir']}", file=sys.stderr)
    else:
        pytest.fail(
            f"the lab in {status['state_dir']} is half up (VMs without switches): run `python3 -m lab down`"
        )
    status = lab_status()
    try:
        yield status
    finally:
        if started_here and os.environ.get("HA_SAN_LAB_KEEP") != "1":
            lab_cli("down")
