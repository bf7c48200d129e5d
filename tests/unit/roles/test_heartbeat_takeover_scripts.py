"""roles/heartbeat/files/{req_resource,ResourceManager}: the calls of a home-node takeover answered without
sourcing shellfuncs, the same answers as the package's scripts, and every other call sent to the package's."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

FILES = Path(__file__).resolve().parents[3] / "roles" / "heartbeat" / "files"
HARESOURCES = (
    "#\n# Ansible managed\n#\n# One group, started left to right on one node, stopped right to left.\n"
    "primary ha_san-aoe-export::r0 ha_san-service-ip::192.0.2.100/24/eth1\n"
)
ASK_MESSAGE = ">>>\nt=ip-request-resp\ndest=primary\nipaddr=ha_san-aoe-export::r0\nweown=yes\nok=OK\n<<<\n"


@pytest.fixture
def ha_dir(tmp_path: Path) -> Path:
    """An HA_DIR with haresources, recording stand-ins for the package's scripts and a resource script."""
    (tmp_path / "haresources").write_text(HARESOURCES)
    for name in ("ResourceManager.distrib", "req_resource.distrib"):
        script = tmp_path / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/trace"\n')
        script.chmod(0o755)
    (tmp_path / "resource.d").mkdir()
    return tmp_path


def resource(ha_dir: Path, name: str, status_output: str, rc: int = 0) -> None:
    script = ha_dir / "resource.d" / name
    script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{ha_dir}/trace"\necho "{status_output}"\nexit {rc}\n')
    script.chmod(0o755)


def run(ha_dir: Path, name: str, *args: str, **env: str) -> tuple[int, str, list[str], str]:
    full = {
        "PATH": os.environ["PATH"],
        "HA_DIR": str(ha_dir),
        "HA_RESOURCEDIR": str(ha_dir / "resource.d"),
        "HA_FIFO": str(ha_dir / "fifo"),
        "HA_CURHOST": "primary",
        "HA_SAN_REQ_RESOURCE_DISTRIB": str(ha_dir / "req_resource.distrib"),
        "HA_SAN_RESOURCE_MANAGER_DISTRIB": str(ha_dir / "ResourceManager.distrib"),
        **env,
    }
    r = subprocess.run(
        ["sh", str(FILES / name), *args], env=full, capture_output=True, text=True, timeout=30, check=False
    )
    trace = ha_dir / "trace"
    fifo = ha_dir / "fifo"
    return (
        r.returncode,
        r.stdout,
        trace.read_text().splitlines() if trace.exists() else [],
        fifo.read_text() if fifo.exists() else "",
    )


@pytest.mark.parametrize("node", ["primary", "PRIMARY", "Primary"])
def test_listkeys_prints_the_key_of_each_group_the_node_owns(ha_dir: Path, node: str) -> None:
    assert run(ha_dir, "ResourceManager", "listkeys", node)[:3] == (0, "ha_san-aoe-export::r0\n", [])


def test_listkeys_prints_nothing_for_a_node_that_owns_no_group(ha_dir: Path) -> None:
    assert run(ha_dir, "ResourceManager", "listkeys", "secondary")[:3] == (0, "", [])


def test_listkeys_reads_every_group_and_drops_comments(ha_dir: Path) -> None:
    (ha_dir / "haresources").write_text(
        "# a comment naming primary first\n\nprimary   one::a  two # trailing comment\n"
        "\tsecondary three\nprimary four#glued comment\nprimary # no group here\n"
    )
    assert run(ha_dir, "ResourceManager", "listkeys", "primary")[:3] == (0, "one::a\nfour\n", [])
    assert run(ha_dir, "ResourceManager", "listkeys", "secondary")[:3] == (0, "three\n", [])


def test_listkeys_never_globs_a_field(ha_dir: Path) -> None:
    (ha_dir / "haresources").write_text("primary *\n")
    (ha_dir / "a-file-a-glob-would-find").write_text("")
    assert run(ha_dir, "ResourceManager", "listkeys", "primary")[:3] == (0, "*\n", [])


def test_listkeys_without_haresources_prints_nothing(ha_dir: Path) -> None:
    (ha_dir / "haresources").unlink()
    assert run(ha_dir, "ResourceManager", "listkeys", "primary")[:3] == (0, "", [])


