"""What the heartbeat role left on the two nodes: files, modes, services, and one holder of the IP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

testinfra_hosts = ["hbnode1", "hbnode2"]

VIP = "172.31.104.100"
PEER = {"hbnode1": ("172.31.104.12", "172.31.104.140"), "hbnode2": ("172.31.104.11", "172.31.104.139")}


def test_authkeys_is_root_only_and_uses_sha1(host):
    f = host.file("/etc/ha.d/authkeys")
    assert f.user == "root"
    assert f.mode == 0o600
    lines = [ln for ln in f.content_string.splitlines() if ln and not ln.startswith("#")]
    assert lines == ["auth 1", "1 sha1 molecule-heartbeat-scenario-only-key"]


def test_ha_cf_has_both_paths_and_the_measured_timings(host):
    name = host.check_output("uname -n")
    cf = host.file("/etc/ha.d/ha.cf").content_string.splitlines()
    san, repl = PEER[name]
    for line in (
        "keepalive 300ms",
        "warntime 1",
        "deadtime 2",
        "initdead 60",
        f"ucast eth0 {san}",
        f"ucast eth1 {repl}",
        "auto_failback off",
        "node hbnode1 hbnode2",
        "ping 172.31.104.13",
        "respawn hacluster /usr/libexec/heartbeat/ipfail",
        "apiauth ipfail gid=haclient uid=hacluster",
        "respawn hacluster /usr/libexec/heartbeat/dopd",
        "apiauth dopd gid=haclient uid=hacluster",
        "stonith_host * external/ha_san_fence hbnode1,hbnode2",
    ):
        assert line in cf


def test_haresources_has_one_group_owned_by_the_primary(host):
    lines = [
        ln
        for ln in host.file("/etc/ha.d/haresources").content_string.splitlines()
        if ln and not ln.startswith("#")
    ]
    assert lines == ["hbnode1 ha_san-molecule-recorder ha_san-service-ip::172.31.104.100/25/eth0"]


def test_stonith_plugin_is_installed_and_recognised(host):
    f = host.file("/usr/lib/stonith/plugins/external/ha_san_fence")
    assert f.user == "root"
    assert f.mode & 0o022 == 0, "cluster-glue ignores plugins writable by group or others"
    assert f.mode & 0o100
    assert "external/ha_san_fence" in host.check_output("stonith -L").splitlines()
    hosts = host.check_output("stonith -t external/ha_san_fence hostlist=hbnode1,hbnode2 -l")
    assert hosts.split() == ["hbnode1", "hbnode2"]


def test_stonith_settings_are_root_only(host):
    conf = host.file("/etc/ha.d/ha_san-stonith.conf")
    assert conf.mode == 0o600
    assert conf.user == "root"
    text = conf.content_string
    assert "HA_SAN_FENCE_DEVICE=file" in text
    assert "HA_SAN_FENCE_ISOLATED_DELAY=10" in text
    assert "HA_SAN_FENCE_PING_NODES=172.31.104.13" in text


def test_drbd_resource_script_of_older_releases_is_removed(host):
    # Gone since the export script promotes DRBD itself: the role removes the script older releases installed.
    assert not host.file("/etc/ha.d/resource.d/ha_san-drbddisk").exists


def test_shellfuncs_sends_concurrent_cluster_messages_whole(host):
    text = host.file("/etc/ha.d/shellfuncs").content_string
    assert text.count("# BEGIN ha_san.aoe.heartbeat: ha_clustermsg in one write") == 1
    # The role's definition must come after the package's: the last one is the one scripts call.
    assert text.rindex("ha_clustermsg()") > text.index("# BEGIN ha_san.aoe.heartbeat")
    out = "/tmp/ha_san-clustermsg-test"
    host.check_output(
        f"rm -f {out}; for i in $(seq 40); do "
        f"(HA_FIFO={out}; . /etc/ha.d/shellfuncs; printf 't=test\\nn=%s\\n' $i | ha_clustermsg) & done; wait"
    )
    stream = host.file(out).content_string
    whole = [i for i in range(1, 41) if f">>>\nt=test\nn={i}\n<<<\n" in stream]
    assert len(whole) == 40, stream


# Stand-ins that record: ResourceManager (takegroup; listkeys answered by the real one), and the group's
# first resource, which the role's harc starts itself before ResourceManager takes the group.
RECORDING_MANAGER = """#!/bin/sh
case "$1" in
  listkeys) exec /usr/share/heartbeat/ResourceManager "$@" ;;
  *) echo "$*" >> "$HA_SAN_TEST_DIR/calls" ;;
