"""Failover drills with real Corosync, Pacemaker and fencing in containers, after the configuration checks.

- export_kill: the export's status turns "stopped" on the holder; its monitor restarts it in place.
- san_unplug: the holder's SAN NIC drops every packet; Corosync goes on over the replication network, the ping
  resource sees the ping node gone, and the service moves to the standby with nobody fenced.
- partition: every packet of the holder dropped (both Corosync links and the SAN): both sides want to shoot;
  the standby still sees the ping node and fires at once, the blind holder's arbiter waits: the holder is
  fenced and the service moves to the standby, which the clients can still reach.
- crash: `docker kill` of the holder (power loss); the survivor fences it (the power switch helper logs the
  request) and takes the whole service; then the fenced node starts again, rejoins, and the service stays.
Times are seconds after the fault, on the host clock (the containers share it). The crash drill's JSON line is
printed and appended to $MOLECULE_EPHEMERAL_DIRECTORY/pacemaker-drills.jsonl.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

NODES = ("pcmknode1", "pcmknode2")
VIP = "172.31.117.100"
FENCE_DIR = Path(os.environ.get("PCMK_FENCE_DIR", "/nonexistent"))
RESULTS = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")) / "pacemaker-drills.jsonl"
TIMEOUT = 90.0
# pacemaker_fence_isolated_delay: how long a blind node's arbiter waits before it looks again.
ISOLATED_DELAY = 10


def sh(*cmd: str, check: bool = True) -> str:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check).stdout.strip()


def running(name: str) -> bool:
    return sh("docker", "inspect", "-f", "{{.State.Running}}", name, check=False) == "true"


def crm_mon(node: str) -> str:
    return sh("docker", "exec", node, "crm_mon", "-1", "-r", check=False)


def ip_holders() -> list[str]:
    def has_vip(node: str) -> bool:
        return f" {VIP}/" in sh("docker", "exec", node, "ip", "-o", "-4", "addr", check=False)

    return [n for n in NODES if running(n) and has_vip(n)]


def service_on(node: str, seen_from: str) -> bool:
    out = crm_mon(seen_from)
    lines = [ln.strip().lstrip("* ") for ln in out.splitlines()]
    return (
        f"Promoted: [ {node} ]" in lines
        and any(ln.startswith("export-r0") and ln.endswith(f"Started {node}") for ln in lines)
        and any(ln.startswith("service-ip") and ln.endswith(f"Started {node}") for ln in lines)
    )


def fence_requests() -> list[dict]:
    log = FENCE_DIR / "requests.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for(what: str, cond, timeout: float = TIMEOUT, step: float = 0.2):
    end = time.time() + timeout
    while time.time() < end:
        value = cond()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def steady_holder() -> str:
    """Both nodes online, the service on exactly one of them: return that one."""
    wait_for(
        "both nodes online",
        lambda: all(f"Online: [ {' '.join(NODES)} ]" in crm_mon(n) for n in NODES),
        step=1,
    )
    found = wait_for("the IP on exactly one node", lambda: len(ip_holders()) == 1 and ip_holders(), step=0.5)
    wait_for(f"the whole service on {found[0]}", lambda: service_on(found[0], found[0]), step=0.5)
    return found[0]


def export_log(node: str) -> list[str]:
    return sh("docker", "exec", node, "cat", "/var/log/ha_san-molecule-export.log", check=False).splitlines()


def test_a_dead_export_is_restarted_in_place_by_its_monitor():
    holder = steady_holder()
    starts = sum(1 for ln in export_log(holder) if ln.endswith(" start r0"))
    t0 = time.time()
    # The stand-in's status now says "stopped", as the real script does when vblade died.
    sh("docker", "exec", holder, "rm", "-f", "/run/ha_san-molecule-export.r0.running")
    wait_for(
        "the export started again",
        lambda: sum(1 for ln in export_log(holder) if ln.endswith(" start r0")) > starts,
        timeout=30,
    )
    restarted = time.time() - t0
    wait_for(f"the whole service on {holder} again", lambda: service_on(holder, holder), timeout=30)
    print(f"\nDRILL export_kill restarted in place after {restarted:.2f} s")
    # Monitor interval 3 s, plus the stop and start of the export and the IP.
    assert restarted < 3 + 5
    assert ip_holders() == [holder]
    sh("docker", "exec", holder, "crm_resource", "--cleanup", "--resource", "export-r0")


def drop(node: str, on: bool, nic: str) -> None:
    """Drop (or stop dropping) NODE's packets on nic: eth0 is the SAN (Corosync goes on over the replication
    link), "all" every NIC but loopback (both Corosync links at once)."""
    for chain, flag in (("INPUT", "-i"), ("OUTPUT", "-o")):
        match = ["!", flag, "lo"] if nic == "all" else [flag, nic]
        sh("docker", "exec", node, "iptables", "-I" if on else "-D", chain, *match, "-j", "DROP", check=on)


def test_a_holder_that_lost_its_san_cable_hands_the_service_over_unfenced():
    """The holder's ping resource stops reaching the ping node: the service goes where the SAN answers, with
    no fencing (the servers still hear each other); the cable back, the service stays where it is."""
    holder = steady_holder()
    standby = next(n for n in NODES if n != holder)
    before = len(fence_requests())
    t0 = time.time()
    drop(holder, True, "eth0")
    try:
        wait_for(f"the whole service on {standby}", lambda: service_on(standby, standby), step=0.5)
        moved = time.time() - t0
        print(f"\nDRILL san_unplug: the service moved from {holder} to {standby} after {moved:.2f} s")
        assert ip_holders() == [standby]
        assert running(holder)
    finally:
        drop(holder, False, "eth0")
    wait_for(f"{holder} reaching the ping node again", lambda: 'value="0"' not in pingd(standby), step=1)
    assert steady_holder() == standby
    assert fence_requests()[before:] == []


def pingd(seen_from: str) -> str:
    """Every node's pingd attribute as attrd holds it."""
    return sh("docker", "exec", seen_from, "attrd_updater", "-Q", "-A", "-n", "pingd", check=False)


