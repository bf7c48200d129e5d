"""ha_san.aoe.drbdadm and ha_san.aoe.aoe_stat on the lab's real VMs, driven through Ansible only.

DRBD: a scratch resource on the servers' /dev/vdb goes up with create_md (a second run changes
nothing), gets its first promotion with force and waits for the initial sync, swaps roles, refuses
a forced promotion against a Primary peer, and goes down. AoE: the client finds a real vblade
export with wait_for, and times out with a clear message on a missing one.

The test leaves the VMs as it found them (resource down, its file removed, export stopped) and is
skipped when DRBD is already in use on a server, so it never disturbs a deployed cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO_ROOT, SERVERS, lab_ssh

pytestmark = pytest.mark.lab

RES = "hasan_itest"
RES_FILE = f"/etc/drbd.d/{RES}.res"
MARK = "# written by tests/integration/test_modules.py"
SHELF, SLOT = 6, 6  # a target no role and no other test uses
IMG = "/var/tmp/itest-aoe.img"
ANSIBLE = str(Path(sys.executable).with_name("ansible"))
INVENTORY = REPO_ROOT / "inventories" / "lab" / "hosts.yml"

RES_TEXT = f"""{MARK}
resource {RES} {{
  protocol C;
  device /dev/drbd0;
  disk /dev/vdb;
  meta-disk internal;
  on primary {{ address 198.51.100.11:7789; }}
  on secondary {{ address 198.51.100.12:7789; }}
}}
"""


def ansible(pattern: str, module: str, args: dict, check: bool = False, timeout: float = 900) -> dict:
    """Run one module ad hoc on PATTERN; returns {host: result} from the json callback."""
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_HOST_KEY_CHECKING="False",
    )
    argv = [ANSIBLE, "-i", str(INVENTORY), pattern, "-m", f"ha_san.aoe.{module}", "-a", json.dumps(args)]
    if check:
        argv.append("--check")
    t0 = time.monotonic()
    p = subprocess.run(
        argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    try:
        doc = json.loads(p.stdout[p.stdout.index("{") :])
    except ValueError:
        raise AssertionError(
            f"ansible printed no JSON (rc={p.returncode}):\n{p.stdout}\n{p.stderr}"
        ) from None
    hosts = doc["plays"][0]["tasks"][0]["hosts"]
    print(f"  {module} {args} on {pattern}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return hosts


def ok(result: dict, changed: bool | None = None) -> dict:
    assert not result.get("failed"), result.get("msg")
    if changed is not None:
        assert result["changed"] is changed, result
    return result


def sh_ok(node: str, cmd: str) -> str:
    r = lab_ssh(node, cmd)
    assert r.returncode == 0, f"{node}: {cmd}\n{r.stdout}{r.stderr}"
    return r.stdout


@pytest.fixture
def drbd_scratch(lab: dict[str, Any]):
    """A scratch resource configured (not up) on both servers, blank metadata; removed afterwards."""
    loaded = {}
    for node in SERVERS:
        r = lab_ssh(
            node,
            "if grep -Eq '^ *[0-9]+: cs:' /proc/drbd 2>/dev/null; then echo busy; "
            f"elif ls /etc/drbd.d/*.res 2>/dev/null | grep -qv '^{RES_FILE}$'; then echo configured; "
            "elif [ -e /proc/drbd ]; then echo loaded; else echo unloaded; fi",
        )
        state = r.stdout.strip()
        if state in ("busy", "configured"):
            pytest.skip(f"DRBD is in use on {node} ({state}); this test only runs on idle servers")
        loaded[node] = state == "loaded"
    try:
        for node in SERVERS:
            sh_ok(node, f"cat > {RES_FILE} <<'EOF'\n{RES_TEXT}EOF\ndrbdadm dump {RES} >/dev/null")
            # a blank scratch disk: zero its first MiB (where drbdmeta looks for file systems) and
            # its last MiB (where internal metadata lives)
            sh_ok(
                node,
                "sz=$(blockdev --getsize64 /dev/vdb); "
                "dd if=/dev/zero of=/dev/vdb bs=1M count=1 oflag=direct status=none && "
                "dd if=/dev/zero of=/dev/vdb bs=1M seek=$((sz/1048576-1)) count=1 oflag=direct status=none",
            )
        yield
    finally:
        for node in SERVERS:
            lab_ssh(
                node, f"drbdadm down {RES} 2>/dev/null; drbdsetup down {RES} 2>/dev/null; rm -f {RES_FILE}"
            )
            if not loaded[node]:
                lab_ssh(node, "rmmod drbd 2>/dev/null || true")


def test_drbdadm_module_on_real_drbd(drbd_scratch: None) -> None:
    t0 = time.monotonic()
    p, s = SERVERS

    first = ansible("san_servers", "drbdadm", {"name": RES, "state": "up", "create_md": True})
    for node in SERVERS:
        r = ok(first[node], changed=True)
        assert r["commands"] == [f"drbdadm create-md {RES}", f"drbdadm up {RES}"], r
        assert r["up"] is True and r["disk_state"] == "Inconsistent"

    again = ansible("san_servers", "drbdadm", {"name": RES, "state": "up", "create_md": True})
    for node in SERVERS:
        assert ok(again[node], changed=False)["commands"] == []

    wait = ansible(s, "drbdadm", {"name": RES, "wait": "connected", "timeout": 60})[s]
    assert ok(wait)["connection_state"] == "Connected" and wait["peer_disk_state"] == "Inconsistent"

    promo = ok(
        ansible(
            p, "drbdadm", {"name": RES, "state": "primary", "force": True, "wait": "synced", "timeout": 600}
        )[p],
        changed=True,
    )
    assert promo["commands"] == [f"drbdadm primary --force {RES}"]
    assert (promo["role"], promo["disk_state"], promo["peer_disk_state"], promo["sync_percent"]) == (
        "Primary",
        "UpToDate",
        "UpToDate",
        100.0,
    )
    assert promo["drbd_version"].startswith("8.4.")

    view = ok(ansible(s, "drbdadm", {"name": RES})[s], changed=False)
    assert (view["role"], view["peer_role"], view["disk_state"]) == ("Secondary", "Primary", "UpToDate")

    # a forced promotion while the peer is an UpToDate Primary is refused, and runs nothing
    refused = ansible(s, "drbdadm", {"name": RES, "state": "primary", "force": True})[s]
    assert refused.get("failed") and "Refusing to force" in refused["msg"], refused
    assert refused["commands"] == []

    # check mode reports and runs nothing
    dry = ok(ansible(p, "drbdadm", {"name": RES, "state": "secondary"}, check=True)[p], changed=True)
    assert dry["commands"] == [f"drbdadm secondary {RES}"] and dry["role"] == "Primary"
    assert sh_ok(p, f"drbdadm role {RES}").strip() == "Primary/Secondary"

    # swap roles
    ok(ansible(p, "drbdadm", {"name": RES, "state": "secondary"})[p], changed=True)
    swapped = ok(ansible(s, "drbdadm", {"name": RES, "state": "primary", "wait": "synced", "timeout": 60})[s])
    assert swapped["changed"] and swapped["commands"] == [f"drbdadm primary {RES}"]
    assert (swapped["role"], swapped["peer_role"]) == ("Primary", "Secondary")
    assert ok(ansible(s, "drbdadm", {"name": RES, "state": "primary"})[s], changed=False)

    unknown = ansible(p, "drbdadm", {"name": "nosuch", "state": "up"})[p]
    assert unknown.get("failed") and f"resources configured here: {RES}" in unknown["msg"], unknown

    down = ansible("san_servers", "drbdadm", {"name": RES, "state": "down"})
    for node in SERVERS:
        r = ok(down[node], changed=True)
        assert r["commands"] == [f"drbdadm down {RES}"] and r["up"] is False
    for node, r in ansible("san_servers", "drbdadm", {"name": RES, "state": "down"}).items():
        assert ok(r, changed=False)["up"] is False, node
    print(f"drbdadm integration: {time.monotonic() - t0:.1f} s", file=sys.stderr)


@pytest.fixture
def vblade_export(lab: dict[str, Any]):
    loaded = lab_ssh("client", "[ -d /sys/module/aoe ]").returncode == 0
    sh_ok(
        "primary",
        f"truncate -s 16M {IMG} && setsid -f vblade {SHELF} {SLOT} eth1 {IMG} "
        ">/var/tmp/itest-vblade.log 2>&1 </dev/null",
    )
    try:
        sh_ok("client", "[ -d /sys/module/aoe ] || modprobe aoe")
        yield f"e{SHELF}.{SLOT}"
    finally:
        lab_ssh("primary", f"pkill -f '^vblade {SHELF} {SLOT} eth1' ; rm -f {IMG} /var/tmp/itest-vblade.log")
        # Debian's aoetools loads the driver on the servers too, so they saw the export as well
        for node in (*SERVERS, "client"):
            lab_ssh(
                node,
                f"sleep 1; [ -e '/sys/block/etherd!e{SHELF}.{SLOT}' ] && aoe-flush e{SHELF}.{SLOT}; true",
            )
        if not loaded:
            lab_ssh("client", "rmmod aoe 2>/dev/null || true")


def test_aoe_stat_module_finds_real_export(vblade_export: str) -> None:
    t0 = time.monotonic()
    found = ok(
        ansible("client", "aoe_stat", {"discover": True, "wait_for": [vblade_export], "timeout": 90})[
            "client"
        ],
        changed=False,
    )
    target = next(t for t in found["targets"] if t["name"] == vblade_export)
    assert target["state"] == "up" and target["size_bytes"] == 16 * 1024 * 1024
    assert target["interfaces"] == ["eth1"] and (target["shelf"], target["slot"]) == (SHELF, SLOT)
    assert found["ansible_facts"]["aoe_targets"] == found["targets"] and found["discovered"] is True

    via_aoe_stat = ok(ansible("client", "aoe_stat", {"source": "aoe-stat"})["client"])
    assert vblade_export in [t["name"] for t in via_aoe_stat["targets"]]

    missing = f"e{SHELF}.{SLOT + 1}"
    r = ansible("client", "aoe_stat", {"wait_for": [missing], "timeout": 5})["client"]
    assert r.get("failed"), r
    assert r["msg"].startswith(
        f"Timed out after 5 s waiting for AoE target(s) {missing} to be up; last seen: "
    )
    assert f"{missing} not discovered" in r["msg"] and vblade_export in r["msg"]
    print(f"aoe_stat integration: {time.monotonic() - t0:.1f} s", file=sys.stderr)
