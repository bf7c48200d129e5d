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
        "HA_SAN_FUNCTIONS": str(FILES / "resource_functions.sh"),
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
        ["status", "ha_san-aoe-export::r0"],
        ["takegroup"],
        ["givegroup", "ha_san-aoe-export::r0", "extra"],
        ["allkeys", "extra"],
        ["ourkeys"],
        ["otherkeys"],
        ["listkeys"],
        ["listkeys", "primary", "extra"],
    ],
)
def test_every_other_call_runs_the_package_script(ha_dir: Path, args: list[str]) -> None:
    assert run(ha_dir, "ResourceManager", *args)[2] == [f"ResourceManager.distrib {' '.join(args)}"]


GROUP = "primary ha_san-aoe-export::r0 ha_san-service-ip::192.0.2.100/24/eth1"
EXPORT, SERVICE_IP = "ha_san-aoe-export r0", "ha_san-service-ip 192.0.2.100/24/eth1"


def group_resource(ha_dir: Path, name: str, running: bool = False, fail: str = "") -> None:
    """A resource script that records each call, answers status as an LSB script does and fails FAIL."""
    script = ha_dir / "resource.d" / name
    script.write_text(
        f'#!/bin/sh\necho "{name} $*" >> "{ha_dir}/trace"\necho "{name} says $*"\n'
        f'case "$2" in status) {"echo running; exit 0" if running else "echo stopped; exit 3"} ;; '
        f"{fail or 'none'}) exit 1 ;; esac\nexit 0\n"
    )
    script.chmod(0o755)


def group_call(ha_dir: Path, *args: str) -> tuple[int, str, list[str], str]:
    """ResourceManager ARGS with a debug log: exit code, stdout, the scripts' calls, the debug log."""
    debug = ha_dir / "debug.log"
    rc, out, trace, _fifo = run(
        ha_dir, "ResourceManager", *args, HA_DEBUGLOG=str(debug), HA_LOGFACILITY="none"
    )
    return rc, out, trace, debug.read_text() if debug.exists() else ""


def test_takegroup_starts_each_resource_that_does_not_run_left_to_right(ha_dir: Path) -> None:
    group_resource(ha_dir, "ha_san-aoe-export")
    group_resource(ha_dir, "ha_san-service-ip")
    rc, out, trace, debug = group_call(ha_dir, "takegroup", "ha_san-aoe-export::r0")
    assert (rc, out) == (0, "")
    assert trace == [f"{EXPORT} status", f"{EXPORT} start", f"{SERVICE_IP} status", f"{SERVICE_IP} start"]
    # the package's log lines; the scripts' output in the debug log, as the package's script sends it
    assert debug.splitlines() == [
        f"info: Acquiring resource group: {GROUP}",
        "info: Running " + str(ha_dir / "resource.d" / "ha_san-aoe-export") + " r0 start",
        "ha_san-aoe-export says r0 start",
        "info: Running " + str(ha_dir / "resource.d" / "ha_san-service-ip") + " 192.0.2.100/24/eth1 start",
        "ha_san-service-ip says 192.0.2.100/24/eth1 start",
    ]


def test_the_resource_directory_is_found_from_heartbeats_ha_dir(ha_dir: Path) -> None:
    # Heartbeat passes HA_DIR=/etc/ha.d/ and no HA_RESOURCEDIR: the log names the script by its plain path
    group_resource(ha_dir, "ha_san-aoe-export", running=True)
    group_resource(ha_dir, "ha_san-service-ip")
    debug = ha_dir / "debug.log"
    run(
        ha_dir,
        "ResourceManager",
        "takegroup",
        "ha_san-aoe-export::r0",
        HA_DIR=f"{ha_dir}/",
        HA_RESOURCEDIR="",
        HA_DEBUGLOG=str(debug),
        HA_LOGFACILITY="none",
    )
    assert (
        f"info: Running {ha_dir}/resource.d/ha_san-service-ip 192.0.2.100/24/eth1 start" in debug.read_text()
    )


def test_takegroup_leaves_a_resource_that_runs_alone(ha_dir: Path) -> None:
    # harc starts the export first and then runs takegroup: only the service IP is left to start
    group_resource(ha_dir, "ha_san-aoe-export", running=True)
    group_resource(ha_dir, "ha_san-service-ip")
    assert group_call(ha_dir, "takegroup", "ha_san-aoe-export::r0")[2] == [
        f"{EXPORT} status",
        f"{SERVICE_IP} status",
        f"{SERVICE_IP} start",
    ]


def test_takegroup_hands_the_group_to_the_package_script_when_a_start_fails(ha_dir: Path) -> None:
    # the package's script gives the whole group up and asks for a standby: its way, not rewritten here
    group_resource(ha_dir, "ha_san-aoe-export", fail="start")
    group_resource(ha_dir, "ha_san-service-ip")
    rc, _out, trace, debug = group_call(ha_dir, "takegroup", "ha_san-aoe-export::r0")
    assert (rc, trace) == (
        0,
        [f"{EXPORT} status", f"{EXPORT} start", "ResourceManager.distrib takegroup ha_san-aoe-export::r0"],
    )
    assert "ERROR: Return code 1 from " + str(ha_dir / "resource.d" / "ha_san-aoe-export") in debug


