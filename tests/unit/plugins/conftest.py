"""Shared helpers for the tests of plugins/: import path and the captured fixtures.

The code is imported as ``ansible_collections.ha_san.aoe.plugins...``, which resolves through
``.collections/ansible_collections/ha_san/aoe`` -> the checkout (made by ``make venv``); this file
makes that work without ``make venv`` too, by building the same symlink under a temporary folder.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "unit" / "fixtures"


def _collections_root() -> Path:
    root = REPO / ".collections"
    if (root / "ansible_collections" / "ha_san" / "aoe" / "plugins").is_dir():
        return root
    tmp = Path(tempfile.mkdtemp(prefix="ha_san-collections-"))
    (tmp / "ansible_collections" / "ha_san").mkdir(parents=True)
    os.symlink(REPO, tmp / "ansible_collections" / "ha_san" / "aoe")
    return tmp


_root = str(_collections_root())
if _root not in sys.path:
    sys.path.insert(0, _root)


class Capture:
    """One fixture file: what every command printed in one state (see lab/capture_fixtures.py)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.doc = json.loads(path.read_text())
        self.state = self.doc["state"]

    def run(self, argv: list) -> tuple:
        """(rc, stdout, stderr) of the captured command whose argv matches (program by basename)."""
        want = [os.path.basename(argv[0]), *argv[1:]]
        for r in self.doc["results"]:
            if r.get("argv") == want:
                return r["rc"], r["stdout"], r["stderr"]
        raise KeyError(f"{self.path.name}: no capture of {want}")

    def has(self, argv: list) -> bool:
        try:
            self.run(argv)
        except KeyError:
            return False
        return True

    def read(self, path: str):
        for r in self.doc["results"]:
            if r.get("read") == path:
                return r["content"] if r["exists"] else None
        raise KeyError(f"{self.path.name}: no capture of {path}")

    def sysfs(self) -> dict:
        for r in self.doc["results"]:
            if "sysfs" in r:
                return r["entries"]
        raise KeyError(f"{self.path.name}: no sysfs capture")

    def stdout(self, argv: list) -> str:
        return self.run(argv)[1]


def load(kind: str, state: str) -> Capture:
    return Capture(FIXTURES / kind / f"{state}.json")


def states(kind: str) -> list:
    return sorted(p.stem for p in (FIXTURES / kind).glob("*.json"))


@pytest.fixture
def capture():
    return load
