"""Failover drills with real Heartbeat and real STONITH in containers, measured.

Runs after the configuration checks (file name order). Each drill faults the node that holds the
group, then checks that exactly that node was fenced, by the other one, and that the service IP
now answers from the survivor only. Times are seconds after the fault, on the host clock (the
containers share it). The fenced node is started again and rejoins before the next drill.

- crash: `docker kill` of the holder (power loss); the survivor fences it anyway (the power switch
  answers "not running") and takes over.
- partition: all traffic of the holder dropped (iptables in its network namespace: both Heartbeat
  paths and the SAN at once). Both sides want to shoot; the holder cannot reach the ping node, so
  its arbiter waits 10 s and the healthy node fires first.
- ping node lost: only the holder's path to the ping node is dropped; ipfail moves the group and
  nobody is fenced.
- standby partition: all traffic of the node WITHOUT the group dropped. The holder may fence it
  (Heartbeat R1 does not always fence a peer that holds nothing); the blind standby must never
  shoot the holder: its arbiter powers the standby itself off instead.
- both blind: the same, with the ping node silent too: the holder keeps the service.

One JSON line per run is printed and appended to $MOLECULE_EPHEMERAL_DIRECTORY/heartbeat-drills.jsonl.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

NODES = ("hbnode1", "hbnode2")
PING_NODE = "hbping"
VIP = "172.31.104.100"
PING_ADDR = "172.31.104.13"
FENCE_DIR = Path(os.environ.get("HB_FENCE_DIR", "/nonexistent"))
PARTITIONS = int(os.environ.get("HB_DRILL_PARTITIONS", "3"))
RESULTS = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")) / "heartbeat-drills.jsonl"
TIMEOUT = 60.0

# ICMP echo every 50 ms from the ping node until the VIP answers; prints the time of the first reply.
PROBE = r"""
import os, socket, struct, sys, time
dst, limit = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(0.05)
ident, seq, end = os.getpid() & 0xFFFF, 0, time.time() + limit
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xFFFF)
    return ~(t + (t >> 16)) & 0xFFFF
while time.time() < end:
    seq = (seq + 1) & 0xFFFF
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"ha_san!!"
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(h), ident, seq) + b"ha_san!!", (dst, 0))
    stop = time.time() + 0.05
    while time.time() < stop:
        try:
            data, addr = s.recvfrom(1024)
        except socket.timeout:
            break
        if addr[0] == dst and data[20] == 0 and struct.unpack("!H", data[24:26])[0] == ident:
            print("%.3f" % time.time()); sys.exit(0)
print("timeout"); sys.exit(1)
"""


def sh(*cmd: str, check: bool = True) -> str:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check).stdout.strip()


def running(name: str) -> bool:
    return sh("docker", "inspect", "-f", "{{.State.Running}}", name, check=False) == "true"


def holders() -> list[str]:
    return [
        n
        for n in NODES
        if running(n) and f" {VIP}/" in sh("docker", "exec", n, "ip", "-o", "-4", "addr", check=False)
    ]


def mac(node: str) -> str:
    return sh("docker", "exec", node, "cat", "/sys/class/net/eth0/address")


def fence_requests() -> list[dict]:
    log = FENCE_DIR / "requests.jsonl"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for(what: str, cond, timeout: float = TIMEOUT, step: float = 0.1):
    end = time.time() + timeout
    while time.time() < end:
        value = cond()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def steady_holder() -> str:
    """Both nodes up and seeing each other, the group on exactly one of them: return that one."""
    for n in NODES:
        if not running(n):
            sh("docker", "start", n)

    def both_active() -> bool:
        return all(
            sh("docker", "exec", a, "cl_status", "nodestatus", b, check=False) == "active"
            for a in NODES
            for b in NODES
        )

    wait_for("both nodes active in Heartbeat", both_active, timeout=90, step=0.5)
    found = wait_for("the group on exactly one node", lambda: len(holders()) == 1 and holders(), step=0.5)
    # Let the group settle (the service IP's ARP announcements, ipfail's ping-node count).
    time.sleep(3)
    return found[0]


def start_probe() -> subprocess.Popen:
    return subprocess.Popen(
        ["docker", "exec", PING_NODE, "python3", "-c", PROBE, VIP, str(TIMEOUT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def record(result: dict) -> None:
    line = json.dumps(result, sort_keys=True)
    print(f"\nDRILL {line}")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def fence_peer(node: str, peer: str) -> tuple[int, str]:
    """DRBD's fence-peer handler on NODE for PEER, with `echo` standing in for drbd-peer-outdater."""
    env = ["env", f"DRBD_PEER={peer}", "DRBD_RESOURCE=r0", "HA_SAN_OUTDATER=/bin/echo"]
    r = subprocess.run(
        ["docker", "exec", node, *env, "/usr/local/sbin/ha_san-fence-peer", "-t", "5"],
        capture_output=True,
        text=True,
        check=False,
    )
    return r.returncode, r.stdout.strip()


