"""The DRBD parsers on what the programs really print (tests/unit/fixtures/drbd/)."""

from __future__ import annotations

import pytest
from ansible_collections.ha_san.aoe.plugins.module_utils import drbd_status as ds
from fixture_data import load, states

# state -> role, peer_role, disk, peer_disk, connection, replication, sync (None, "partial", 100.0)
EXPECTED_84 = {
    "wfconnection": ("Secondary", "Unknown", "Inconsistent", "DUnknown", "Connecting", "Off", None),
    "connected_inconsistent": (
        "Secondary",
        "Secondary",
        "Inconsistent",
        "Inconsistent",
        "Connected",
        "Established",
        None,
    ),
    "sync_source": ("Primary", "Secondary", "UpToDate", "Inconsistent", "Connected", "SyncSource", "partial"),
    "sync_target": ("Secondary", "Primary", "Inconsistent", "UpToDate", "Connected", "SyncTarget", "partial"),
    "primary_uptodate": ("Primary", "Secondary", "UpToDate", "UpToDate", "Connected", "Established", 100.0),
    "secondary_uptodate": ("Secondary", "Primary", "UpToDate", "UpToDate", "Connected", "Established", 100.0),
    "peer_outdated": ("Primary", "Unknown", "UpToDate", "Outdated", "Connecting", "Off", None),
    "secondary_disconnected": ("Secondary", "Unknown", "UpToDate", "DUnknown", "Connecting", "Off", None),
    # after a split brain 8.4 shows no peer at all in `drbdadm status`; dstate keeps the fenced
    # peer's last known disk state (Outdated: it was fenced while cut off)
    "standalone_split_brain": ("Primary", "Unknown", "UpToDate", "Outdated", "StandAlone", "Off", None),
    "split_brain_victim": ("Secondary", "Unknown", "UpToDate", "Outdated", "StandAlone", "Off", None),
    "diskless": ("Secondary", "Primary", "Diskless", "UpToDate", "Connected", "Established", None),
    "peer_diskless": ("Primary", "Secondary", "UpToDate", "Diskless", "Connected", "Established", None),
    "swapped_secondary": ("Secondary", "Primary", "UpToDate", "UpToDate", "Connected", "Established", 100.0),
    "both_secondary": ("Secondary", "Secondary", "UpToDate", "UpToDate", "Connected", "Established", 100.0),
}
EXPECTED_9 = {
    "primary_uptodate": ("Primary", "Secondary", "UpToDate", "UpToDate", "Connected", "Established", 100.0),
    "sync_source": ("Primary", "Secondary", "UpToDate", "Inconsistent", "Connected", "SyncSource", 42.38),
    "connecting": ("Secondary", "Unknown", "Inconsistent", "DUnknown", "Connecting", "Off", None),
    "standalone": ("Primary", "Unknown", "UpToDate", "DUnknown", "StandAlone", "Off", None),
    "diskless": ("Secondary", "Primary", "Diskless", "UpToDate", "Connected", "Established", None),
}
KEYS = ("role", "peer_role", "disk_state", "peer_disk_state", "connection_state", "replication_state")
UP_84 = [s for s in states("drbd") if s in EXPECTED_84]
DOWN_84 = ["down", "down_with_metadata"]


def check(summary: dict, expected: tuple) -> None:
    assert summary["up"] is True
    assert tuple(summary[k] for k in KEYS) == expected[:6]
    sync = expected[6]
    if sync == "partial":
        assert 0 < summary["sync_percent"] < 100
    else:
        assert summary["sync_percent"] == sync


def test_every_84_state_has_an_expectation():
    captured = set(states("drbd"))
    assert set(EXPECTED_84) <= captured, f"fixtures missing: {set(EXPECTED_84) - captured}"
    assert set(DOWN_84) | {"no_config"} <= captured


def summary_84(cap) -> dict:
    """What the module does with 8.4: status text, plus dstate while not connected."""
    rc, out, _err = cap.run(["drbdadm", "status", "r0"])
    assert rc == 0
    s = ds.summarize(ds.parse_status_text(out)["r0"])
    if s["connection_state"] != "Connected":
        s = ds.with_dstate(s, cap.stdout(["drbdadm", "dstate", "r0"]))
    return s


@pytest.mark.parametrize("state", sorted(EXPECTED_84))
def test_status_text_84(state):
    check(summary_84(load("drbd", state)), EXPECTED_84[state])


def test_status_text_hides_the_outdated_peer_dstate_shows_it():
    cap = load("drbd", "peer_outdated")
    plain = ds.summarize(ds.parse_status_text(cap.stdout(["drbdadm", "status", "r0"]))["r0"])
    assert plain["peer_disk_state"] == "DUnknown"
    assert summary_84(cap)["peer_disk_state"] == "Outdated"
    # a dstate taken a moment later, with another local disk state, is not trusted
    assert ds.with_dstate(plain, "Inconsistent/Outdated\n")["peer_disk_state"] == "DUnknown"


