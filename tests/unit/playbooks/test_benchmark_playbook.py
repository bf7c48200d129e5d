"""playbooks/benchmark.yml on this machine: its first play (DRBD's view, which needs a cluster) is replaced by
the facts it sets; the rest runs as written, with a local connection, against image files under /var/tmp that
stand for the raw disk, the DRBD device and the AoE export: the checks before any write, fio (when installed),
the table and the report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
PLAYBOOK = REPO / "playbooks" / "benchmark.yml"
PLAYS: list[dict[str, Any]] = yaml.safe_load(PLAYBOOK.read_text())

needs_util_linux = pytest.mark.skipif(
    not (shutil.which("blkid") and shutil.which("wipefs")), reason="blkid and wipefs (util-linux) are needed"
)


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ha_san_bench_", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def image(path: Path, size: int = 16 << 20) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def run(folder: Path, plan: list[dict[str, str]], skipped: dict[str, str], *extra: str) -> tuple[int, str]:
    """benchmark.yml without its first play, which becomes these facts; (rc, output)."""
    facts = {
        "name": "Stand-in for the first play: what it would have found",
        "hosts": "san_servers",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Set the plan",
                "ansible.builtin.set_fact": {
                    "benchmark_run": "test-benchmark",
                    "benchmark_plan": plan,
                    "benchmark_skipped": skipped,
                },
            }
        ],
    }
    play_dir = folder / "playbooks"
    play_dir.mkdir(exist_ok=True)
    if not (play_dir / "files").exists():
        (play_dir / "files").symlink_to(REPO / "playbooks" / "files")
    (play_dir / "benchmark.yml").write_text(yaml.safe_dump([facts, *PLAYS[1:]], sort_keys=False))
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {
        "all": {
            "vars": {
                "ha_san_resources": [
                    {
                        "name": "r0",
                        "device": "/dev/drbd0",
                        "disk": str(folder / "backing.img"),
                        "shelf": 0,
                        "slot": 3,
                    }
                ]
            },
            "children": {
                "san_servers": {"children": {"primary": {"hosts": {"primary": local}}}},
                "clients": {"hosts": {"client": local}},
            },
        }
    }
    (folder / "hosts.yml").write_text(yaml.safe_dump(inventory))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    argv = [str(BIN / "ansible-playbook"), "-i", str(folder / "hosts.yml"), str(play_dir / "benchmark.yml")]
    argv += ["-e", f"bench_dir={folder}/bench", "-e", f"benchmark_reports_dir={folder}/reports", *extra]
    res = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, check=False, timeout=600)
    return res.returncode, res.stdout + res.stderr


def one_line(text: str) -> str:
    return " ".join(text.split())


@needs_util_linux
def test_a_refusal_on_the_client_stops_every_host_before_any_write(workdir: Path) -> None:
    raw, drbd = image(workdir / "raw.img"), image(workdir / "drbd.img")
    aoe = image(workdir / "aoe.img")
    with open(aoe, "r+b") as fh:
        fh.write(b"somebody's mail spool\n" * 1000)
    plan = [
        {"kind": "raw", "host": "primary", "path": str(raw)},
        {"kind": "drbd", "host": "primary", "path": str(drbd)},
        {"kind": "aoe", "host": "client", "path": str(aoe)},
    ]
    rc, out = run(workdir, plan, {})
    assert rc != 0
    want = (
        f"The benchmark's target {aoe} holds data no drill or benchmark wrote (at byte 0: neither zeros, "
        "drill blocks nor benchmark.yml's fio pattern): fio would destroy it; name only scratch targets in "
        "benchmark_scratch_resource / benchmark_scratch_disk, or set benchmark_allow_overwrite: true to let "
        "fio destroy it."
    )
    assert want in one_line(out), out
    for target in (raw, drbd):
        assert not target.read_bytes().strip(b"\0"), f"{target} was written although the client refused"
    assert not (workdir / "reports").exists()


@needs_util_linux
def test_a_raw_disk_that_is_a_drbd_backing_disk_is_refused_even_with_the_override(workdir: Path) -> None:
    backing = image(workdir / "backing.img")
    plan = [{"kind": "raw", "host": "primary", "path": str(backing)}]
    rc, out = run(workdir, plan, {}, "-e", "benchmark_allow_overwrite=true")
    assert rc != 0
    want = (
        f"The benchmark's target {backing} is the backing disk of DRBD resource r0 ({backing}): writing it "
        "would corrupt the replicated device under the SAN, whatever it holds; name a separate scratch disk."
    )
    assert want in one_line(out), out


@needs_util_linux
@pytest.mark.skipif(not shutil.which("fio"), reason="fio is not installed here")
def test_a_whole_run_prints_the_table_and_writes_the_report(workdir: Path) -> None:
    drbd, aoe = image(workdir / "drbd.img"), image(workdir / "aoe.img")
    plan = [
        {"kind": "drbd", "host": "primary", "path": str(drbd)},
        {"kind": "aoe", "host": "client", "path": str(aoe)},
    ]
    skipped = {"raw": "no benchmark_scratch_disk on the Primary (primary)"}
    rc, out = run(workdir, plan, skipped, "-e", "benchmark_runtime_s=1", "-e", "benchmark_size_mib=4")
    if rc != 0 and "Invalid argument" in out:
        pytest.skip("this file system refuses O_DIRECT")
    assert rc == 0, out
    assert "| figure | drbd (primary) | aoe (client) | aoe/drbd |" in out
    assert "raw: not measured (no benchmark_scratch_disk on the Primary (primary))" in out
    report = json.loads((workdir / "reports" / "test-benchmark" / "benchmark.json").read_text())
    assert set(report["results"]) == {"drbd", "aoe"} and set(report["ratios"]) == {"aoe/drbd"}
    assert report["settings"] == {"runtime_s": 1, "size_mib": 4, "seq_iodepth": 4}
    assert report["results"]["aoe"]["target"] == str(aoe)
    # what fio left is the benchmark's pattern, which the drill and the next benchmark accept
    check = subprocess.run(
        [
            sys.executable,
            str(REPO / "playbooks/files/drill/ha_san_target.py"),
            str(aoe),
            "--purpose",
            "drill",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(check.stdout)["content"] == "benchmark", check.stdout


def test_the_first_play_asks_for_an_opt_in_and_a_healthy_pair() -> None:
    first = PLAYS[0]
    assert first["hosts"] == "san_servers" and first["any_errors_fatal"] is True
    names = [t["name"] for t in first["tasks"]]
    assert names[0] == "Require a target named scratch"
    msg = one_line(first["tasks"][0]["ansible.builtin.assert"]["fail_msg"])
    assert msg.startswith(
        "Nothing is named scratch, so nothing is measured: fio destroys the data on what it"
    )
    assert "Require exactly one Primary, connected and UpToDate on both sides" in names
    # no default target: drbd and aoe only with benchmark_scratch_resource, raw only with a scratch disk
    plan = first["tasks"][-1]["ansible.builtin.set_fact"]["benchmark_plan"]
    assert "if __scratch | length > 0" in plan and "if __raw | length > 0" in plan
    checks = PLAYS[1]
    assert checks["any_errors_fatal"] is True
    names = [t["name"] for t in checks["tasks"]]
    assert names.index("Refuse a target that holds data the benchmark must not destroy") < names.index(
        "Install fio"
    )


def run_first_play(folder: Path, *extra: str) -> tuple[int, str]:
    """The real benchmark.yml, this machine its only server: its checks stop it before DRBD is read."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {
        "all": {
            "vars": {"ha_san_resources": [{"name": "r0", "device": "/dev/drbd0", "disk": "/dev/vdb"}]},
            "children": {
                "san_servers": {"children": {"primary": {"hosts": {"primary": local}}}},
                "clients": {"hosts": {}},
            },
        }
    }
    (folder / "hosts.yml").write_text(yaml.safe_dump(inventory))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    argv = [str(BIN / "ansible-playbook"), "-i", str(folder / "hosts.yml"), str(PLAYBOOK), *extra]
    res = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, check=False, timeout=300)
    return res.returncode, res.stdout + res.stderr


def test_nothing_named_scratch_measures_nothing(workdir: Path) -> None:
    rc, out = run_first_play(workdir)
    assert rc != 0
    assert one_line(
        "Nothing is named scratch, so nothing is measured: fio destroys the data on what it measures. Set "
        "benchmark_scratch_resource to a resource whose data may go (one of ['r0']: its DRBD device on the "
        "Primary and its export on the first client are measured) and/or benchmark_scratch_disk to a spare "
        "disk on the servers (the raw baseline)."
    ) in one_line(out), out


def test_an_unknown_scratch_resource_or_no_client_is_refused(workdir: Path) -> None:
    rc, out = run_first_play(workdir, "-e", "benchmark_scratch_resource=r9")
    assert rc != 0
    assert one_line(
        "benchmark_scratch_resource is 'r9': it must name one of ha_san_resources (['r0']), and the "
        "inventory's clients group must hold the host that measures its export."
    ) in one_line(out), out