def test_listkeys_of_a_continued_line_goes_to_the_package_script(ha_dir: Path) -> None:
    (ha_dir / "haresources").write_text("primary one \\\n  two\n")
    assert run(ha_dir, "ResourceManager", "listkeys", "primary")[:3] == (
        0,
        "",
        ["ResourceManager.distrib listkeys primary"],
    )


def test_allkeys_prints_the_key_of_every_group(ha_dir: Path) -> None:
    (ha_dir / "haresources").write_text("primary one::a two\n# secondary not-a-group\nSecondary three\n")
    assert run(ha_dir, "ResourceManager", "allkeys")[:3] == (0, "one::a\nthree\n", [])


def test_allkeys_of_a_continued_line_goes_to_the_package_script(ha_dir: Path) -> None:
    (ha_dir / "haresources").write_text("primary one \\\n  two\n")
    assert run(ha_dir, "ResourceManager", "allkeys")[2] == ["ResourceManager.distrib allkeys"]


@pytest.mark.parametrize("args", [["listkeys", "primary"], ["allkeys"]])
def test_a_continued_line_after_a_group_still_goes_to_the_package_script_unanswered(
    ha_dir: Path, args: list[str]
) -> None:
    (ha_dir / "haresources").write_text("primary one\nsecondary two \\\n  three\n")
    assert run(ha_dir, "ResourceManager", *args)[:3] == (0, "", [f"ResourceManager.distrib {' '.join(args)}"])


@pytest.mark.parametrize("pattern", [".*", "prim.*", ""])
def test_listkeys_of_a_pattern_goes_to_the_package_script(ha_dir: Path, pattern: str) -> None:
    assert run(ha_dir, "ResourceManager", "listkeys", pattern)[2] == [
        f"ResourceManager.distrib listkeys {pattern}"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["takegroup", "ha_san-aoe-export::r0"],
        ["givegroup", "ha_san-aoe-export::r0"],
        ["status", "ha_san-aoe-export::r0"],
        ["allkeys", "extra"],
        ["ourkeys"],
        ["otherkeys"],
        ["listkeys"],
        ["listkeys", "primary", "extra"],
    ],
)
def test_every_other_call_runs_the_package_script(ha_dir: Path, args: list[str]) -> None:
    assert run(ha_dir, "ResourceManager", *args)[2] == [f"ResourceManager.distrib {' '.join(args)}"]


def test_req_resource_asks_heartbeat_for_a_group_that_does_not_run_here(ha_dir: Path) -> None:
    resource(ha_dir, "ha_san-aoe-export", "r0: not exported", rc=3)
    rc, out, trace, fifo = run(ha_dir, "req_resource", "ha_san-aoe-export::r0", HA_NICEFAILBACK="yes")
    assert (rc, out, trace, fifo) == (0, "", ["ha_san-aoe-export r0 status"], ASK_MESSAGE)


@pytest.mark.parametrize("words", ["ha_san-aoe-export r0 is running", "OK", "Running"])
def test_req_resource_ends_when_the_group_already_runs_here(ha_dir: Path, words: str) -> None:
    resource(ha_dir, "ha_san-aoe-export", words)
    rc, out, trace, fifo = run(ha_dir, "req_resource", "ha_san-aoe-export::r0", HA_NICEFAILBACK="yes")
    assert (rc, out, trace, fifo) == (0, "", ["ha_san-aoe-export r0 status"], "")


@pytest.mark.parametrize("words", ["r0 is not running", "Not  Running", "stopped"])
def test_req_resource_reads_the_status_words_as_resourcemanager_does(ha_dir: Path, words: str) -> None:
    # ResourceManager's we_own_resource: "not running" (any case) first, then "running" or "OK"; else not ours
    resource(ha_dir, "ha_san-aoe-export", words)
    assert run(ha_dir, "req_resource", "ha_san-aoe-export::r0", HA_NICEFAILBACK="yes")[3] == ASK_MESSAGE


def test_req_resource_alone_in_the_cluster_asks_too(ha_dir: Path) -> None:
    resource(ha_dir, "ha_san-aoe-export", "stopped", rc=3)
    assert run(ha_dir, "req_resource", "ha_san-aoe-export::r0", HA_DONTASK="yes")[3] == ASK_MESSAGE