def test_partition_fences_the_node_that_lost_the_san():
    """Every packet of the holder dropped: the standby sees the ping node and fences the holder at once; the
    holder sees no ping node, so its arbiter holds its own request back and it never shoots the standby."""
    holder = steady_holder()
    standby = next(n for n in NODES if n != holder)
    before = len(fence_requests())
    t0 = time.time()
    drop(holder, True, "all")
    try:
        requests = wait_for(f"a fence request for {holder}", lambda: fence_requests()[before:] or None)
        wait_for(f"{holder} powered off", lambda: not running(holder))
        print(f"\nDRILL partition: {standby} fenced {holder} after {requests[0]['received'] - t0:.2f} s")
        assert requests[0]["request"] == f"off {holder}", requests
        assert requests[0]["from"] == standby
        wait_for(f"the whole service on {standby}", lambda: service_on(standby, standby))
        # Longer than the blind holder's arbiter waits: it sent no request for the standby before it died.
        time.sleep(ISOLATED_DELAY + 1)
        requests = fence_requests()[before:]
        assert all(r["request"] == f"off {holder}" for r in requests), requests
        assert ip_holders() == [standby]
    finally:
        if running(holder):
            drop(holder, False, "all")
    sh("docker", "start", holder)
    assert steady_holder() == standby


def test_crash_of_the_holder_fences_it_and_the_peer_takes_the_service():
    holder = steady_holder()
    survivor = next(n for n in NODES if n != holder)
    before = len(fence_requests())
    t0 = time.time()
    sh("docker", "kill", holder)

    requests = wait_for(
        f"a fence request for {holder}", lambda: fence_requests()[before:] or None, timeout=TIMEOUT, step=0.1
    )
    fenced = time.time() - t0
    assert requests[0]["request"] == f"off {holder}", requests
    assert requests[0]["from"] == survivor
    assert requests[0]["answer"].startswith("ok"), requests
    wait_for(f"the service IP on {survivor}", lambda: ip_holders() == [survivor], step=0.1)
    ip_up = time.time() - t0
    wait_for(f"the whole service on {survivor}", lambda: service_on(survivor, survivor))
    result = {
        "drill": "crash",
        "engine": "pacemaker",
        "holder": holder,
        "survivor": survivor,
        "fence_request_s": round(requests[0]["received"] - t0, 2),
        "fenced_s": round(fenced, 2),
        "ip_up_s": round(ip_up, 2),
        "fence_requests": len(fence_requests()) - before,
    }
    line = json.dumps(result, sort_keys=True)
    print(f"\nDRILL {line}")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    # Only the dead node was shot, once.
    assert all(r["request"] == f"off {holder}" for r in fence_requests()[before:])


def test_drbd_s_fence_peer_handler_sees_the_crashed_node_fenced():
    """On the survivor, with the crashed node still off: the node_state Pacemaker wrote after fencing
    (Debian 13: timestamps and 0, not true/false) reads as fenced at the first look; the handler places the
    constraint that keeps the Promoted role on the survivor and answers 7 (peer stonithed)."""
    down = [n for n in NODES if not running(n)]
    if not down:
        pytest.skip("no node is down (the crash drill did not run)")
    survivor = next(n for n in NODES if n not in down)
    fence_id = "drbd-fence-by-handler-r0-drbd-r0-clone"
    proc = "/tmp/ha_san-molecule-proc-drbd"
    line = " 0: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----"
    sh("docker", "exec", survivor, "sh", "-c", f"printf '%s\\n' '{line}' > {proc}")
    env = ["-e", "DRBD_RESOURCE=r0", "-e", "DRBD_MINOR=0", "-e", f"HA_SAN_PROC_DRBD={proc}"]
    try:
        t0 = time.time()
        r = subprocess.run(
            ["docker", "exec", *env, survivor, "/usr/local/sbin/ha_san-pcmk-fence-peer"],
            capture_output=True,
            text=True,
            check=False,
        )
        took = time.time() - t0
        print(f"\nDRILL fence-peer handler on {survivor}: exit {r.returncode} in {took:.2f} s")
        assert r.returncode == 7, r.stdout + r.stderr
        placed = sh(
            "docker", "exec", survivor, "cibadmin", "--query", "--xpath", f"//rsc_location[@id='{fence_id}']"
        )
        assert f'operation="ne" value="{survivor}"' in placed
    finally:
        sh(
            "docker",
            "exec",
            survivor,
            "cibadmin",
            "--delete",
            "--xml-text",
            f'<rsc_location id="{fence_id}"/>',
            check=False,
        )
        sh("docker", "exec", survivor, "rm", "-f", proc, check=False)


def test_the_fenced_node_rejoins_and_does_not_take_the_service_back():
    down = [n for n in NODES if not running(n)]
    if not down:
        pytest.skip("no node is down (the crash drill did not run)")
    survivor = next(n for n in NODES if n not in down)
    sh("docker", "start", *down)
    wait_for(
        "both nodes online again",
        lambda: all(f"Online: [ {' '.join(NODES)} ]" in crm_mon(n) for n in NODES),
        timeout=150,
        step=1,
    )
    # Give the scheduler time to move things if it wanted to: it must not.
    time.sleep(5)
    assert service_on(survivor, survivor), crm_mon(survivor)
    assert ip_holders() == [survivor]