@pytest.mark.parametrize("state", sorted(EXPECTED_84))
def test_proc_drbd_84_agrees_with_status(state):
    cap = load("drbd", state)
    proc = ds.parse_proc_drbd(cap.read("/proc/drbd"))
    assert proc["version"] == "8.4.11" and proc["major"] == 8
    minor = proc["minors"][0]
    exp = EXPECTED_84[state]
    assert (minor["role"], minor["peer_role"], minor["disk_state"], minor["peer_disk_state"]) == exp[:4]
    if exp[6] == "partial":
        assert 0 < minor["sync_percent"] < 100
        assert minor["cstate"] == exp[5]
    else:
        assert minor["sync_percent"] is None


@pytest.mark.parametrize("state", sorted(EXPECTED_84))
def test_role_cstate_dstate_84(state):
    cap = load("drbd", state)
    exp = EXPECTED_84[state]
    assert ds.parse_role(cap.stdout(["drbdadm", "role", "r0"])) == (exp[0], exp[1])
    assert ds.parse_dstate(cap.stdout(["drbdadm", "dstate", "r0"])) == (exp[2], exp[3])
    cstate = ds.parse_cstate(cap.stdout(["drbdadm", "cstate", "r0"]))
    proc = ds.parse_proc_drbd(cap.read("/proc/drbd"))
    assert cstate == proc["minors"][0]["cstate"]


@pytest.mark.parametrize("state", DOWN_84)
def test_down_84(state):
    cap = load("drbd", state)
    rc, out, err = cap.run(["drbdadm", "status", "r0"])
    assert rc == 10 and out == "" and "No such resource" in err
    proc = ds.parse_proc_drbd(cap.read("/proc/drbd"))
    assert proc["minors"] == {} and proc["major"] == 8
    assert ds.summarize(None)["up"] is False


def test_module_not_loaded_84():
    cap = load("drbd", "down_module_not_loaded")
    assert cap.read("/proc/drbd") is None
    # drbdmeta still reads the disk state recorded in the metadata of a detached disk
    assert ds.parse_dstate(cap.stdout(["drbdadm", "dstate", "r0"]))[1] is None


def test_metadata_probe_84():
    rc, out, err = load("drbd", "down").run(["drbdadm", "dstate", "r0"])
    assert rc != 0 and "No valid meta data found" in err
    rc, out, _err = load("drbd", "down_with_metadata").run(["drbdadm", "dstate", "r0"])
    assert rc == 0 and ds.parse_dstate(out) == ("Inconsistent", None)


def test_no_config_84():
    cap = load("drbd", "no_config")
    assert ds.parse_resource_names(cap.stdout(["drbdadm", "sh-resources"])) == []
    assert ds.parse_resource_names(load("drbd", "down").stdout(["drbdadm", "sh-resources"])) == ["r0"]


@pytest.mark.parametrize("state", sorted(EXPECTED_9))
def test_status_json_9(state):
    cap = load("drbd/v9", state)
    rc, out, _err = cap.run(["drbdsetup", "status", "--json", "r0"])
    assert rc == 0
    check(ds.summarize(ds.parse_status_json(out)["r0"]), EXPECTED_9[state])
    proc = ds.parse_proc_drbd(cap.read("/proc/drbd"))
    assert proc["major"] == 9 and proc["minors"] == {}


@pytest.mark.parametrize("state", sorted(EXPECTED_9))
def test_status_text_9_matches_json(state):
    cap = load("drbd/v9", state)
    text = ds.summarize(ds.parse_status_text(cap.stdout(["drbdadm", "status", "r0"]))["r0"])
    js = ds.summarize(ds.parse_status_json(cap.stdout(["drbdsetup", "status", "--json", "r0"]))["r0"])
    assert text == js


def test_json_9_down():
    rc, out, err = load("drbd/v9", "down").run(["drbdsetup", "status", "--json", "r0"])
    assert rc == 10 and "No such resource" in err
    assert ds.parse_status_json(out) == {}


# --- unknown formats fail loudly, with the text --------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "r0 role:Primary\n  disk:Happy\n",  # unknown disk state
        "r0 role:Boss\n",  # unknown role
        "r0 disk:UpToDate\n",  # no role
        "r0 role:Primary\n  peer connection:Dancing\n",  # unknown connection state
        "r0 role:Primary\n  peer role:Secondary\n    replication:Teleport peer-disk:UpToDate\n",
        "r0 role:Primary\n  disk:UpToDate\n  peer role:Secondary\n    peer-disk:UpToDate done:lots\n",
        "  disk:UpToDate\n",  # indented line before any resource
        "r0 role:Primary\n   odd indentation here\n",
        "# something else\n",
        "r0: role Primary\n",
        "0: cs:Connected ro:Primary/Secondary\n",
    ],
)
def test_unknown_text_raises(text):
    with pytest.raises(ds.DrbdParseError) as exc:
        ds.parse_status_text(text)
    assert exc.value.text == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "{}",
        '[{"name": "r0"}]',
        '[{"name": "r0", "role": "Primary", "devices": [{}]}]',
        '[{"name": "r0", "role": "Primary", "devices": [], "connections": [{"connection-state": "X"}]}]',
    ],
)
def test_unknown_json_raises(text):
    with pytest.raises(ds.DrbdParseError):
        ds.parse_status_json(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Version 8.4\n",
        "version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Flying ro:Primary/Secondary\n",
        "version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Connected ds:UpToDate/UpToDate\n",
    ],
)
def test_unknown_proc_raises(text):
    with pytest.raises(ds.DrbdParseError):
        ds.parse_proc_drbd(text)


