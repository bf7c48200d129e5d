"""Captured fixtures (tests/unit/fixtures/): what every command printed in one state.

A module of its own (not conftest.py), so that ``from fixture_data import load`` can never pick up
another directory's conftest when the whole of tests/unit runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


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