def test_givegroup_stops_each_resource_right_to_left(ha_dir: Path) -> None:
    group_resource(ha_dir, "ha_san-aoe-export", running=True)
    group_resource(ha_dir, "ha_san-service-ip", running=True)
    rc, out, trace, debug = group_call(ha_dir, "givegroup", "ha_san-aoe-export::r0")
    assert (rc, out, trace) == (0, "", [f"{SERVICE_IP} stop", f"{EXPORT} stop"])
    assert debug.splitlines()[0] == f"info: Releasing resource group: {GROUP}"


def test_givegroup_hands_the_group_to_the_package_script_when_a_stop_fails(ha_dir: Path) -> None:
    # the package's script retries the stop and reboots the node when it still fails: a resource that will
    # not stop could otherwise run on both nodes; nothing after the failed stop is stopped here
    group_resource(ha_dir, "ha_san-aoe-export", running=True)
    group_resource(ha_dir, "ha_san-service-ip", running=True, fail="stop")
    assert group_call(ha_dir, "givegroup", "ha_san-aoe-export::r0")[:3] == (
        0,
        "",
        [f"{SERVICE_IP} stop", "ResourceManager.distrib givegroup ha_san-aoe-export::r0"],
    )


@pytest.mark.parametrize("call", ["takegroup", "givegroup"])
def test_a_group_is_found_by_any_of_its_resources_whatever_the_owners_case(ha_dir: Path, call: str) -> None:
    # the package's script greps for " KEY " in the whole line
    (ha_dir / "haresources").write_text("# primary two\nPrimary one two::x\nsecondary three\n")
    group_resource(ha_dir, "one")
    group_resource(ha_dir, "two")
    rc, _out, trace, debug = group_call(ha_dir, call, "two::x")
    assert rc == 0
    taken = ["one status", "one start", "two x status", "two x start"]
    assert trace == (taken if call == "takegroup" else ["two x stop", "one stop"])
    assert "resource group: primary one two::x" in debug


@pytest.mark.parametrize("call", ["takegroup", "givegroup"])
def test_a_key_no_group_has_does_nothing(ha_dir: Path, call: str) -> None:
    group_resource(ha_dir, "ha_san-aoe-export")
    assert group_call(ha_dir, call, "ha_san-aoe-export::r9") == (0, "", [], "")


@pytest.mark.parametrize("call", ["takegroup", "givegroup"])
@pytest.mark.parametrize(
    ("haresources", "key"),
    [
        ("primary one \\\n  two\n", "one"),  # a continued line
        ("primary one\nsecondary two one\n", "one"),  # on two lines: the package's script merges them
        ("primary one.x\n", "one.x"),  # a pattern's character: egrep's to read
        ("primary one*\n", "one*"),
        ("primary one missing::a\n", "one"),  # a resource without a script
    ],
)
def test_what_the_lean_reading_would_get_wrong_goes_to_the_package_script(
    ha_dir: Path, call: str, haresources: str, key: str
) -> None:
    (ha_dir / "haresources").write_text(haresources)
    group_resource(ha_dir, "one")
    group_resource(ha_dir, "two")
    trace = group_call(ha_dir, call, key)[2]
    assert trace[-1] == f"ResourceManager.distrib {call} {key}"
    # nothing was started or stopped before the hand-over, but the start that comes before a missing script
    before = ["one status", "one start"] if "missing" in haresources and call == "takegroup" else []
    assert trace[:-1] == before


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


@pytest.mark.parametrize("name", ["req_resource", "ResourceManager", "harc"])
def test_the_scripts_source_only_the_roles_functions(name: str) -> None:
    code = [ln.strip() for ln in (FILES / name).read_text().splitlines() if not ln.lstrip().startswith("#")]
    sourced = [ln for ln in code if ln.startswith(". ")]
    # harc's package path still sources shellfuncs, after the fast paths
    assert sourced == ['. "$FUNCTIONS"'] + (['. "$HA_FUNCS"'] if name == "harc" else [])
    assert "shellfuncs" not in " ".join(code)


def test_the_roles_functions_run_nothing_when_sourced() -> None:
    """Only definitions: sourcing the file forks nothing and prints nothing."""
    code = [
        ln
        for ln in (FILES / "resource_functions.sh").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    top_level = [ln for ln in code if not ln.startswith((" ", "}"))]
    assert all(ln.endswith("() {") for ln in top_level), top_level


def test_without_the_roles_functions_every_call_goes_to_the_package_script(ha_dir: Path) -> None:
    missing = str(ha_dir / "no-such-file")
    assert run(ha_dir, "ResourceManager", "allkeys", HA_SAN_FUNCTIONS=missing)[:3] == (
        0,
        "",
        ["ResourceManager.distrib allkeys"],
    )
    (ha_dir / "trace").unlink()
    rc, _out, trace, fifo = run(
        ha_dir, "req_resource", "ha_san-aoe-export::r0", HA_NICEFAILBACK="yes", HA_SAN_FUNCTIONS=missing
    )
    assert (rc, trace, fifo) == (0, ["req_resource.distrib ha_san-aoe-export::r0"], "")


def _divert_task_shell(tmp_path: Path, name: str) -> subprocess.CompletedProcess[str]:
    """The divert task of tasks/takeover_scripts.yml for NAME in TMP_PATH; dpkg-divert records its call."""
    tasks = yaml.safe_load((FILES.parent / "tasks" / "takeover_scripts.yml").read_text())
    task = next(t for t in tasks if t["name"] == "Set the package's takeover scripts aside (dpkg-divert)")
    cmd = task["ansible.builtin.shell"]["cmd"].replace("{{ item }}", name)
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
