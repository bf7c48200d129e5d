"""The aoe_client role's example patch: kernel-tree form, small, and what it promises.

With the kernel's own driver at hand (HA_SAN_AOE_SOURCE: a directory holding drivers/block/aoe, e.g. an
extracted linux-source-6.1), it must also apply there with patch -p1 and leave a driver with the new option.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PATCH = REPO / "roles" / "aoe_client" / "files" / "patches" / "0001-aoe-scorn-secs-parameter.patch"
SOURCE = Path(os.environ.get("HA_SAN_AOE_SOURCE", "/var/tmp/ha_san-src/linux-source-6.1"))


def test_patch_is_in_kernel_tree_form_and_small() -> None:
    text = PATCH.read_text(encoding="utf-8")
    files = re.findall(r"^\+\+\+ (\S+)", text, re.M)
    assert files == ["b/drivers/block/aoe/aoe.h", "b/drivers/block/aoe/aoecmd.c"]
    old = re.findall(r"^--- (\S+)", text, re.M)
    assert old == ["a/drivers/block/aoe/aoe.h", "a/drivers/block/aoe/aoecmd.c"]
    changed = [line for line in text.splitlines() if re.match(r"^[+-](?![+-]{2} )", line)]
    assert len(changed) <= 12, changed


def test_patch_adds_the_option_and_changes_the_version() -> None:
    added = [line[1:] for line in PATCH.read_text(encoding="utf-8").splitlines() if line.startswith("+")]
    assert '#define VERSION "85+ha_san.1"' in added
    assert "static int aoe_scorn_secs = HARD_SCORN_SECS;" in added
    assert "module_param(aoe_scorn_secs, int, 0644);" in added
    assert "MODULE_PARM_DESC(aoe_scorn_secs," in added
    assert any("n > aoe_scorn_secs" in line for line in added)


@pytest.mark.skipif(
    not (SOURCE / "drivers" / "block" / "aoe" / "aoecmd.c").is_file() or shutil.which("patch") is None,
    reason="needs the kernel's drivers/block/aoe (HA_SAN_AOE_SOURCE) and patch",
)
def test_patch_applies_to_the_kernels_driver(tmp_path: Path) -> None:
    shutil.copytree(SOURCE / "drivers" / "block" / "aoe", tmp_path / "drivers" / "block" / "aoe")
    r = subprocess.run(
        ["patch", "-p1", "--forward", "--batch", "-d", str(tmp_path), "-i", str(PATCH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    aoecmd = (tmp_path / "drivers" / "block" / "aoe" / "aoecmd.c").read_text(encoding="utf-8")
    assert "HARD_SCORN_SECS))" not in aoecmd
    assert "n > aoe_scorn_secs))" in aoecmd
