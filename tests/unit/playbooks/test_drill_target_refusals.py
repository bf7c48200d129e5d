"""failover_drill.yml refuses, before anything runs, a target it must not write: each refusal's message, word
for word, from ansible-playbook run against this machine as the drill's client (a local connection; nothing on
a server is touched: the refusal stops the drill in its first play, and the inventory has no servers).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
PLAYBOOK = REPO / "playbooks" / "failover_drill.yml"
REMEDY = (
    "the drill's writer would destroy it; point drill_target at a scratch device or file, or set "
    "drill_allow_overwrite: true to let the drill destroy it."
)

pytestmark = pytest.mark.skipif(
    not (shutil.which("blkid") and shutil.which("wipefs")), reason="blkid and wipefs (util-linux) are needed"
)


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ha_san_drill_target_", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run_drill(folder: Path, *extra: str) -> tuple[int, str]:
    inventory = {
        "all": {
            "children": {
                "clients": {
                    "hosts": {
                        "client": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                        }
                    }
                }
            }
        }
    }
    (folder / "hosts.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    argv = [str(BIN / "ansible-playbook"), "-i", str(folder / "hosts.yml"), str(PLAYBOOK)]
    argv += ["-e", f"drill_dir={folder}/drill", *extra]
    res = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, check=False, timeout=300)
    return res.returncode, res.stdout + res.stderr


def one_line(text: str) -> str:
    return " ".join(text.split())


def foreign_data(workdir: Path) -> Path:
    """A target holding somebody's records: no zeros, no drill blocks, no fio pattern."""
    data = workdir / "data.img"
    data.write_bytes(b"somebody's records " * ((1 << 20) // 19))
    return data


def assert_foreign_data_refused(rc: int, out: str, data: Path) -> None:
    """The drill stopped on DATA with the foreign-data message, and DATA is as it was."""
    assert rc != 0
    want = (
        f"The drill's target {data} holds data no drill or benchmark wrote (at byte 0: neither zeros, drill "
        f"blocks nor benchmark.yml's fio pattern): {REMEDY}"
    )
    assert want in one_line(out), out
    assert data.read_bytes()[:19] == b"somebody's records ", "the refused target was written"


def test_no_default_target_outside_the_lab(workdir: Path) -> None:
    rc, out = run_drill(workdir)
    assert rc != 0
    assert one_line(
        "drill_target is not set: the drill's writer destroys what it writes to, so there is no default. "
        "Set drill_target to a scratch device (the raw export, e.g. /dev/etherd/e0.3, when nothing on it "
        "matters) or to a file on a file system mounted from the export (e.g. /srv/san/ha_san-drill.img)."
    ) in one_line(out), out
    assert not (workdir / "drill").exists(), "nothing may be copied before the target is known"


def test_a_partition_table_and_foreign_data_are_refused_and_the_override_lets_them_pass(
    workdir: Path,
) -> None:
    pt = workdir / "pt.img"
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, 8192)
    mbr[510:512] = b"\x55\xaa"
    pt.write_bytes(bytes(mbr) + bytes(4 << 20))
    rc, out = run_drill(workdir, "-e", f"drill_target={pt}")
    assert rc != 0
    want = f"The drill's target {pt} holds a dos partition table (blkid -p, wipefs -n): {REMEDY}"
    assert want in one_line(out), out

    data = foreign_data(workdir)
    rc, out = run_drill(workdir, "-e", f"drill_target={data}")
    assert_foreign_data_refused(rc, out, data)


def test_an_extra_target_is_checked_like_drill_target_and_none_twice(workdir: Path) -> None:
    scratch, data = workdir / "scratch.img", foreign_data(workdir)
    target = ["-e", f"drill_target={scratch}"]
    for extra in (f'["{scratch}"]', f'"{data}"'):  # drill_target again; a path instead of a list
        rc, out = run_drill(workdir, *target, "-e", f'{{"drill_extra_targets": {extra}}}')
        assert rc != 0
        assert (
            f"drill_extra_targets must be a list of paths other than drill_target ({scratch}) and other than "
            "each other, one writer each (e.g. [/dev/etherd/e0.4])"
        ) in one_line(out), out
    assert not (workdir / "drill").exists(), "nothing may be copied before the targets are known"
    rc, out = run_drill(workdir, *target, "-e", f'{{"drill_extra_targets": ["{data}"]}}')
    assert_foreign_data_refused(rc, out, data)


@pytest.mark.skipif(not shutil.which("mkfs.ext4"), reason="mkfs.ext4 is needed")
def test_a_file_system_is_refused(workdir: Path) -> None:
    fs = workdir / "fs.img"
    with open(fs, "wb") as fh:
        fh.truncate(16 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(fs)], check=True, capture_output=True)
    rc, out = run_drill(workdir, "-e", f"drill_target={fs}")
    assert rc != 0
    assert f"The drill's target {fs} holds ext4 (blkid -p, wipefs -n): {REMEDY}" in one_line(out), out


def test_the_check_runs_before_anything_else_and_passes_the_override() -> None:
    plays = yaml.safe_load(PLAYBOOK.read_text())
    first = plays[0]
    assert first["hosts"] == "clients[0]" and first["name"] == "Check the drill's target before anything runs"
    names = [t["name"] for t in first["tasks"]]
    assert names == [
        "Require a drill target",
        "Require drill_extra_targets to be a list of other targets than drill_target and each other",
        "Name the drill's writers, one per target (drill_target first, then drill_extra_targets)",
        "Copy the target check to the client",
        "Read what each drill target holds (file systems, partition tables, data no drill wrote)",
        "Refuse a target that holds data the drill did not write",
    ]
    check = first["tasks"][4]
    argv = check["ansible.builtin.command"]["argv"]
    assert "'--allow-overwrite'" in argv and "drill_allow_overwrite | default(false) | bool" in argv
    assert check["loop"] == "{{ drill_writers }}" and "item.0" in argv  # drill_target and every extra target
    # the writer's play has no default target any more
    writer = next(p for p in plays if p["name"].startswith("Run the writer on the client"))
    assert "drill_target" not in writer["vars"]
