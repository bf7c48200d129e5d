"""The AoE parsers on what the aoe driver and aoe-stat really print (tests/unit/fixtures/aoe/)."""

from __future__ import annotations

import pytest
from ansible_collections.ha_san.aoe.plugins.module_utils import aoe_targets as at
from fixture_data import load, states

MIB = 1024 * 1024
# state -> {name: (size_bytes, state)} as the lab exported them (lab/capture_fixtures.py EXPORTS)
EXPECTED = {
    "no_targets": {},
    "one_target": {"e7.1": (64 * MIB, "up")},
    "several_targets": {"e7.1": (64 * MIB, "up"), "e7.2": (32 * MIB, "up"), "e7.3": (16 * MIB, "up")},
    # a failed target's capacity drops to 0 in sysfs (aoe-stat then prints 0.000GB)
    "target_down_closewait": {
        "e7.1": (0, "down,closewait"),
        "e7.2": (32 * MIB, "up"),
        "e7.3": (16 * MIB, "up"),
    },
    "target_down": {"e7.1": (0, "down"), "e7.2": (32 * MIB, "up"), "e7.3": (16 * MIB, "up")},
}


def test_every_state_captured():
    assert set(EXPECTED) <= set(states("aoe")), set(EXPECTED) - set(states("aoe"))


@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_sysfs(state):
    targets = at.targets_from_sysfs(load("aoe", state).sysfs())
    got = {t["name"]: (t["size_bytes"], t["state"]) for t in targets}
    assert got == EXPECTED[state]
    for t in targets:
        assert t["interfaces"] == ["eth1"]
        assert isinstance(t["payload"], int) and t["payload"] > 0
        assert (t["shelf"], t["device"]) == (7, f"/dev/etherd/{t['name']}")
        assert t["up"] is (t["state"] == "up")
        assert t["mac"] and t["mac"] != "none"


@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_aoe_stat_agrees_with_sysfs(state):
    cap = load("aoe", state)
    rc, out, err = cap.run(["aoe-stat"])
    targets = at.parse_aoe_stat(out)
    if not EXPECTED[state]:
        assert (rc, out, err) == (1, "", "")  # its final "grep ." finds nothing
    sysfs = {t["name"]: t for t in at.targets_from_sysfs(cap.sysfs())}
    assert [t["name"] for t in targets] == sorted(sysfs, key=at.split_name)
    for t in targets:
        s = sysfs[t["name"]]
        assert (t["state"], t["interfaces"], t["payload"]) == (s["state"], s["interfaces"], s["payload"])
        # aoe-stat rounds down to the MB (10^6 bytes)
        assert s["size_bytes"] - 10**6 < t["size_bytes"] <= s["size_bytes"]


def test_state_words():
    assert at.parse_state("down,closewait\n") == {
        "state": "down,closewait",
        "up": False,
        "flags": ["closewait"],
    }
    assert at.parse_state("up,kickme")["up"] is True
    with pytest.raises(at.AoeParseError):
        at.parse_state("sideways")


@pytest.mark.parametrize("name", ["e0.3", "e65534.255"])
def test_names(name):
    shelf, slot = at.split_name(name)
    assert name == f"e{shelf}.{slot}"


@pytest.mark.parametrize("name", ["e0", "0.3", "e0.3p1", "E0.3", "e0.x", ""])
def test_bad_names(name):
    with pytest.raises(at.AoeParseError):
        at.split_name(name)


def test_sysfs_partitions_and_other_disks_are_skipped():
    entries = {
        "etherd!e0.3": {"state": "up\n", "size": "8\n", "netif": "eth1,eth2\n"},
        "etherd!e0.3p1": {"state": "up\n"},
        "vda": {"size": "1"},
    }
    (t,) = at.targets_from_sysfs(entries)
    assert t["interfaces"] == ["eth1", "eth2"] and t["size_bytes"] == 4096 and t["payload"] is None


def test_sysfs_target_not_yet_answered():
    (t,) = at.targets_from_sysfs({"etherd!e1.2": {"state": "down\n", "netif": "none\n"}})
    assert (t["size_bytes"], t["interfaces"], t["mac"]) == (None, [], None)


@pytest.mark.parametrize(
    "files",
    [{}, {"state": "maybe\n"}, {"state": "up\n", "size": "lots\n"}, {"state": "up\n", "payload": "x\n"}],
)
def test_sysfs_unknown_content_raises(files):
    with pytest.raises(at.AoeParseError):
        at.targets_from_sysfs({"etherd!e0.3": files})


def test_aoe_stat_old_driver_without_payload_and_na():
    text = "      e0.3         0.268GB   eth1 up            \n      e1.0            (NA)   (NA) down\n"
    a, b = at.parse_aoe_stat(text)
    assert (a["size_bytes"], a["payload"], a["state"]) == (268_000_000, None, "up")
    assert (b["size_bytes"], b["interfaces"], b["up"]) == (None, [], False)


def test_aoe_stat_warning_lines_are_skipped():
    text = (
        "aoe-stat Warning: device node /dev/etherd/e45.1 has wrong minor device number\n"
        "     e45.1      1152.874GB   eth0 1024  up\n"
    )
    (t,) = at.parse_aoe_stat(text)
    assert (t["shelf"], t["slot"], t["size_bytes"]) == (45, 1, 1_152_874_000_000)


@pytest.mark.parametrize(
    "text",
    [
        "e0.3 0.268GB\n",
        "e0.3 0.268GB eth1 1024 up extra\n",
        "x0.3 0.268GB eth1 1024 up\n",
        "e0.3 268MB eth1 1024 up\n",
        "e0.3 0.268GB eth1 lots up\n",
        "e0.3 0.268GB eth1 1024 sideways\n",
    ],
)
def test_aoe_stat_unknown_format_raises(text):
    with pytest.raises(at.AoeParseError) as exc:
        at.parse_aoe_stat(text)
    assert exc.value.text == text


def _t(name, state="up"):
    return {"name": name, "state": state, "up": state.startswith("up"), "interfaces": ["eth1"]}


@pytest.mark.parametrize(
    ("targets", "state", "done", "missing"),
    [
        ([_t("e0.3")], "up", True, []),
        ([_t("e0.3", "down,closewait")], "up", False, ["e0.3"]),
        ([_t("e0.3", "down,closewait")], "down", True, []),
        ([_t("e0.3", "down")], "present", True, []),
        ([], "present", False, ["e0.3"]),
        ([], "absent", True, []),
        ([_t("e0.3")], "absent", False, ["e0.3"]),
        ([_t("e0.3")], "down", False, ["e0.3"]),
    ],
)
def test_wanted_reached(targets, state, done, missing):
    assert at.wanted_reached(targets, ["e0.3"], state) == (done, missing)


def test_wanted_reached_rejects_unknown_state():
    with pytest.raises(ValueError):
        at.wanted_reached([], ["e0.3"], "sideways")


def test_describe():
    assert at.describe([_t("e0.3")], ["e9.9"]) == "e9.9 not discovered; other targets seen: e0.3"
    assert at.describe([], ["e9.9"]) == "e9.9 not discovered; no AoE targets seen at all"
    assert at.describe([_t("e0.3", "down")], ["e0.3"]) == "e0.3 down on eth1"


def test_aoe_stat_blank_lines_and_na_payload():
    (t,) = at.parse_aoe_stat("\n      e0.3         0.268GB   eth1 (NA)  up\n\n")
    assert t["payload"] is None and t["up"] is True
