"""What the pacemaker role left on the two nodes: files, modes, Corosync links, and the cluster's resources."""

from __future__ import annotations

import time

testinfra_hosts = ["pcmknode1", "pcmknode2"]

NODES = ("pcmknode1", "pcmknode2")
VIP = "172.31.117.100"


def wait_until(cond, timeout: float = 90.0, step: float = 1.0):
    end = time.time() + timeout
    while True:
        value = cond()
        if value or time.time() > end:
            return value
        time.sleep(step)


def test_corosync_key_is_root_only(host):
    f = host.file("/etc/corosync/authkey")
    assert f.user == "root"
    assert f.group == "root"
    assert f.mode == 0o400


def test_corosync_conf_is_root_only_with_two_links_and_two_node(host):
    f = host.file("/etc/corosync/corosync.conf")
    assert f.user == "root"
    assert f.mode == 0o600
    text = f.content_string
    for line in (
        "transport: knet",
        "token: 1000",
        "consensus: 1200",
        "two_node: 1",
        "ring0_addr: 172.31.117.11",
        "ring1_addr: 172.31.117.139",
        "ring0_addr: 172.31.117.12",
        "ring1_addr: 172.31.117.140",
        "crypto_cipher: aes256",
    ):
        assert line in text


def test_corosync_and_pacemaker_run_and_are_enabled(host):
    for unit in ("corosync", "pacemaker"):
        svc = host.service(unit)
        assert svc.is_running
        assert svc.is_enabled


def test_corosync_sees_the_peer_on_both_links(host):
    me = host.check_output("uname -n")
    peer_id = 2 if me == "pcmknode1" else 1

    def both_links_up() -> bool:
        out = host.check_output("corosync-cfgtool -s")
        peer = out.split(f"nodeid: {peer_id:>3}")[1:] or out.split(f"nodeid: {peer_id}")[1:]
        return out.count("LINK ID 0") == 1 and out.count("LINK ID 1") == 1 and out.count("connected") >= 2 and bool(peer)

    assert wait_until(both_links_up), host.check_output("corosync-cfgtool -s")
    out = host.check_output("corosync-cfgtool -s")
    assert "disconnected" not in out
    quorum = host.check_output("corosync-quorumtool -s")
    assert "2Node" in quorum
    assert "Quorate:          Yes" in quorum


def test_all_resources_started_promoted_on_one_node_and_the_ip_with_it(host):
    def settled() -> str | None:
        out = host.check_output("crm_mon -1 -r")
        ok = "Stopped" not in out and "FAILED" not in out and out.count("Promoted") >= 1 and "Started" in out
        return out if ok else None

    out = wait_until(settled)
    assert out, host.check_output("crm_mon -1 -r")
    assert "2 nodes configured" in out
    assert "Online: [ pcmknode1 pcmknode2 ]" in out
    promoted = [ln for ln in out.splitlines() if "Promoted:" in ln and "Unpromoted" not in ln]
    assert len(promoted) == 1 and len(promoted[0].strip("* ").split("[")[1].split()) == 2 - 1, out
    holder = promoted[0].split("[")[1].split()[0]
    assert f"export-r0\t(ocf:ha_san:aoe-export):\t Started {holder}" in out.replace("  ", "\t") or (
        "export-r0" in out and f"Started {holder}" in out
    )
    ip_line = next(ln for ln in out.splitlines() if "service-ip" in ln)
    assert ip_line.strip().endswith(f"Started {holder}"), out
    for node in NODES:
        fence_line = next(ln for ln in out.splitlines() if f"fence-{node}" in ln)
        assert "Started" in fence_line and not fence_line.strip().endswith(node), out


def test_the_service_ip_is_on_exactly_the_holder(host):
    has_ip = f" {VIP}/25 " in host.check_output("ip -o -4 addr show dev eth0") + " "
    holds = host.check_output("crm_resource --resource service-ip --locate")
    assert has_ip == (host.check_output("uname -n") in holds)


def test_fencing_is_required_and_priority_delays_the_holder_s_fencing(host):
    def prop(name: str) -> str:
        return host.check_output(f"crm_attribute --type crm_config --name {name} --query --quiet")

    assert prop("stonith-enabled") == "true"
    assert prop("priority-fencing-delay") == "5s"
    assert host.check_output("crm_resource --resource export-r0 --meta --get-parameter priority") == "10"
    assert host.check_output("crm_attribute --type rsc_defaults --name resource-stickiness --query --quiet") == "100"


def test_the_cib_holds_no_surprise_after_the_role(host):
    verify = host.run("crm_verify --live-check")
    assert verify.rc == 0, verify.stdout + verify.stderr