def test_req_resource_splits_the_arguments_and_reads_a_bare_address_as_ipaddr(ha_dir: Path) -> None:
    resource(ha_dir, "IPaddr", "stopped", rc=3)
    resource(ha_dir, "multi", "stopped", rc=3)
    assert run(ha_dir, "req_resource", "192.0.2.100", HA_NICEFAILBACK="yes")[2] == [
        "IPaddr 192.0.2.100 status"
    ]
    (ha_dir / "trace").unlink()
    assert run(ha_dir, "req_resource", "multi::a::b", HA_NICEFAILBACK="yes")[2] == ["multi a b status"]


def test_req_resource_for_a_key_without_a_script_still_asks(ha_dir: Path) -> None:
    # ResourceManager logs "Cannot locate resource script" and answers "not ours"
    assert run(ha_dir, "req_resource", "missing::r0", HA_NICEFAILBACK="yes")[2:] == (
        [],
        ASK_MESSAGE.replace("ha_san-aoe-export::r0", "missing::r0"),
    )


def test_req_resource_without_nice_failback_runs_the_package_script(ha_dir: Path) -> None:
    # auto_failback on: the package's script asks the other node first; that path is not the role's
    resource(ha_dir, "ha_san-aoe-export", "stopped", rc=3)
    rc, out, trace, fifo = run(ha_dir, "req_resource", "ha_san-aoe-export::r0")
    assert (rc, out, trace, fifo) == (0, "", ["req_resource.distrib ha_san-aoe-export::r0"], "")


@pytest.mark.parametrize(("key", "env"), [("", {}), ("ha_san-aoe-export::r0", {"HA_CURHOST": ""})])
def test_req_resource_leaves_what_it_cannot_name_to_the_package_script(
    ha_dir: Path, key: str, env: dict[str, str]
) -> None:
    rc, out, trace, fifo = run(ha_dir, "req_resource", key, HA_NICEFAILBACK="yes", **env)
    assert (rc, out, trace, fifo) == (0, "", [f"req_resource.distrib {key}"], "")


@pytest.mark.parametrize("name", ["req_resource", "ResourceManager"])
def test_the_lean_scripts_source_nothing(name: str) -> None:
    text = (FILES / name).read_text()
    assert "shellfuncs" not in "".join(
        ln for ln in text.splitlines(keepends=True) if not ln.lstrip().startswith("#")
    )
    assert not any(ln.lstrip().startswith(". ") for ln in text.splitlines())


def _divert_task_shell(tmp_path: Path, name: str) -> subprocess.CompletedProcess[str]:
    """The first task of tasks/takeover_scripts.yml for NAME in TMP_PATH; dpkg-divert records its call."""
    tasks = yaml.safe_load((FILES.parent / "tasks" / "takeover_scripts.yml").read_text())
    cmd = tasks[0]["ansible.builtin.shell"]["cmd"].replace("{{ item }}", name)
    cmd = cmd.replace("/usr/share/heartbeat/", f"{tmp_path}/")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "dpkg-divert").write_text(f'#!/bin/sh\necho "$*" >> "{tmp_path}/diverted"\n')
    (bin_dir / "dpkg-divert").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["sh", "-c", cmd], env=env, capture_output=True, text=True, timeout=30, check=False)


def test_the_divert_task_sets_the_package_script_aside_whole(tmp_path: Path) -> None:
    (tmp_path / "req_resource").write_text("#!/bin/sh\n# the package's\n")
    r = _divert_task_shell(tmp_path, "req_resource")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "req_resource.distrib").read_text() == "#!/bin/sh\n# the package's\n"
    assert (tmp_path / "diverted").read_text() == (
        f"--package ha-san-aoe --divert {tmp_path}/req_resource.distrib --add {tmp_path}/req_resource\n"
    )


def test_the_divert_task_refuses_to_take_the_role_script_for_the_package_one(tmp_path: Path) -> None:
    # the lean script would then run itself for every call it passes on
    (tmp_path / "ResourceManager").write_text((FILES / "ResourceManager").read_text())
    r = _divert_task_shell(tmp_path, "ResourceManager")
    assert r.returncode == 1
    assert "apt-get install --reinstall heartbeat" in r.stderr
    assert not (tmp_path / "ResourceManager.distrib").exists()
    assert not (tmp_path / "diverted").exists()
