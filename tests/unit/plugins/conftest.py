"""Import path for the tests of plugins/ (the captured fixtures are read by fixture_data.py).

The code is imported as ``ansible_collections.ha_san.aoe.plugins...``, which resolves through
``.collections/ansible_collections/ha_san/aoe`` -> the checkout (made by ``make venv``); this file
makes that work without ``make venv`` too, by building the same symlink under a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


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
