"""ha_san.aoe.drbdadm with run_command answered from the captured fixtures."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible_collections.ha_san.aoe.plugins.modules import drbdadm
from modrun import FakeHost, run

REFUSE_PEER_NOT_OUTDATED = (
    11,
    "",
    "0: State change failed: (-7) Refusing to be Primary while peer is not outdated\n"
    "Command 'drbdsetup-84 primary 0' terminated with exit code 11\n",
)


def go(capsys, host, check_mode=False, **args):
    args.setdefault("name", "r0")
    return run(
        drbdadm,
        args,
        host,
        capsys,
        check_mode=check_mode,
        extra_patches=[mock.patch.object(drbdadm, "read_proc_drbd", host.read_proc)],
    )


# --- status ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("wfconnection", ("Secondary", "Unknown", "Inconsistent", "DUnknown", "Connecting", None)),
        ("sync_source", ("Primary", "Secondary", "UpToDate", "Inconsistent", "Connected", "partial")),
        ("sync_target", ("Secondary", "Primary", "Inconsistent", "UpToDate", "Connected", "partial")),
        ("primary_uptodate", ("Primary", "Secondary", "UpToDate", "UpToDate", "Connected", 100.0)),
        ("peer_outdated", ("Primary", "Unknown", "UpToDate", "Outdated", "Connecting", None)),
        ("standalone_split_brain", ("Primary", "Unknown", "UpToDate", "Outdated", "StandAlone", None)),
        ("diskless", ("Secondary", "Primary", "Diskless", "UpToDate", "Connected", None)),
    ],
)
def test_status(capsys, state, expected):
    host = FakeHost("drbd", state)
    r = go(capsys, host)
    assert r["_rc"] == 0 and r["changed"] is False and r["commands"] == []
    keys = ("role", "peer_role", "disk_state", "peer_disk_state", "connection_state")
    assert tuple(r[k] for k in keys) == expected[:5]
    if expected[5] == "partial":  # a resync in progress: its percentage differs from capture to capture
        assert 0 < r["sync_percent"] < 100 and r["replication_state"] in ("SyncSource", "SyncTarget")
    else:
        assert r["sync_percent"] == expected[5]
    assert r["resource"] == "r0" and r["up"] is True and r["drbd_version"] == "8.4.11"
    assert "drbdadm status r0" in host.calls


def test_status_down(capsys):
    r = go(capsys, FakeHost("drbd", "down"))
    assert r["_rc"] == 0 and r["up"] is False and r["role"] is None and r["changed"] is False


def test_status_module_not_loaded(capsys):
    host = FakeHost("drbd", "down_module_not_loaded")  # captured: no /proc/drbd at all
    r = go(capsys, host)
    assert r["_rc"] == 0 and r["up"] is False and r["drbd_version"] is None
    assert host.calls == ["drbdadm sh-resources"]


def test_unknown_resource_names_the_configured_ones(capsys):
    r = go(capsys, FakeHost("drbd", "down"), name="r9")
    assert r["_rc"] == 1 and r["failed"]
    assert "'r9' is not defined" in r["msg"] and "configured here: r0" in r["msg"]


def test_no_resource_configured(capsys):
    r = go(capsys, FakeHost("drbd", "no_config"))
    assert r["_rc"] == 1 and "configured here: none" in r["msg"]


def test_sh_resources_fails(capsys):
    host = FakeHost("drbd", "down", moves={"drbdadm sh-resources": (1, "", "drbd.conf: parse error\n")})
    r = go(capsys, host)
    assert r["_rc"] == 1 and r["rc"] == 1 and "parse error" in r["stderr"] and "configuration" in r["msg"]


@pytest.mark.parametrize("tool", ["drbdadm", "drbdsetup"])
def test_missing_tool_names_the_package(capsys, tool):
    kind, state = ("drbd", "down") if tool == "drbdadm" else ("drbd/v9", "primary_uptodate")
    host = FakeHost(kind, state)
    host.missing_tools = {tool}
    r = go(capsys, host)
    assert r["_rc"] == 1 and f"{tool} was not found" in r["msg"] and "drbd-utils" in r["msg"]


def test_unparseable_status_fails_loudly(capsys):
    garbage = "r0 role:Primary\n  disk:Sparkling\n"
    host = FakeHost("drbd", "primary_uptodate", moves={"drbdadm status r0": (0, garbage, "")})
    r = go(capsys, host)
    assert r["_rc"] == 1 and "cannot parse" in r["msg"] and "Sparkling" in r["msg"]
    assert r["stdout"] == garbage


def test_unparseable_proc_drbd_fails_loudly(capsys):
    host = FakeHost("drbd", "primary_uptodate")
    host.read_proc = lambda path="/proc/drbd": "DRBD is great\n"
    r = go(capsys, host)
    assert r["_rc"] == 1 and "/proc/drbd" in r["msg"] and r["stdout"] == "DRBD is great\n"


def test_status_command_error(capsys):
    err = "Could not connect to 'drbd' generic netlink family\n"
    host = FakeHost("drbd", "primary_uptodate", moves={"drbdadm status r0": (20, "", err)})
    r = go(capsys, host)
    assert r["_rc"] == 1 and r["rc"] == 20 and r["stderr"] == err and "netlink" in r["msg"]


# --- DRBD 9 ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "role", "peer_disk", "cstate"),
    [
        ("primary_uptodate", "Primary", "UpToDate", "Connected"),
        ("sync_source", "Primary", "Inconsistent", "Connected"),
        ("standalone", "Primary", "DUnknown", "StandAlone"),
    ],
)
def test_drbd9_reads_json(capsys, state, role, peer_disk, cstate):
    host = FakeHost("drbd/v9", state)
    r = go(capsys, host)
    assert (r["role"], r["peer_disk_state"], r["connection_state"]) == (role, peer_disk, cstate)
    assert "drbdsetup status --json r0" in host.calls and "drbdadm status r0" not in host.calls
    assert r["drbd_version"] == "9.2.12"


def test_drbd9_down(capsys):
    r = go(capsys, FakeHost("drbd/v9", "down"))
    assert r["_rc"] == 0 and r["up"] is False


# --- up / create_md ----------------------------------------------------------------------------
def test_up_creates_metadata_only_where_none(capsys):
    host = FakeHost(
        "drbd", "down", moves={"drbdadm create-md r0": "down_with_metadata", "drbdadm up r0": "wfconnection"}
    )
    r = go(capsys, host, state="up", create_md=True)
    assert r["_rc"] == 0 and r["changed"] is True
    assert r["commands"] == ["drbdadm create-md r0", "drbdadm up r0"]
    assert r["connection_state"] == "Connecting"


def test_up_with_existing_metadata_does_not_create(capsys):
    host = FakeHost("drbd", "down_with_metadata", moves={"drbdadm up r0": "wfconnection"})
    r = go(capsys, host, state="up", create_md=True)
    assert r["commands"] == ["drbdadm up r0"] and "drbdadm create-md r0" not in host.calls


@pytest.mark.parametrize("state", ["wfconnection", "connected_inconsistent", "primary_uptodate", "diskless"])
def test_up_second_run_changes_nothing(capsys, state):
    host = FakeHost("drbd", state, moves={"drbdadm up r0": "x", "drbdadm create-md r0": "x"})
    r = go(capsys, host, state="up", create_md=True)
    assert r["_rc"] == 0 and r["changed"] is False and r["commands"] == []
    assert host.changing_calls() == []


def test_create_md_refusal_is_reported_and_nothing_else_runs(capsys):
    refusal = (
        "\nFound ext4 filesystem\n      262144 kB data area apparently used\n"
        "      262100 kB left usable by current configuration\n\nDevice size would be truncated, which\n"
        "would corrupt data and result in\n'access beyond end of device' errors.\n"
        "You need to either\n   * use external meta data (recommended)\n   * shrink that filesystem first\n"
        "   * zero out the device (destroy the filesystem)\nOperation refused.\n\n"
        "Command 'drbdmeta 0 v08 /dev/vdb internal create-md' terminated with exit code 40\n"
    )
    host = FakeHost("drbd", "down", moves={"drbdadm create-md r0": (40, "", refusal), "drbdadm up r0": "x"})
    r = go(capsys, host, state="up", create_md=True)
    assert r["_rc"] == 1 and r["rc"] == 40 and "Operation refused" in r["msg"] and r["stderr"] == refusal
    assert "drbdadm up r0" not in host.calls


def test_metadata_probe_unclear_fails(capsys):
    host = FakeHost("drbd", "down", moves={"drbdadm dstate r0": (20, "", "open(/dev/vdb) failed\n")})
    r = go(capsys, host, state="up", create_md=True)
    assert r["_rc"] == 1 and "could not tell" in r["msg"] and r["rc"] == 20


def test_up_failure(capsys):
    err = "0: Failure: (114) Lower device is already claimed. This usually means it is mounted.\n"
    host = FakeHost("drbd", "down_with_metadata", moves={"drbdadm up r0": (10, "", err)})
    r = go(capsys, host, state="up")
    assert (
        r["_rc"] == 1
        and r["rc"] == 10
        and "already claimed" in r["msg"]
        and "bring the resource up" in r["msg"]
    )


def test_up_check_mode_runs_nothing(capsys):
    host = FakeHost("drbd", "down", moves={"drbdadm create-md r0": "x", "drbdadm up r0": "x"})
    r = go(capsys, host, check_mode=True, state="up", create_md=True)
    assert r["_rc"] == 0 and r["changed"] is True
    assert r["commands"] == ["drbdadm create-md r0", "drbdadm up r0"]
    assert host.changing_calls() == []


# --- primary / force ---------------------------------------------------------------------------
def test_first_promotion_with_force_and_wait_synced(capsys):
    host = FakeHost(
        "drbd",
        "connected_inconsistent",
        moves={"drbdadm primary --force r0": "sync_source"},
        polls=["sync_source", "primary_uptodate"],
    )
    r = go(capsys, host, state="primary", force=True, wait="synced", timeout=60)
    assert r["_rc"] == 0 and r["changed"] is True
    assert r["commands"] == ["drbdadm primary --force r0"]
    assert (r["role"], r["disk_state"], r["peer_disk_state"], r["sync_percent"]) == (
        "Primary",
        "UpToDate",
        "UpToDate",
        100.0,
    )


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("secondary_uptodate", "peer is Primary"),
        ("sync_target", "peer is Primary"),
        ("wfconnection", "both Inconsistent"),
        ("diskless", "peer is Primary"),
    ],
)
def test_force_refused(capsys, state, reason):
    host = FakeHost("drbd", state, moves={"drbdadm primary --force r0": "x", "drbdadm primary r0": "x"})
    r = go(capsys, host, state="primary", force=True)
    assert r["_rc"] == 1 and "Refusing to force" in r["msg"] and reason in r["msg"], r["msg"]
    assert host.changing_calls() == []


def test_force_refused_for_diskless_without_primary_peer(capsys):
    host = FakeHost("drbd", "diskless", moves={"drbdadm primary --force r0": "x"})
    host_capture = host.capture

    def run_command(argv, **kw):
        rc, out, err = host_capture.run([argv[0].rsplit("/", 1)[-1], *argv[1:]])
        return rc, out.replace("peer role:Primary", "peer role:Secondary"), err

    host.run_command = run_command
    r = go(capsys, host, state="primary", force=True)
    assert r["_rc"] == 1 and "local disk is Diskless" in r["msg"]


def test_force_with_uptodate_disk_promotes_without_force(capsys):
    host = FakeHost("drbd", "both_secondary", moves={"drbdadm primary r0": "primary_uptodate"})
    r = go(capsys, host, state="primary", force=True)
    assert r["_rc"] == 0 and r["commands"] == ["drbdadm primary r0"] and r["role"] == "Primary"


@pytest.mark.parametrize("force", [False, True])
def test_primary_already_primary(capsys, force):
    host = FakeHost(
        "drbd", "primary_uptodate", moves={"drbdadm primary r0": "x", "drbdadm primary --force r0": "x"}
    )
    r = go(capsys, host, state="primary", force=force)
    assert r["_rc"] == 0 and r["changed"] is False and host.changing_calls() == []


def test_promotion_refused_by_drbd_shows_why(capsys):
    host = FakeHost("drbd", "secondary_disconnected", moves={"drbdadm primary r0": REFUSE_PEER_NOT_OUTDATED})
    r = go(capsys, host, state="primary")
    assert r["_rc"] == 1 and r["rc"] == 11 and "peer is not outdated" in r["msg"]
    assert r["commands"] == ["drbdadm primary r0"]


def test_primary_brings_resource_up_first(capsys):
    host = FakeHost(
        "drbd",
        "down_with_metadata",
        moves={"drbdadm up r0": "connected_inconsistent", "drbdadm primary --force r0": "sync_source"},
    )
    r = go(capsys, host, state="primary", force=True)
    assert r["commands"] == ["drbdadm up r0", "drbdadm primary --force r0"] and r["role"] == "Primary"


def test_primary_check_mode_from_down(capsys):
    host = FakeHost(
        "drbd", "down_with_metadata", moves={"drbdadm up r0": "x", "drbdadm primary --force r0": "x"}
    )
    r = go(capsys, host, check_mode=True, state="primary", force=True)
    assert r["changed"] is True and r["commands"] == ["drbdadm up r0", "drbdadm primary --force r0"]
    assert host.changing_calls() == []


def test_primary_still_down_after_up(capsys):
    host = FakeHost("drbd", "down_with_metadata", moves={"drbdadm up r0": "down_with_metadata"})
    r = go(capsys, host, state="primary")
    assert r["_rc"] == 1 and "still down" in r["msg"]


def test_primary_check_mode_on_up_resource(capsys):
    host = FakeHost("drbd", "both_secondary", moves={"drbdadm primary r0": "x"})
    r = go(capsys, host, check_mode=True, state="primary", wait="synced")
    assert r["changed"] is True and r["commands"] == ["drbdadm primary r0"] and host.changing_calls() == []


# --- secondary / down --------------------------------------------------------------------------
def test_secondary_demotes(capsys):
    host = FakeHost("drbd", "primary_uptodate", moves={"drbdadm secondary r0": "both_secondary"})
    r = go(capsys, host, state="secondary")
    assert r["changed"] is True and r["commands"] == ["drbdadm secondary r0"] and r["role"] == "Secondary"


def test_secondary_when_secondary(capsys):
    host = FakeHost("drbd", "secondary_uptodate", moves={"drbdadm secondary r0": "x"})
    r = go(capsys, host, state="secondary")
    assert r["changed"] is False and host.changing_calls() == []


def test_demotion_refused_while_in_use(capsys):
    err = "0: State change failed: (-12) Device is held open by someone\n"
    host = FakeHost("drbd", "primary_uptodate", moves={"drbdadm secondary r0": (11, "", err)})
    r = go(capsys, host, state="secondary")
    assert r["_rc"] == 1 and "held open" in r["msg"] and "demote" in r["msg"]


def test_down(capsys):
    host = FakeHost("drbd", "both_secondary", moves={"drbdadm down r0": "down_with_metadata"})
    r = go(capsys, host, state="down")
    assert r["changed"] is True and r["commands"] == ["drbdadm down r0"] and r["up"] is False


def test_down_when_down(capsys):
    host = FakeHost("drbd", "down_with_metadata", moves={"drbdadm down r0": "x"})
    r = go(capsys, host, state="down")
    assert r["changed"] is False and r["commands"] == []


def test_down_check_mode(capsys):
    host = FakeHost("drbd", "primary_uptodate", moves={"drbdadm down r0": "x"})
    r = go(capsys, host, check_mode=True, state="down")
    assert r["changed"] is True and r["commands"] == ["drbdadm down r0"] and host.changing_calls() == []


# --- wait --------------------------------------------------------------------------------------
def test_wait_connected_times_out_with_last_state(capsys):
    host = FakeHost("drbd", "wfconnection")
    r = go(capsys, host, state="up", wait="connected", timeout=0)
    assert r["_rc"] == 1
    assert "Timed out after 0 s" in r["msg"] and "connected" in r["msg"]
    assert (
        "last state seen: role Secondary/Unknown, disk Inconsistent/DUnknown, connection Connecting"
        in r["msg"]
    )


def test_wait_connected_polls(capsys):
    host = FakeHost(
        "drbd",
        "down_with_metadata",
        moves={"drbdadm up r0": "wfconnection"},
        polls=["wfconnection", "connected_inconsistent"],
    )
    r = go(capsys, host, state="up", wait="connected", timeout=30)
    assert r["_rc"] == 0 and r["connection_state"] == "Connected"


def test_wait_already_satisfied(capsys):
    r = go(capsys, FakeHost("drbd", "secondary_uptodate"), wait="synced")
    assert r["_rc"] == 0 and r["changed"] is False


# --- argument checks ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "text"),
    [
        ({"state": "down", "wait": "connected"}, "wait cannot be used with state=down"),
        ({"state": "up", "force": True}, "force only applies to state=primary"),
        ({"state": "up", "timeout": -1}, "timeout must be 0 or more"),
    ],
)
def test_bad_arguments(capsys, args, text):
    host = FakeHost("drbd", "down")
    r = go(capsys, host, **args)
    assert r["_rc"] == 1 and text in r["msg"] and host.calls == []


# --- the remaining corners ---------------------------------------------------------------------
def test_read_proc_drbd(tmp_path):
    f = tmp_path / "drbd"
    f.write_text("version: 8.4.11 (api:1/proto:86-101)\n")
    assert drbdadm.read_proc_drbd(str(f)).startswith("version: 8.4.11")
    assert drbdadm.read_proc_drbd(str(tmp_path / "absent")) is None


def test_peer_disk_kept_when_dstate_fails(capsys):
    host = FakeHost("drbd", "peer_outdated", moves={"drbdadm dstate r0": (10, "", "unknown minor\n")})
    r = go(capsys, host)
    assert r["_rc"] == 0 and r["peer_disk_state"] == "DUnknown"


def test_unparseable_dstate_fails_loudly(capsys):
    host = FakeHost("drbd", "peer_outdated", moves={"drbdadm dstate r0": (0, "UpToDate/Sleepy\n", "")})
    r = go(capsys, host)
    assert r["_rc"] == 1 and "dstate" in r["msg"] and r["stdout"] == "UpToDate/Sleepy\n"


def test_metadata_probe_with_unknown_answer_fails(capsys):
    host = FakeHost("drbd", "down", moves={"drbdadm dstate r0": (0, "Splendid\n", "")})
    r = go(capsys, host, state="up", create_md=True)
    assert r["_rc"] == 1 and "could not tell" in r["msg"] and r["stdout"] == "Splendid\n"