def run_fencing_drill(kind: str, run: int) -> tuple[str, str]:
    """One drill; returns the holder (fenced, still off) and the survivor."""
    holder = steady_holder()
    survivor = next(n for n in NODES if n != holder)
    survivor_mac = mac(survivor)
    before = len(fence_requests())

    if kind == "crash":
        sh("docker", "kill", holder)
    else:
        sh("docker", "exec", holder, "sh", "-c", "iptables -I INPUT -j DROP && iptables -I OUTPUT -j DROP")
    t0 = time.time()
    probe = start_probe()

    new = wait_for("a fence request", lambda: fence_requests()[before:], step=0.05)
    ip_on = wait_for(f"the VIP on {survivor}", lambda: survivor in holders() and time.time(), step=0.1)
    out = probe.communicate(timeout=TIMEOUT + 10)[0]
    answered = float(out.strip()) if out.strip() not in ("", "timeout") else None
    neigh = sh("docker", "exec", PING_NODE, "ip", "neigh", "show", VIP)
    # The isolated node's own arbiter would fire at +10 s: give it the chance to (it must not).
    time.sleep(max(0.0, t0 + 12 - time.time()))
    requests = fence_requests()[before:]

    result = {
        "drill": kind,
        "run": run,
        "holder": holder,
        "fenced": [r["request"].split()[1] for r in requests],
        "fenced_by": [r["from"] for r in requests],
        "fence_request_s": round(new[0]["received"] - t0, 2),
        "fence_done_s": round(new[0]["done"] - t0, 2),
        "ip_on_survivor_s": round(ip_on - t0, 2),
        "ip_answers_s": round(answered - t0, 2) if answered else None,
        "ip_holders": holders(),
    }
    record(result)

    assert result["fenced"] == [holder], f"expected only {holder} fenced: {requests}"
    assert result["fenced_by"] == [survivor]
    assert all(r["answer"].startswith("ok") for r in requests)
    assert not running(holder)
    assert running(survivor), "the healthy node was fenced"
    assert result["ip_holders"] == [survivor]
    assert answered is not None, "the VIP never answered the ping node"
    assert survivor_mac in neigh, f"the VIP answers from {neigh!r}, not from {survivor} ({survivor_mac})"
    return holder, survivor


def test_crash_of_the_holder_fences_it_and_moves_the_ip():
    holder, survivor = run_fencing_drill("crash", 1)
    # The fenced holder is still off: the fence-peer handler answers "unreachable" itself, never asking dopd.
    assert fence_peer(survivor, holder) == (5, "")


@pytest.mark.parametrize("run", range(1, PARTITIONS + 1))
def test_partition_fences_the_isolated_holder_never_the_healthy_node(run):
    run_fencing_drill("partition", run)


def test_losing_the_ping_node_moves_the_ip_without_fencing():
    holder = steady_holder()
    survivor = next(n for n in NODES if n != holder)
    before = len(fence_requests())
    sh("docker", "exec", holder, "iptables", "-I", "OUTPUT", "-d", PING_ADDR, "-j", "DROP")
    t0 = time.time()
    try:
        ip_on = wait_for(f"the VIP on {survivor}", lambda: holders() == [survivor] and time.time(), step=0.2)
    finally:
        sh("docker", "exec", holder, "iptables", "-D", "OUTPUT", "-d", PING_ADDR, "-j", "DROP", check=False)
    result = {
        "drill": "ping_node_lost",
        "run": 1,
        "holder": holder,
        "ip_on_survivor_s": round(ip_on - t0, 2),
        "fenced": [r["request"].split()[1] for r in fence_requests()[before:]],
    }
    record(result)
    assert result["fenced"] == []
    assert running(holder) and running(survivor)


def run_standby_drill(kind: str) -> None:
    """The standby is cut off (alone, or with the ping node silent too): the holder must win."""
    holder = steady_holder()
    standby = next(n for n in NODES if n != holder)
    before = len(fence_requests())
    if kind == "both_blind":
        sh("docker", "exec", PING_NODE, "iptables", "-I", "INPUT", "-p", "icmp", "-j", "DROP")
    try:
        sh("docker", "exec", standby, "sh", "-c", "iptables -I INPUT -j DROP && iptables -I OUTPUT -j DROP")
        t0 = time.time()
        # Fenced by the holder, or by itself once its arbiter finds it blind without the group.
        wait_for(f"{standby} powered off", lambda: not running(standby), timeout=45, step=0.2)
        gone = time.time()
        during = holders()
        holder_up = running(holder)
    finally:
        sh("docker", "exec", PING_NODE, "iptables", "-D", "INPUT", "-p", "icmp", "-j", "DROP", check=False)
        if running(standby):
            sh("docker", "exec", standby, "iptables", "-F", check=False)
    requests = fence_requests()[before:]
    result = {
        "drill": f"standby_{kind}",
        "run": 1,
        "holder": holder,
        "fenced": [r["request"].split()[1] for r in requests],
        "fenced_by": [r["from"] for r in requests],
        "fence_request_s": [round(r["received"] - t0, 2) for r in requests],
        "standby_off_s": round(gone - t0, 2),
        "ip_holders_during": during,
    }
    restarted = time.time()
    result["ip_holders_after"] = [steady_holder()]
    result["rejoined_s"] = round(time.time() - restarted, 1)
    record(result)
    assert holder not in result["fenced"], f"the holder was fenced: {requests}"
    assert set(result["fenced"]) == {standby}
    assert holder_up, "the holder was fenced"
    assert during == [holder], "the service left its healthy holder"


def test_partition_of_the_standby_never_fences_the_holder():
    run_standby_drill("partition")


def test_both_sides_blind_the_holder_keeps_the_service():
    run_standby_drill("both_blind")


def test_cluster_is_whole_again_after_the_drills():
    holder = steady_holder()
    assert holders() == [holder]
