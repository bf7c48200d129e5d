"""Fixtures for the failover drill tools: the scripts are loaded from their paths (they are no package)."""

from __future__ import annotations

import errno
import importlib.util
import mmap
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

DRILL = Path(__file__).resolve().parents[3] / "playbooks" / "files" / "drill"


def load(name: str) -> ModuleType:
    """Import playbooks/files/drill/<name>.py as module ``name``."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, DRILL / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up here
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def writer() -> ModuleType:
    return load("ha_san_writer")


@pytest.fixture(scope="session")
def verifier() -> ModuleType:
    return load("ha_san_verify")


@pytest.fixture(scope="session")
def waiter() -> ModuleType:
    return load("ha_san_wait_resumed")


@pytest.fixture(scope="session")
def reporter() -> ModuleType:
    return load("ha_san_report")


@pytest.fixture(scope="session")
def verdict() -> ModuleType:
    return load("ha_san_verdict")


@pytest.fixture(scope="session")
def target() -> ModuleType:
    return load("ha_san_target")


@pytest.fixture(scope="session")
def block() -> ModuleType:
    return load("ha_san_block")


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A directory on a real disk (/var/tmp), not tmpfs: O_DIRECT needs a filesystem that takes it."""
    base = "/var/tmp" if os.path.isdir("/var/tmp") else None
    path = Path(tempfile.mkdtemp(prefix="ha_san_drill_", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def direct_flags(workdir: Path) -> list[str]:
    """[] when the work directory's filesystem takes O_DIRECT, else ["--no-direct"] (EINVAL only)."""
    probe = workdir / "probe"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_DIRECT, 0o644)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        return ["--no-direct"]
    buf = mmap.mmap(-1, 4096)
    try:
        os.pwrite(fd, buf, 0)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        return ["--no-direct"]
    finally:
        os.close(fd)
        buf.close()
        probe.unlink()
    return []
