"""ha_san.aoe.aoe_stat with sysfs and aoe-stat answered from the captured fixtures."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible_collections.ha_san.aoe.plugins.modules import aoe_stat
from modrun import FakeHost, run


class AoeHost(FakeHost):
    def __init__(self, state, moves=None, polls=None, driver=True):
        super().__init__("aoe", state, moves, polls)
        self.driver = driver
        self.reads = 0

    def read_sysfs(self, block_dir="/sys/block"):
        self.reads += 1
        if self.polls and self.reads > 1:
            self.state = self.polls.pop(0)
        return self.capture.sysfs()

    def run_command(self, argv, **kwargs):
        if argv[0].endswith("aoe-stat") and self.polls and self.calls:
            self.state = self.polls.pop(0)
        return super().run_command(argv, **kwargs)


def go(capsys, host, check_mode=False, **args):
    real_isdir = aoe_stat.os.path.isdir

    def isdir(path):
        if path == aoe_stat.AOE_DRIVER:
            return host.driver
        return real_isdir(path)

    return run(
        aoe_stat,
        args,
        host,
        capsys,
        check_mode=check_mode,
        extra_patches=[
            mock.patch.object(aoe_stat, "read_sysfs", host.read_sysfs),
            mock.patch.object(aoe_stat.os.path, "isdir", isdir),
        ],
    )


@pytest.mark.parametrize("source", ["sysfs", "aoe-stat"])
@pytest.mark.parametrize(
    ("state", "names"),
    [("no_targets", []), ("one_target", ["e7.1"]), ("several_targets", ["e7.1", "e7.2", "e7.3"])],
)
def test_list(capsys, state, names, source):
    host = AoeHost(state)
    r = go(capsys, host, source=source)
    assert r["_rc"] == 0 and r["changed"] is False and r["discovered"] is False
    assert [t["name"] for t in r["targets"]] == names
    assert r["ansible_facts"]["aoe_targets"] == r["targets"]
    assert (host.calls == ["aoe-stat"]) is (source == "aoe-stat")


def test_sizes_are_exact_from_sysfs(capsys):
    r = go(capsys, AoeHost("one_target"))
    (t,) = r["targets"]
    assert (t["size_bytes"], t["shelf"], t["slot"], t["interfaces"], t["state"]) == (
        64 * 1024 * 1024,
        7,
        1,
        ["eth1"],
        "up",
    )


def test_discover_then_wait(capsys):
    host = AoeHost("no_targets", moves={"aoe-discover": (0, "", "")}, polls=["no_targets", "one_target"])
    r = go(capsys, host, discover=True, wait_for=["e7.1"], timeout=30)
    assert r["_rc"] == 0 and r["discovered"] is True and r["changed"] is False
    assert host.calls[0] == "aoe-discover"
    assert [t["name"] for t in r["targets"]] == ["e7.1"]


def test_wait_for_missing_target_times_out_clearly(capsys):
    host = AoeHost("several_targets")
    r = go(capsys, host, wait_for=["e9.9"], timeout=0)
    assert r["_rc"] == 1
    assert r["msg"].startswith("Timed out after 0 s waiting for AoE target(s) e9.9 to be up")
    assert "e9.9 not discovered; other targets seen: e7.1, e7.2, e7.3" in r["msg"]
    assert r["missing"] == ["e9.9"] and len(r["targets"]) == 3


def test_wait_for_up_but_target_down(capsys):
    r = go(capsys, AoeHost("target_down_closewait"), wait_for=["e7.1", "e7.2"], timeout=0)
    assert r["_rc"] == 1 and "e7.1 down,closewait on eth1" in r["msg"] and r["missing"] == ["e7.1"]


@pytest.mark.parametrize("state", ["target_down", "target_down_closewait"])
def test_wait_for_down(capsys, state):
    r = go(capsys, AoeHost(state), wait_for=["e7.1"], state="down", timeout=0)
    assert r["_rc"] == 0


def test_wait_for_absent_and_present(capsys):
    assert go(capsys, AoeHost("one_target"), wait_for=["e7.2"], state="absent", timeout=0)["_rc"] == 0
    assert go(capsys, AoeHost("target_down"), wait_for=["e7.1"], state="present", timeout=0)["_rc"] == 0


def test_rediscovers_while_waiting(capsys):
    host = AoeHost(
        "no_targets", moves={"aoe-discover": (0, "", "")}, polls=["no_targets"] * 3 + ["one_target"]
    )
    times = iter(range(0, 1000, 3))
    with mock.patch.object(aoe_stat.time, "monotonic", lambda: next(times)):
        r = go(capsys, host, discover=True, wait_for=["e7.1"], timeout=100)
    assert r["_rc"] == 0 and host.calls.count("aoe-discover") >= 2


def test_check_mode_sends_no_discovery(capsys):
    host = AoeHost("one_target")
    r = go(capsys, host, check_mode=True, discover=True, wait_for=["e7.1"])
    assert r["_rc"] == 0 and r["discovered"] is False and "aoe-discover" not in host.calls


def test_driver_not_loaded(capsys):
    r = go(capsys, AoeHost("no_targets", driver=False))
    assert r["_rc"] == 1 and "modprobe aoe" in r["msg"]


@pytest.mark.parametrize(
    ("tool", "args"), [("aoe-discover", {"discover": True}), ("aoe-stat", {"source": "aoe-stat"})]
)
def test_missing_tools_name_the_package(capsys, tool, args):
    host = AoeHost("one_target")
    host.missing_tools = {tool}
    r = go(capsys, host, **args)
    assert r["_rc"] == 1 and f"{tool} was not found" in r["msg"] and "aoetools" in r["msg"]


def test_discover_failure(capsys):
    err = "aoe-discover: /dev/etherd/discover does not exist or is not writeable.\n"
    host = AoeHost("no_targets", moves={"aoe-discover": (1, "", err)})
    r = go(capsys, host, discover=True)
    assert r["_rc"] == 1 and r["rc"] == 1 and r["stderr"] == err and "not writeable" in r["msg"]


def test_aoe_stat_failure(capsys):
    err = "aoe-stat Error: sysfs is not mounted\n"
    host = AoeHost("no_targets", moves={"aoe-stat": (1, "", err)})
    r = go(capsys, host, source="aoe-stat")
    assert r["_rc"] == 1 and "sysfs is not mounted" in r["msg"]


def test_aoe_stat_unknown_format_fails_loudly(capsys):
    host = AoeHost("no_targets", moves={"aoe-stat": (0, "e7.1 big eth1 1024 up\n", "")})
    r = go(capsys, host, source="aoe-stat")
    assert r["_rc"] == 1 and "cannot parse" in r["msg"] and r["stdout"] == "e7.1 big eth1 1024 up\n"


def test_sysfs_unknown_content_fails_loudly(capsys):
    host = AoeHost("one_target")
    host.read_sysfs = lambda block_dir="/sys/block": {"etherd!e7.1": {"state": "sideways\n"}}
    r = go(capsys, host)
    assert r["_rc"] == 1 and "cannot parse" in r["msg"] and "sideways" in r["stdout"]


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ({"wait_for": ["0.3"]}, "not an AoE target name"),
        ({"timeout": -5}, "timeout must be 0 or more"),
    ],
)
def test_bad_arguments(capsys, args, text):
    host = AoeHost("no_targets")
    r = go(capsys, host, **args)
    assert r["_rc"] == 1 and text in r["msg"] and host.calls == []


def test_read_sysfs_reads_real_directories(tmp_path):
    d = tmp_path / "etherd!e0.3"
    d.mkdir()
    (d / "state").write_text("up\n")
    (d / "size").write_text("16\n")
    (tmp_path / "vda").mkdir()
    assert aoe_stat.read_sysfs(str(tmp_path)) == {"etherd!e0.3": {"state": "up\n", "size": "16\n"}}