esac
"""
RECORDING_RESOURCE = """#!/bin/sh
echo "$*" >> "$HA_SAN_TEST_DIR/started"
"""


def _takeover_by(host, runner: str, dead: str) -> tuple[str, str, str]:
    """A dead-node takeover with the stand-ins: (ResourceManager calls, FIFO bytes, first resource calls)."""
    d = f"/tmp/ha_san-takeover-{runner}-{dead}"
    host.check_output(f"rm -rf {d} && mkdir -p {d}")
    for name, text in (
        ("ResourceManager", RECORDING_MANAGER),
        ("ha_san-molecule-recorder", RECORDING_RESOURCE),
    ):
        host.check_output(f"cat > {d}/{name} <<'EOF'\n{text}EOF\nchmod 755 {d}/{name}")
    env = (
        f"HA_SAN_TEST_DIR={d} HA_NOARCHBIN={d} HA_RESOURCEDIR={d} HA_FIFO={d}/fifo "
        "HA_DIR=/etc/ha.d HA_FUNCS=/etc/ha.d/shellfuncs "
        f"HA_CURHOST=$(uname -n) HA_NICEFAILBACK=yes HA_LOGFACILITY=none HA_st=dead HA_src={dead}"
    )
    cmd = "/usr/share/heartbeat/mach_down " + dead if runner == "package" else "/etc/ha.d/harc status"
    host.check_output(f"env {env} {cmd} 2>/dev/null")
    return tuple(host.check_output(f"cat {d}/{f} 2>/dev/null || true") for f in ("calls", "fifo", "started"))


def test_harc_tells_heartbeat_through_the_fifo_heartbeat_reads(host):
    # Heartbeat does not pass HA_FIFO to harc: shellfuncs sets it, and harc does not source shellfuncs.
    package = host.check_output("env -u HA_FIFO sh -c '. /etc/ha.d/shellfuncs; echo $HA_FIFO'")
    line = next(
        ln for ln in host.file("/etc/ha.d/harc").content_string.splitlines() if ln.startswith("FIFO=")
    )
    assert line == "FIFO=${HA_FIFO:-" + package + "}"
    assert host.run(f"test -p {package}").rc == 0


@pytest.mark.parametrize("dead", ["hbnode1", "hbnode2"])
def test_harc_takes_over_from_a_dead_node_as_the_package_mach_down_does(host, dead):
    calls, fifo, started = _takeover_by(host, "harc", dead)
    assert (calls, fifo) == _takeover_by(host, "package", dead)[:2]
    if dead == "hbnode1" and host.check_output("uname -n") == "hbnode2":  # hbnode1 owns the group
        assert calls == "takegroup ha_san-molecule-recorder"
        assert started == "start"
    else:
        assert (calls, started) == ("", "")


@pytest.mark.parametrize("name", ["req_resource", "ResourceManager"])
def test_the_package_takeover_scripts_are_diverted_and_kept_whole(host, name):
    path = f"/usr/share/heartbeat/{name}"
    assert f"diversion of {path} to {path}.distrib by ha-san-aoe" in host.check_output("dpkg-divert --list")
    sums = host.file("/var/lib/dpkg/info/heartbeat.md5sums").content_string.splitlines()
    package_md5 = next(ln.split()[0] for ln in sums if ln.endswith(f" usr/share/heartbeat/{name}"))
    assert host.check_output(f"md5sum {path}.distrib").split()[0] == package_md5
    lean = host.file(path)
    assert "Managed by ha_san.aoe.heartbeat" in lean.content_string
    assert (lean.user, lean.mode) == ("root", 0o755)


@pytest.mark.parametrize(
    "args", ["listkeys hbnode1", "listkeys hbnode2", "listkeys HBNODE1", "listkeys hbnode", "allkeys"]
)
def test_lean_resource_manager_lists_keys_as_the_package_script(host, args):
    env = "env HA_DIR=/etc/ha.d"
    lean = host.run(f"{env} /usr/share/heartbeat/ResourceManager {args}")
    package = host.run(f"{env} /usr/share/heartbeat/ResourceManager.distrib {args} 2>/dev/null")
    assert (lean.rc, lean.stdout) == (package.rc, package.stdout)
    # hbnode1 is the first of ha_san_servers: the group's home in haresources
    owns = args in ("listkeys hbnode1", "listkeys HBNODE1", "allkeys")
    assert lean.stdout == ("ha_san-molecule-recorder\n" if owns else "")


# A resource whose status the test sets: running (req_resource must not ask) or stopped (it must). Its
# status call is `ha_san-molecule-probe r0 status`: the key's argument comes first.
PROBE = """#!/bin/sh
case "$*" in *status) cat "$HA_SAN_TEST_DIR/status"; exit 0 ;; esac
exit 1
"""


def _req_resource_by(host, script: str, status: str) -> tuple[int, str]:
    d = f"/tmp/ha_san-req-resource-{script}"
    host.check_output(f"rm -rf {d} && mkdir -p {d} && echo '{status}' > {d}/status")
    host.check_output(
        f"cat > {d}/ha_san-molecule-probe <<'EOF'\n{PROBE}EOF\nchmod 755 {d}/ha_san-molecule-probe"
    )
    env = (
        f"HA_SAN_TEST_DIR={d} HA_RESOURCEDIR={d} HA_FIFO={d}/fifo "
        "HA_DIR=/etc/ha.d HA_FUNCS=/etc/ha.d/shellfuncs "
        "HA_NOARCHBIN=/usr/share/heartbeat HA_CURHOST=$(uname -n) HA_NICEFAILBACK=yes HA_LOGFACILITY=none"
    )
    r = host.run(f"env {env} /usr/share/heartbeat/{script} ha_san-molecule-probe::r0 2>/dev/null")
    return r.rc, host.check_output(f"cat {d}/fifo 2>/dev/null || true")


@pytest.mark.parametrize("status", ["r0 is running", "r0 is not running", "stopped"])
def test_lean_req_resource_tells_heartbeat_what_the_package_script_does(host, status):
    lean = _req_resource_by(host, "req_resource", status)
    assert lean == _req_resource_by(host, "req_resource.distrib", status)
    name = host.check_output("uname -n")
    asked = f">>>\nt=ip-request-resp\ndest={name}\nipaddr=ha_san-molecule-probe::r0\nweown=yes\nok=OK\n<<<"
    assert lean == (0, "" if status == "r0 is running" else asked)


def test_the_shared_resource_functions_are_installed(host):
    # without them harc, req_resource and ResourceManager quietly take the package's slower way
    f = host.file("/usr/local/lib/ha_san/resource_functions.sh")
    assert f.is_file
    assert (f.user, f.group, f.mode) == ("root", "root", 0o644)
    assert "Managed by ha_san.aoe.heartbeat" in f.content_string


# Stand-ins for the group's two resources, under their haresources names: each call is recorded; status
# answers from a file the test writes ("running" or "stopped").
STAND_IN = """#!/bin/sh
echo "${0##*/} $*" >> "$HA_SAN_TEST_DIR/calls"
case "$*" in *status) cat "$HA_SAN_TEST_DIR/status.${0##*/}"; exit 0 ;; esac
exit 0
"""
GROUP_NAMES = ("ha_san-molecule-recorder", "ha_san-service-ip")


def _group_call_by(host, script: str, call: str, running: tuple[str, ...]) -> tuple[int, list[str]]:
    d = f"/tmp/ha_san-group-{script}"
    host.check_output(f"rm -rf {d} && mkdir -p {d}")
    for name in GROUP_NAMES:
        status = "running" if name in running else "stopped"
        host.check_output(f"cat > {d}/{name} <<'EOF'\n{STAND_IN}EOF\nchmod 755 {d}/{name}")
        host.check_output(f"echo {status} > {d}/status.{name}")
    env = f"HA_SAN_TEST_DIR={d} HA_RESOURCEDIR={d} HA_DIR=/etc/ha.d HA_DEBUGLOG={d}/debug HA_LOGFACILITY=none"
    r = host.run(f"env {env} /usr/share/heartbeat/{script} {call} ha_san-molecule-recorder")
    return r.rc, host.check_output(f"cat {d}/calls 2>/dev/null || true").splitlines()


REC, IP = "ha_san-molecule-recorder", "ha_san-service-ip 172.31.104.100/25/eth0"


# The real haresources, the package's script and the role's, each on its own stand-ins: the same calls in the
# same order. A failed start is left out: the package's script then asks Heartbeat for a standby 30 s later.
@pytest.mark.parametrize(
    ("call", "running", "calls"),
    [
        ("takegroup", (), [f"{REC} status", f"{REC} start", f"{IP} status", f"{IP} start"]),
        ("takegroup", (REC,), [f"{REC} status", f"{IP} status", f"{IP} start"]),
        ("takegroup", GROUP_NAMES, [f"{REC} status", f"{IP} status"]),
        ("givegroup", GROUP_NAMES, [f"{IP} stop", f"{REC} stop"]),
    ],
)
def test_lean_resource_manager_runs_a_group_as_the_package_script(host, call, running, calls):
    lean = _group_call_by(host, "ResourceManager", call, running)
    assert lean == _group_call_by(host, "ResourceManager.distrib", call, running)
    assert lean == (0, calls)


def test_the_fence_peer_handler_leaves_a_live_peer_to_dopd(host):
    # `echo` stands in for drbd-peer-outdater: it is run, with the handler's arguments, for a peer that is up.
    f = host.file("/usr/local/sbin/ha_san-fence-peer")
    assert (f.user, f.group, f.mode) == ("root", "root", 0o755)
    peer = next(n for n in testinfra_hosts if n != host.check_output("uname -n"))
    r = host.run(f"env DRBD_PEER={peer} HA_SAN_OUTDATER=/bin/echo /usr/local/sbin/ha_san-fence-peer -t 5")
    assert (r.rc, r.stdout.strip()) == (0, "-t 5")


@pytest.mark.parametrize("path", ["/lib/drbd/drbdsetup-84", "/usr/sbin/drbdmeta"])
def test_dopd_may_run_the_drbd_tools(host, path):
    assert f"root haclient 4750 {path}" in host.check_output("dpkg-statoverride --list")
    f = host.file(path)
    assert f.group == "haclient"
    assert f.mode == 0o4750


def test_heartbeat_runs_with_dopd_and_ipfail(host):
    svc = host.service("heartbeat")
    assert svc.is_running
    assert svc.is_enabled
    procs = host.check_output("ps -eo args")
    assert "/usr/libexec/heartbeat/dopd" in procs
    assert "/usr/libexec/heartbeat/ipfail" in procs


def test_both_nodes_see_each_other(host):
    for node in ("hbnode1", "hbnode2"):
        assert host.check_output(f"cl_status nodestatus {node}") == "active"


def test_the_service_ip_is_on_exactly_one_node():
    holders: list[str] = []
    for _attempt in range(60):
        holders = [
            n
            for n in testinfra_hosts
            if f" {VIP}/"
            in subprocess.run(
                ["docker", "exec", n, "ip", "-o", "-4", "addr", "show"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        ]
        if holders:
            break
        time.sleep(1)
    assert len(holders) == 1, f"VIP {VIP} held by {holders}"


# The role's takeover scripts on a Heartbeat version it was not written for, then on its own again: the
# playbook runs tasks/takeover_scripts.yml with the known versions replaced, as a release of heartbeat with
# new scripts would look to the role. Last in this file: the drills that follow find the lean scripts back.
TAKEOVER_PLAY = """\
- name: The takeover scripts of the heartbeat role
  hosts: primary:secondary
  gather_facts: false
  tasks:
    - name: Run the role's takeover scripts
      ansible.builtin.include_role:
        name: ha_san.aoe.heartbeat
        tasks_from: takeover_scripts