def test_proc_unconfigured_minor():
    proc = ds.parse_proc_drbd("version: 8.4.11 (api:1/proto:86-101)\n 1: cs:Unconfigured\n")
    assert proc["minors"][1]["cstate"] == "Unconfigured"


@pytest.mark.parametrize("text", ["", "Primary\nSecondary\n", "Chief/Secondary\n"])
def test_unknown_role_raises(text):
    with pytest.raises(ds.DrbdParseError):
        ds.parse_role(text)


def test_cstate_and_dstate_errors():
    with pytest.raises(ds.DrbdParseError):
        ds.parse_cstate("Sleeping\n")
    with pytest.raises(ds.DrbdParseError):
        ds.parse_dstate("UpToDate/Sleepy\n")
    assert ds.parse_role("Primary\n") == ("Primary", None)


def test_ansi_colours_are_ignored():
    text = "r0 role:\x1b[01;92mPrimary\x1b[0m\n  disk:\x1b[01;92mUpToDate\x1b[0m\n"
    assert ds.parse_status_text(text)["r0"]["role"] == "Primary"


def test_statistics_continuation_and_volumes():
    text = (
        "r0 role:Primary\n"
        "  volume:0 disk:UpToDate\n"
        "      size:262100 read:1208 written:0\n"
        "  volume:1 disk:Inconsistent\n"
        "  peer role:Secondary congested:no\n"
        "    volume:0 peer-disk:UpToDate\n"
        "    volume:1 replication:SyncSource peer-disk:Inconsistent done:12.50\n"
        "        received:0 sent:100\n"
        "\n"
        "r1 role:Secondary\n"
        "  disk:UpToDate\n"
        "  node-id:1 connection:Connecting\n"
    )
    res = ds.parse_status_text(text)
    assert set(res) == {"r0", "r1"}
    assert res["r0"]["devices"][0]["extra"]["size"] == "262100"
    assert res["r0"]["connections"][0]["peer_devices"][1]["done"] == 12.5
    assert res["r1"]["connections"][0]["node_id"] == 1
    assert ds.summarize(res["r0"])["sync_percent"] == 100.0  # volume 0 is in sync
    assert ds.parse_status_text("# No currently configured DRBD found.\n") == {}


# --- helpers used by the module ---------------------------------------------------------------
def summary(state: str) -> dict:
    return summary_84(load("drbd", state))


def test_connected_and_synced():
    assert ds.is_connected(summary("sync_source")) and not ds.is_synced(summary("sync_source"))
    assert ds.is_synced(summary("primary_uptodate"))
    assert not ds.is_connected(summary("wfconnection"))
    assert not ds.is_synced(ds.summarize(None))


def test_describe():
    assert "SyncSource" in ds.describe(summary("sync_source")) and "%" in ds.describe(summary("sync_source"))
    assert ds.describe(ds.summarize(None)).startswith("resource is down")
    assert ds.describe(summary("wfconnection")) == (
        "role Secondary/Unknown, disk Inconsistent/DUnknown, connection Connecting"
    )


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        ("connected_inconsistent", True),  # brand new: the only case force is for
        ("primary_uptodate", True),  # already Primary (the module does nothing)
        ("secondary_uptodate", False),  # the peer is UpToDate Primary
        ("sync_target", False),  # peer Primary
        ("wfconnection", False),  # peer unknown: might hold newer data
        ("diskless", False),  # no local disk
        ("secondary_disconnected", True),  # UpToDate, needs no force
        ("both_secondary", True),
    ],
)
def test_force_refusal(state, allowed):
    why = ds.force_refusal(summary(state))
    assert (why is None) is allowed, why


def test_force_refused_when_peer_uptodate_and_local_inconsistent():
    s = dict(summary("connected_inconsistent"), peer_disk_state="UpToDate")
    assert "overwrite" in ds.force_refusal(s)


@pytest.mark.parametrize(
    "text",
    [
        "r0 role:Primary\n  volume:0\n",  # a device line without its disk state
        "r0 role:Primary\n    replication:Established\n",  # a peer device before any connection
        "r0 role:Primary extra-token\n",
        "r0 role:Primary\n  quorum:no\n",  # a key:value line where a device or peer belongs
    ],
)
def test_more_unknown_layouts_raise(text):
    with pytest.raises(ds.DrbdParseError):
        ds.parse_status_text(text)
