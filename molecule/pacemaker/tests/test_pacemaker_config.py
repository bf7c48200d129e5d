"""What the pacemaker role left on the two nodes: files, modes, Corosync links, the cluster's resources."""

from __future__ import annotations

import json
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

    def both_links_up() -> str | None:
        out = host.check_output("corosync-cfgtool -s")
        links = out.split("LINK ID ")[1:]
        ok = len(links) == 2 and all(f"nodeid:          {peer_id}:\tconnected" in link for link in links)
        return out if ok else None

    assert wait_until(both_links_up), host.check_output("corosync-cfgtool -s")
    quorum = host.check_output("corosync-quorumtool -s")
    assert "2Node" in quorum
    assert "Quorate" in quorum


def resources(host) -> dict[str, str]:
    """crm_mon's resource lines: resource id (or the clone's Promoted/Unpromoted) -> the rest of the line."""
    found = {}
    for line in host.check_output("crm_mon -1 -r").splitlines():
        words = line.strip().lstrip("* ").replace("\t", " ").split()
        if len(words) >= 2 and words[0].rstrip(":") in ("Promoted", "Unpromoted"):
            found[words[0].rstrip(":")] = " ".join(words[1:])
        elif len(words) >= 3 and words[1].startswith("("):
            found[words[0]] = " ".join(words[2:])
    return found


def test_all_resources_started_promoted_on_one_node_and_the_ip_with_it(host):
    def settled() -> dict[str, str] | None:
        res = resources(host)
        ok = len(res) == 8 and all(v.startswith(("Started", "[")) for v in res.values())
        return res if ok else None

    res = wait_until(settled)
    assert res, host.check_output("crm_mon -1 -r")
    holders = res["Promoted"].strip("[ ]").split()
    assert len(holders) == 1
    assert res["Unpromoted"].strip("[ ]").split() == [n for n in NODES if n != holders[0]]
    assert res["export-r0"] == f"Started {holders[0]}"
    assert res["service-ip"] == f"Started {holders[0]}"
    # Each node's fence device and arbiter run on the other node.
    for device in ("fence", "arbiter"):
        assert res[f"{device}-pcmknode1"] == "Started pcmknode2"
        assert res[f"{device}-pcmknode2"] == "Started pcmknode1"


def test_the_service_ip_is_on_exactly_the_holder(host):
    has_ip = f" {VIP}/25 " in host.check_output("ip -o -4 addr show dev eth0") + " "
    holds = host.check_output("crm_resource --resource service-ip --locate")
    assert has_ip == (host.check_output("uname -n") in holds)


def test_fencing_is_required_and_the_arbiter_goes_first_on_every_level(host):
    def prop(name: str) -> str:
        return host.check_output(f"crm_attribute --type crm_config --name {name} --query --quiet")

    assert prop("stonith-enabled") == "true"
    assert prop("priority-fencing-delay") == "0s"
    levels = host.check_output("cibadmin --query --scope fencing-topology")
    for node in ("pcmknode1", "pcmknode2"):
        assert f'target="{node}" index="1" devices="arbiter-{node},fence-{node}"' in levels, levels
    params = host.check_output("crm_resource --resource arbiter-pcmknode1 --get-parameter ping_targets")
    assert params == "172.31.117.13"
    arbiter = host.file("/usr/sbin/fence_ha_san_arbiter")
    assert arbiter.mode == 0o755 and arbiter.user == "root"
    assert host.check_output("crm_resource --resource export-r0 --meta --get-parameter priority") == "10"
    stickiness = "crm_attribute --type rsc_defaults --name resource-stickiness --query --quiet"
    assert host.check_output(stickiness) == "100"


def test_the_cib_holds_no_surprise_after_the_role(host):
    verify = host.run("crm_verify --live-check")
    assert verify.rc == 0, verify.stdout + verify.stderr


def test_the_live_cib_matches_the_role_and_run_time_constraints_are_left_alone(host):
    compare = "python3 /usr/local/libexec/ha_san/pacemaker-cib compare /etc/ha_san/pacemaker/cib.xml"
    assert json.loads(host.check_output(compare))["differ"] == []
    if host.check_output("uname -n") != NODES[0]:
        return
    fence = (
        '<rsc_location id="drbd-fence-by-handler-r0-drbd-r0-clone" rsc="drbd-r0-clone">'
        '<rule id="drbd-fence-by-handler-r0-rule" role="Promoted" score="-INFINITY">'
        '<expression id="drbd-fence-by-handler-r0-expr" attribute="#uname" operation="ne" value="pcmknode1"/>'
        "</rule></rsc_location>"
    )
    host.check_output(f"cibadmin --create --scope constraints --xml-text '{fence}'")
    try:
        assert json.loads(host.check_output(compare))["differ"] == []
    finally:
        host.check_output(
            "cibadmin --delete --xml-text '<rsc_location id=\"drbd-fence-by-handler-r0-drbd-r0-clone\"/>'"
        )


HANDLER = "/usr/local/sbin/ha_san-pcmk-fence-peer"
FENCE_ID = "drbd-fence-by-handler-r0-drbd-r0-clone"
# DRBD 8.4's /proc/drbd line of a node that lost its peer (no DRBD in the containers).
ALONE = " 0: cs:WFConnection ro:Primary/Unknown ds:UpToDate/DUnknown C r-----"


def fence_peer(host, proc_drbd: str):
    cmd = f"env DRBD_RESOURCE=r0 DRBD_MINOR=0 HA_SAN_PROC_DRBD={proc_drbd} {HANDLER}"
    return host.run(cmd)


def fence_constraint(host) -> str:
    return host.run(f"cibadmin --query --xpath \"//rsc_location[@id='{FENCE_ID}']\"").stdout


def test_drbd_s_fence_peer_handler_is_installed_with_this_node_and_its_peer(host):
    f = host.file(HANDLER)
    assert f.user == "root"
    assert f.mode == 0o755
    conf = host.file("/etc/ha_san/pacemaker/fence-peer.conf")
    assert conf.mode == 0o600
    me = host.check_output("uname -n")
    peer = next(n for n in NODES if n != me)
    assert f"node={me}\npeer={peer}\ntimeout=90\n" in conf.content_string


def test_drbd_s_fence_peer_handler_fences_a_reachable_peer_with_the_constraint(host):
    """Real Pacemaker: the peer is a member and its controller answers (only DRBD's link would be down), so
    the handler places the constraint that keeps the Promoted role here and answers 4; a second call finds
    it."""
    me = host.check_output("uname -n")
    if f"{me} Promoted" not in host.check_output("crm_resource --resource drbd-r0-clone --locate"):
        return  # on the holder only: the constraint then moves nothing
    proc = "/tmp/ha_san-molecule-proc-drbd"
    host.check_output(f"printf '%s\\n' '{ALONE}' > {proc}")
    try:
        first = fence_peer(host, proc)
        assert first.rc == 4, first.stdout + first.stderr
        placed = fence_constraint(host)
        assert 'role="Promoted" score="-INFINITY"' in placed
        assert f'attribute="#uname" operation="ne" value="{me}"' in placed
        assert fence_peer(host, proc).rc == 4
    finally:
        host.run(f"cibadmin --delete --xml-text '<rsc_location id=\"{FENCE_ID}\"/>'")
        host.run(f"rm -f {proc}")
    assert FENCE_ID not in fence_constraint(host)