"""
TAKEOVER_SCRIPTS = ("req_resource", "ResourceManager")


def _run_takeover_scripts(tmp_path: Path, extra_vars: dict) -> str:
    play = tmp_path / "takeover.yml"
    play.write_text(TAKEOVER_PLAY)
    r = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            str(play),
            "-e",
            json.dumps(extra_vars),
        ],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        },
        check=False,
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    return " ".join(out.split())


def _changed(out: str, node: str) -> int:
    m = re.search(rf"{node}\s*:\s*ok=\d+\s+changed=(\d+)", out)
    assert m, out
    return int(m.group(1))


def _docker(node: str, *cmd: str) -> str:
    return subprocess.run(["docker", "exec", node, *cmd], capture_output=True, text=True, check=True).stdout


def test_an_unknown_heartbeat_version_gets_the_package_scripts_back_and_a_known_one_the_lean_ones(tmp_path):
    version = _docker("hbnode1", "dpkg-query", "--show", "--showformat=${Version}", "heartbeat")
    out = _run_takeover_scripts(tmp_path, {"__heartbeat_takeover_scripts_versions": ["1:3.0.6-99"]})
    assert (
        f"WARNING: heartbeat {version} is installed, but the role's lean req_resource and ResourceManager "
        "were written for the package's scripts of heartbeat 1:3.0.6-99 only" in out
    ), out
    for node in testinfra_hosts:
        assert _changed(out, node) == 1, out  # the task that gives the package's scripts back
        sums = _docker(node, "cat", "/var/lib/dpkg/info/heartbeat.md5sums").splitlines()
        assert "ha-san-aoe" not in _docker(node, "dpkg-divert", "--list"), node
        for name in TAKEOVER_SCRIPTS:
            path = f"/usr/share/heartbeat/{name}"
            package_md5 = next(ln.split()[0] for ln in sums if ln.endswith(f" usr/share/heartbeat/{name}"))
            assert _docker(node, "md5sum", path).split()[0] == package_md5, (node, name)
            assert _docker(node, "stat", "-c", "%U %a", path).split() == ["root", "755"], (node, name)
            assert _docker(node, "sh", "-c", f"ls {path}.* 2>/dev/null || true") == "", (node, name)
        # The package's ResourceManager answers, as the lean one did above.
        manager = "/usr/share/heartbeat/ResourceManager"
        keys = _docker(node, "env", "HA_DIR=/etc/ha.d", manager, "listkeys", "hbnode1")
        assert keys == "ha_san-molecule-recorder\n", (node, keys)
    again = _run_takeover_scripts(tmp_path, {"__heartbeat_takeover_scripts_versions": ["1:3.0.6-99"]})
    assert all(_changed(again, node) == 0 for node in testinfra_hosts), again

    out = _run_takeover_scripts(tmp_path, {})
    assert "WARNING: heartbeat" not in out, out
    for node in testinfra_hosts:
        assert _changed(out, node) == 2, out  # the divert task, then the lean scripts' copy
        diversions = _docker(node, "dpkg-divert", "--list")
        for name in TAKEOVER_SCRIPTS:
            path = f"/usr/share/heartbeat/{name}"
            assert f"diversion of {path} to {path}.distrib by ha-san-aoe" in diversions, (node, name)
            assert "Managed by ha_san.aoe.heartbeat" in _docker(node, "head", "-3", path), (node, name)
