"""playbooks/validate.yml (the first play of site.yml): one bad inventory per check.

Each case runs ansible-playbook against three local hosts (connection local) whose facts come from small
per-host fact modules, and whose backing disks are files in a temporary folder. It asserts the exact
message and that nothing changed. Nothing here touches the machine outside the temporary folder.
"""

# ruff: noqa: E501  (the expected messages are kept whole, word for word)
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
PLAYBOOK = REPO / "playbooks" / "validate.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

pytestmark = pytest.mark.skipif(
    not ANSIBLE_PLAYBOOK.exists() or shutil.which("wipefs") is None,
    reason="needs the venv's ansible-playbook and util-linux's wipefs",
)

FACT_MODULE = """#!/usr/bin/python
import json
print(json.dumps({"changed": False, "ansible_facts": %s}))
"""


def host_facts(nodename: str, san: str | None, repl: str | None = None) -> dict:
    facts = {
        "ansible_nodename": nodename,
        "ansible_hostname": nodename,
        "ansible_kernel": "6.1.0-test",
        "ansible_interfaces": ["lo", "eth0", "eth1"] + (["eth2"] if repl else []),
        "ansible_all_ipv4_addresses": [a for a in ("10.99.0.5", san, repl) if a],
        "ansible_eth0": {"device": "eth0", "ipv4": {"address": "10.99.0.5"}},
        "ansible_eth1": {"device": "eth1", "ipv4": {"address": san}} if san else {"device": "eth1"},
    }
    # vblade_target's allow-list is the clients' SAN MACs by default: each host gets one of its own.
    facts["ansible_eth1"]["macaddress"] = "52:54:00:00:01:%02x" % (sum(map(ord, nodename)) % 256)
    if repl:
        facts["ansible_eth2"] = {"device": "eth2", "ipv4": {"address": repl}}
    return facts


def good_case(tmp: Path) -> dict:
    """A valid inventory (the lab's model) and facts that match it."""
    disk = tmp / "r0.img"
    return {
        "inventory": {
            "all": {
                "vars": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": sys.executable,
                    "ha_san_san_interface": "eth1",
                    "ha_san_replication_interface": "eth2",
                    "ha_san_san_network": "192.0.2.0/24",
                    "ha_san_replication_network": "198.51.100.0/24",
                    "ha_san_service_ip": "192.0.2.100",
                    "ha_san_resources": [
                        {
                            "name": "r0",
                            "device": "/dev/drbd0",
                            "minor": 0,
                            "disk": str(disk),
                            "port": 7789,
                            "shelf": 0,
                            "slot": 3,
                        }
                    ],
                    "heartbeat_authkey": "test-only-heartbeat-key-0123456789",
                    "drbd_shared_secret": "test-only-drbd-secret",
                    "ha_san_fence_agent": "fence_test",
                },
                "children": {
                    "san_servers": {
                        "children": {
                            "primary": {
                                "hosts": {
                                    "srv1": {
                                        "ha_san_san_address": "192.0.2.11",
                                        "ha_san_replication_address": "198.51.100.11",
                                    }
                                }
                            },
                            "secondary": {
                                "hosts": {
                                    "srv2": {
                                        "ha_san_san_address": "192.0.2.12",
                                        "ha_san_replication_address": "198.51.100.12",
                                    }
                                }
                            },
                        }
                    },
                    "clients": {"hosts": {"client1": {"ha_san_san_address": "192.0.2.13"}}},
                },
            }
        },
        "facts": {
            "srv1": host_facts("srv1", "192.0.2.11", "198.51.100.11"),
            "srv2": host_facts("srv2", "192.0.2.12", "198.51.100.12"),
            "client1": host_facts("client1", "192.0.2.13"),
        },
        "disk": disk,
    }


def groupvars(case: dict) -> dict:
    return case["inventory"]["all"]["vars"]


def hostvars(case: dict, host: str) -> dict:
    children = case["inventory"]["all"]["children"]
    for group in (
        children["san_servers"]["children"]["primary"],
        children["san_servers"]["children"]["secondary"],
    ):
        if host in group.get("hosts", {}):
            return group["hosts"][host]
    return children["clients"]["hosts"][host]


def play(tmp: Path, case: dict, playbook: Path = PLAYBOOK, *args: str) -> tuple[int, dict]:
    """Run playbook on the case's inventory and fake facts: (rc, the json callback's report)."""
    library = tmp / "library"
    library.mkdir(exist_ok=True)
    inventory = copy.deepcopy(case["inventory"])
    for n, (host, facts) in enumerate(sorted(case["facts"].items())):
        (library / f"ha_san_test_facts_{n}.py").write_text(FACT_MODULE % json.dumps(facts))
        for group in _all_host_dicts(inventory):
            if host in group:
                group[host]["ansible_facts_modules"] = [f"ha_san_test_facts_{n}"]
    (tmp / "inventory.yml").write_text(yaml.safe_dump(inventory))
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"),
        ANSIBLE_LIBRARY=str(library),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-local"),
        ANSIBLE_REMOTE_TEMP=str(tmp / "ansible-remote"),
        ANSIBLE_FORKS="5",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_DEPRECATION_WARNINGS="0",
    )
    extra = ["-e", json.dumps(case["extra_vars"])] if case.get("extra_vars") else []
    proc = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(tmp / "inventory.yml"), *extra, *args, str(playbook)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        return proc.returncode, json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        pytest.fail(f"no JSON from ansible-playbook (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def failure_messages(out: dict) -> list[str]:
    messages = []
    for p in out["plays"]:
        for task in p["tasks"]:
            for result in task["hosts"].values():
                for r in [result, *result.get("results", [])]:
                    if r.get("failed") and r.get("msg"):
                        messages.append(r["msg"])
    return messages


def run(tmp: Path, case: dict) -> tuple[int, list[str], dict]:
    rc, out = play(tmp, case)
    return rc, failure_messages(out), out["stats"]


def _all_host_dicts(inventory: dict):
    def walk(group: dict):
        if "hosts" in group:
            yield group["hosts"]
        for child in group.get("children", {}).values():
            yield from walk(child)

    yield from walk(inventory["all"])


AUTHKEY_MESSAGE = (
    "heartbeat_authkey is missing or shorter than 16 characters: Heartbeat signs every packet with this shared "
    "secret. Put a random key in the vault (ansible-vault encrypt_string --name heartbeat_authkey)."
)
# What the heartbeat role accepts when cluster-glue is not installed yet (roles/heartbeat/tasks/validate.yml).
SHIPPED_STONITH_TYPES = (
    "agent, file, apcmaster, apcsmart, baytech, cyclades, ibmhmc, meatware, null, nw_rpc100s, rcd_serial, rps10, ssh, "
    "suicide, wti_nps, external/drac5, external/dracmc-telnet, external/hetzner, external/hmchttp, external/ibmrsa, "
    "external/ibmrsa-telnet, external/ipmi, external/ippower9258, external/kdumpcheck, external/libvirt, external/nut, "
    "external/rackpdu, external/riloe, external/ssh, external/vcenter, external/vmware, external/xen0, external/xen0-ha"
)


def without_stonith_tool(tmp: Path, case: dict) -> None:
    """As on a server where cluster-glue is not installed yet."""
    case["extra_vars"] = {"__heartbeat_stonith_tool": str(tmp / "no-stonith")}


def with_stonith_tool(tmp: Path, case: dict, types: list[str]) -> None:
    """A stand-in for cluster-glue's stonith tool that lists these types for stonith -L."""
    tool = tmp / "stonith"
    tool.write_text("#!/bin/sh\n[ \"$1\" = -L ] && printf '%s\\n' " + " ".join(types) + "\n")
    tool.chmod(0o755)
    case["extra_vars"] = {"__heartbeat_stonith_tool": str(tool)}


# The three inventories the pre-flight let through before issue 25 (only the heartbeat role refused them, after
# the whole drbd role had run): each changes the good case and returns the message the pre-flight now stops with.
def stonith_type_missing(tmp_path: Path, case: dict) -> str:
    del groupvars(case)["ha_san_fence_agent"]
    return (
        "heartbeat_stonith_type is not set: set ha_san_fence_agent to the fence agent of your power switch (e.g. "
        "fence_ipmilan, with ha_san_fence_params and ha_san_fence_host_params), or heartbeat_stonith_type to file (a "
        "request directory, for tests) or to an installed cluster-glue type such as external/ipmi with its "
        "parameters in heartbeat_stonith_host_params. Running without fencing needs ha_san_fencing: false, which "
        "is unsafe."
    )


def stonith_type_that_does_not_exist(tmp_path: Path, case: dict) -> str:
    groupvars(case)["heartbeat_stonith_type"] = "external/nosuch"
    without_stonith_tool(tmp_path, case)
    return (
        "heartbeat_stonith_type external/nosuch is not a STONITH type on srv1 (cluster-glue is not installed yet: "
        f"checked against the types it ships): choose one of {SHIPPED_STONITH_TYPES}, or install the package that "
        "provides it."
    )


def deadtime_below_keepalive(tmp_path: Path, case: dict) -> str:
    groupvars(case)["heartbeat_deadtime"] = "200ms"
    return (
        "Heartbeat timings keepalive 300ms, warntime 1, deadtime 200ms, initdead 60 are out of order: keep keepalive "
        '< warntime < deadtime, and initdead at least twice deadtime (seconds, or milliseconds as "300ms").'
    )


ISSUE_25 = [stonith_type_missing, stonith_type_that_does_not_exist, deadtime_below_keepalive]


# Every case below is a function that changes the good case and returns the expected message
# (None: the inventory must be accepted). All cases run at once, in parallel, the first time a test asks.
CASES: dict = {}


def refused(fn):
    CASES[fn.__name__.removeprefix("case_")] = fn
    return fn


accepted = refused


def assert_refused(tmp: Path, case: dict, message: str) -> str:
    return message


def assert_accepted(tmp: Path, case: dict) -> None:
    return None


def _run_case(root: Path, name: str):
    tmp = root / name
    tmp.mkdir()
    case = good_case(tmp)
    with open(case["disk"], "wb") as f:
        f.truncate(64 * 1024 * 1024)
    expected = CASES[name](tmp, case)
    return expected, run(tmp, case)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("validate")
    workers = max(2, min(6, (os.cpu_count() or 2) * 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(_run_case, root, name) for name in CASES}
        return {name: f.result() for name, f in futures.items()}


# ---- accepted ----------------------------------------------------------------------------------------------


@accepted
def case_the_good_inventory_passes_and_changes_nothing(tmp_path, case):
    return assert_accepted(tmp_path, case)


@accepted
def case_seed_vip_10_0_0_255_is_a_valid_host_in_a_22(tmp_path, case):
    g = groupvars(case)
    g["ha_san_san_network"] = "10.0.0.0/22"
    g["ha_san_service_ip"] = "10.0.0.255"
    for host, addr in (("srv1", "10.0.0.128"), ("srv2", "10.0.0.122"), ("client1", "10.0.0.243")):
        hostvars(case, host)["ha_san_san_address"] = addr
        case["facts"][host]["ansible_eth1"]["ipv4"]["address"] = addr
    return assert_accepted(tmp_path, case)


@accepted
def case_stonith_off_with_default_policies_passes(tmp_path, case):
    groupvars(case)["ha_san_fencing"] = False
    return assert_accepted(tmp_path, case)


@accepted
def case_a_disk_with_a_file_system_passes_with_allow_overwrite(tmp_path, case):
    subprocess.run(["mkfs.ext4", "-q", "-F", str(case["disk"])], check=True)
    groupvars(case)["drbd_allow_overwrite"] = True
    return assert_accepted(tmp_path, case)


# ---- refused: groups ----------------------------------------------------------------------------------------


@refused
def case_missing_primary(tmp_path, case):
    children = case["inventory"]["all"]["children"]["san_servers"]["children"]
    children["primary"] = {"hosts": {}}
    del case["facts"]["srv1"]
    return assert_refused(
        tmp_path,
        case,
        "Group primary must hold exactly one host, the server that runs the service first (found 0): "
        "put it under san_servers.children.primary.hosts.",
    )


@refused
def case_missing_secondary(tmp_path, case):
    children = case["inventory"]["all"]["children"]["san_servers"]["children"]
    children["secondary"] = {"hosts": {}}
    del case["facts"]["srv2"]
    return assert_refused(
        tmp_path,
        case,
        "Group secondary must hold exactly one host, the standby server (found 0): "
        "put it under san_servers.children.secondary.hosts.",
    )


@refused
def case_missing_client(tmp_path, case):
    case["inventory"]["all"]["children"]["clients"] = {"hosts": {}}
    del case["facts"]["client1"]
    return assert_refused(
        tmp_path,
        case,
        "Group clients is empty: put at least one host that mounts the SAN's export under clients.hosts.",
    )


# ---- refused: service IP -----------------------------------------------------------------------------------


@refused
def case_vip_outside_the_san_subnet(tmp_path, case):
    groupvars(case)["ha_san_service_ip"] = "192.0.3.100"
    return assert_refused(
        tmp_path,
        case,
        "ha_san_service_ip must be one IPv4 address in ha_san_san_network 192.0.2.0/24 (found 192.0.3.100): choose "
        "a free address in 192.0.2.1-192.0.2.254.",
    )


@refused
def case_vip_equal_to_the_network_address(tmp_path, case):
    groupvars(case)["ha_san_service_ip"] = "192.0.2.0"
    return assert_refused(
        tmp_path,
        case,
        "ha_san_service_ip 192.0.2.0 is the network address of the SAN network 192.0.2.0/24 (ha_san_san_network): "
        "choose a free address in 192.0.2.1-192.0.2.254.",
    )


@refused
def case_vip_equal_to_the_broadcast_address(tmp_path, case):
    groupvars(case)["ha_san_service_ip"] = "192.0.2.255"
    return assert_refused(
        tmp_path,
        case,
        "ha_san_service_ip 192.0.2.255 is the broadcast address of the SAN network 192.0.2.0/24 (ha_san_san_network): "
        "choose a free address in 192.0.2.1-192.0.2.254.",
    )


# ---- refused: addresses and names ------------------------------------------------------------------------


@refused
def case_client_without_a_san_address(tmp_path, case):
    del hostvars(case, "client1")["ha_san_san_address"]
    return assert_refused(
        tmp_path,
        case,
        "client1: ha_san_san_address (not set) must be this host's address on interface eth1 (ha_san_san_interface) "
        "in ha_san_san_network 192.0.2.0/24, other than the service IP; the interface has 192.0.2.13.",
    )


@refused
def case_server_whose_san_interface_lacks_the_address(tmp_path, case):
    case["facts"]["srv2"]["ansible_eth1"] = {"device": "eth1"}
    return assert_refused(
        tmp_path,
        case,
        "srv2: ha_san_san_address (192.0.2.12) must be this host's address on interface eth1 (ha_san_san_interface) "
        "in ha_san_san_network 192.0.2.0/24, other than the service IP; the interface has no address.",
    )


@refused
def case_server_without_a_replication_address(tmp_path, case):
    hostvars(case, "srv1")["ha_san_replication_address"] = "192.0.2.77"
    return assert_refused(
        tmp_path,
        case,
        "srv1: ha_san_replication_address (192.0.2.77) must be this server's address on interface eth2 "
        "(ha_san_replication_interface) in ha_san_replication_network 198.51.100.0/24; the interface has 198.51.100.11.",
    )


@refused
def case_node_name_that_is_not_uname_n(tmp_path, case):
    hostvars(case, "srv1")["ha_san_node_name"] = "node1"
    return assert_refused(
        tmp_path,
        case,
        "srv1: ha_san_node_name is 'node1' (default: the inventory name up to the first dot) but uname -n says "
        "'srv1': DRBD and the cluster engine only accept a node's own name. Set ha_san_node_name to 'srv1' in "
        "this host's host_vars, or change the host's name.",
    )


@refused
def case_two_servers_with_one_node_name(tmp_path, case):
    case["facts"]["srv2"]["ansible_nodename"] = "srv1"
    hostvars(case, "srv2")["ha_san_node_name"] = "srv1"
    return assert_refused(
        tmp_path,
        case,
        "Both servers have the node name (uname -n) srv1: DRBD and the cluster engine tell the nodes apart by it; "
        "give each server its own host name.",
    )


@refused
def case_servers_that_are_not_two(tmp_path, case):
    groupvars(case)["ha_san_servers"] = ["srv1"]
    return assert_refused(
        tmp_path,
        case,
        "ha_san_servers is ['srv1']: the SAN has exactly two different servers, one in the group primary and one in "
        "secondary, and this host (srv2) must be one of them.",
    )


# ---- refused: fencing (the shared model) --------------------------------------------------------------------


@refused
def case_pacemaker_without_fencing(tmp_path, case):
    groupvars(case)["ha_san_cluster_engine"] = "pacemaker"
    groupvars(case)["ha_san_fencing"] = False
    return assert_refused(
        tmp_path,
        case,
        "ha_san_fencing is false but ha_san_cluster_engine is pacemaker: Pacemaker runs no resource of a cluster "
        "that cannot fence. Set ha_san_fencing: true and ha_san_fence_agent with its parameters.",
    )


@refused
def case_fence_agent_given_as_a_path(tmp_path, case):
    groupvars(case)["ha_san_fence_agent"] = "/usr/sbin/fence_ipmilan"
    return assert_refused(
        tmp_path,
        case,
        "ha_san_fence_agent is '/usr/sbin/fence_ipmilan': give the program name of a fence agent, e.g. fence_ipmilan "
        "(fence-agents installs them in /usr/sbin), not a path or a command line; its options go in "
        "ha_san_fence_params and ha_san_fence_host_params.",
    )


@refused
def case_fence_parameters_for_an_unknown_node(tmp_path, case):
    groupvars(case)["ha_san_fence_host_params"] = {"srv1": {"ip": "10.9.0.1"}, "srv9": {"ip": "10.9.0.9"}}
    return assert_refused(
        tmp_path,
        case,
        "ha_san_fence_host_params has parameters for srv9, which is not a server's node name: use the node names "
        "srv1, srv2.",
    )


# ---- refused: exports --------------------------------------------------------------------------------------


@refused
def case_two_exports_with_one_shelf_slot(tmp_path, case):
    second = dict(groupvars(case)["ha_san_resources"][0], name="r1", device="/dev/drbd1", minor=1, port=7790)
    groupvars(case)["ha_san_resources"].append(second)
    return assert_refused(
        tmp_path,
        case,
        "Two exports in vblade_target_exports (default: ha_san_resources) share e0.3: give every export its own "
        "shelf.slot.",
    )


@refused
def case_shelf_out_of_range(tmp_path, case):
    groupvars(case)["ha_san_resources"][0]["shelf"] = 65535
    return assert_refused(
        tmp_path,
        case,
        "vblade_target_exports (default: ha_san_resources) entry r0 needs name (letters, digits, _.-), device (an "
        "absolute path), shelf 0-65534 and slot 0-254 (65535 and 255 are AoE's broadcast addresses); found shelf "
        "65535 and slot 3.",
    )


@refused
def case_slot_out_of_range(tmp_path, case):
    groupvars(case)["ha_san_resources"][0]["slot"] = 255
    return assert_refused(
        tmp_path,
        case,
        "vblade_target_exports (default: ha_san_resources) entry r0 needs name (letters, digits, _.-), device (an "
        "absolute path), shelf 0-65534 and slot 0-254 (65535 and 255 are AoE's broadcast addresses); found shelf "
        "0 and slot 255.",
    )


# ---- refused: backing disks ------------------------------------------------------------------------------------


@refused
def case_disk_holding_a_file_system(tmp_path, case):
    subprocess.run(["mkfs.ext4", "-q", "-F", str(case["disk"])], check=True)
    return assert_refused(
        tmp_path,
        case,
        f"srv1: the backing disk {case['disk']} of resource r0 holds ext4 and no DRBD metadata: it may hold data. "
        "Set disk in ha_san_resources to an empty device, or set drbd_allow_overwrite: true to let DRBD overwrite it.",
    )


@refused
def case_disk_holding_a_partition_table(tmp_path, case):
    with open(case["disk"], "r+b") as f:  # an MBR with one Linux partition
        f.seek(446)
        f.write(
            bytes([0x00, 0, 0, 0, 0x83, 0, 0, 0])
            + (2048).to_bytes(4, "little")
            + (4096).to_bytes(4, "little")
        )
        f.seek(510)
        f.write(b"\x55\xaa")
    return assert_refused(
        tmp_path,
        case,
        f"srv1: the backing disk {case['disk']} of resource r0 holds dos and no DRBD metadata: it may hold data. "
        "Set disk in ha_san_resources to an empty device, or set drbd_allow_overwrite: true to let DRBD overwrite it.",
    )


@refused
def case_missing_disk(tmp_path, case):
    case["disk"].unlink()
    return assert_refused(
        tmp_path,
        case,
        f"srv1: the backing disk {case['disk']} of resource r0 does not exist: "
        "set disk in ha_san_resources to an existing, empty block device.",
    )


# ---- refused: secrets and policies ---------------------------------------------------------------------------


@refused
def case_missing_heartbeat_authkey(tmp_path, case):
    del groupvars(case)["heartbeat_authkey"]
    return assert_refused(
        tmp_path,
        case,
        AUTHKEY_MESSAGE,
    )


@refused
def case_missing_drbd_shared_secret(tmp_path, case):
    del groupvars(case)["drbd_shared_secret"]
    return assert_refused(
        tmp_path,
        case,
        "drbd_shared_secret is missing or shorter than 8 characters: put a random secret in the vault "
        "(ansible-vault encrypt_string --name drbd_shared_secret), or set drbd_cram_hmac_alg to '' to turn DRBD peer "
        "authentication off.",
    )


@refused
def case_stonith_off_with_discard_secondary(tmp_path, case):
    groupvars(case)["ha_san_fencing"] = False
    groupvars(case)["drbd_after_sb_1pri"] = "discard-secondary"
    return assert_refused(
        tmp_path,
        case,
        "drbd_after_sb_1pri is discard-secondary but fencing is off (ha_san_fencing: false): without fencing an "
        "isolated Primary keeps writing, and discard-secondary can throw away acknowledged writes. Turn fencing on "
        "(ha_san_fencing: true with ha_san_fence_agent), or set drbd_after_sb_1pri to consensus.",
    )


@refused
def case_resource_without_a_port(tmp_path, case):
    resource = groupvars(case)["ha_san_resources"][0]
    del resource["port"]
    return assert_refused(
        tmp_path,
        case,
        "drbd_resources (default: ha_san_resources) entry r0 needs name (letters, digits, _.-), minor (a number), "
        "device (/dev/drbd<minor>), disk (the backing disk's path) and port (1024-65535); found "
        + json.dumps(dict(sorted(resource.items())))
        + ".",
    )


@refused
def case_san_network_not_in_cidr_form(tmp_path, case):
    groupvars(case)["ha_san_san_network"] = "192.0.2.0/255.255.255.0/x"
    return assert_refused(
        tmp_path,
        case,
        "ha_san_san_network and ha_san_replication_network must be IPv4 networks in CIDR form, e.g. 10.0.0.0/22 "
        "(found 192.0.2.0/255.255.255.0/x and 198.51.100.0/24).",
    )


# ---- refused: the three that reached the servers before (issue 25) --------------------------------------------


@refused
def case_stonith_type_missing(tmp_path, case):
    return assert_refused(tmp_path, case, stonith_type_missing(tmp_path, case))


@refused
def case_stonith_type_that_does_not_exist(tmp_path, case):
    return assert_refused(tmp_path, case, stonith_type_that_does_not_exist(tmp_path, case))


@refused
def case_deadtime_below_keepalive(tmp_path, case):
    return assert_refused(tmp_path, case, deadtime_below_keepalive(tmp_path, case))


# ---- every role's checks run in the pre-flight ------------------------------------------------------------------


@accepted
def case_a_stonith_type_that_stonith_lists_passes(tmp_path, case):
    groupvars(case)["heartbeat_stonith_type"] = "external/site-pdu"
    with_stonith_tool(tmp_path, case, ["external/ipmi", "external/site-pdu"])
    return assert_accepted(tmp_path, case)


@refused
def case_a_stonith_type_that_stonith_does_not_list(tmp_path, case):
    groupvars(case)["heartbeat_stonith_type"] = "apcmaster"
    with_stonith_tool(tmp_path, case, ["external/ipmi", "external/site-pdu"])
    return assert_refused(
        tmp_path,
        case,
        "heartbeat_stonith_type apcmaster is not a STONITH type on srv1 (stonith -L lists the installed ones): "
        "choose one of agent, file, external/ipmi, external/site-pdu, or install the package that provides it.",
    )


@refused
def case_short_heartbeat_authkey(tmp_path, case):
    groupvars(case)["heartbeat_authkey"] = "fifteen-chars.."
    return assert_refused(tmp_path, case, AUTHKEY_MESSAGE)


@refused
def case_two_resources_with_one_port(tmp_path, case):
    second = dict(groupvars(case)["ha_san_resources"][0], name="r1", device="/dev/drbd1", minor=1, slot=4)
    groupvars(case)["ha_san_resources"].append(second)
    return assert_refused(
        tmp_path,
        case,
        "Two resources in drbd_resources (default: ha_san_resources) share a port: give every resource its own port.",
    )


@refused
def case_export_mac_that_is_not_locally_administered(tmp_path, case):
    groupvars(case)["ha_san_resources"][0]["mac"] = "00:ae:00:00:00:03"
    return assert_refused(
        tmp_path,
        case,
        "Export r0: mode must be macvlan or nic (vblade_target_mode, found macvlan) and mac a locally administered "
        "unicast address like 02:ae:00:00:00:03 (second hex digit 2, 6, a or e; found 00:ae:00:00:00:03).",
    )


@refused
def case_a_value_of_the_wrong_type_for_a_role_argument_spec(tmp_path, case):
    groupvars(case)["heartbeat_udpport"] = "six-nine-four"
    return assert_refused(
        tmp_path,
        case,
        "Validation of arguments failed:\nargument 'heartbeat_udpport' is of type str and we were unable to convert "
        "to int: \"'six-nine-four'\" cannot be converted to an int",
    )


@refused
def case_a_client_variable_against_the_role_argument_spec(tmp_path, case):
    groupvars(case)["aoe_client_driver"] = "aoe6"
    return assert_refused(
        tmp_path,
        case,
        "Validation of arguments failed:\nvalue of aoe_client_driver must be one of: in_kernel, build, got: aoe6",
    )


@refused
def case_a_client_variable_against_the_role_checks(tmp_path, case):
    groupvars(case)["aoe_client_module_options"] = {"aoe_iflist": "eth1"}
    return assert_refused(
        tmp_path,
        case,
        "aoe_client_module_options must map aoe module options (aoe_deadsecs, aoe_maxout, aoe_dyndevs, ...) to plain "
        "values, e.g. {aoe_deadsecs: 180}; set aoe_iflist through aoe_client_interfaces. Found {'aoe_iflist': 'eth1'}.",
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_validation(outcomes, name):
    expected, (rc, messages, stats) = outcomes[name]
    assert all(s["changed"] == 0 for s in stats.values()), f"something changed: {stats}"
    if expected is None:
        assert rc == 0, "refused a valid inventory:\n" + "\n".join(messages)
        assert all(s["failures"] == 0 for s in stats.values()), stats
    else:
        assert rc != 0, "accepted an invalid inventory"
        assert expected in messages, "expected:\n" + expected + "\ngot:\n" + "\n".join(messages)


def test_site_validates_before_any_change():
    site = yaml.safe_load((REPO / "playbooks" / "site.yml").read_text())
    assert site[0] == {
        "name": "Validate the inventory before anything changes",
        "ansible.builtin.import_playbook": "validate.yml",
    }
    plays = yaml.safe_load(PLAYBOOK.read_text())
    assert len(plays) == 1 and plays[0]["any_errors_fatal"] is True
    roles = []
    for play in site[1:]:
        roles += [r["role"] for r in play.get("roles", [])]
        for task in play.get("tasks", []):
            call = task.get("ansible.builtin.import_role") or task.get("ansible.builtin.include_role")
            roles.append(call["name"])
    assert roles == [
        "ha_san.aoe.drbd",
        "ha_san.aoe.vblade_target",
        "ha_san.aoe.{{ ha_san_cluster_engine }}",
        "ha_san.aoe.aoe_client",
    ]


def _run_site(root: Path, make) -> tuple[str, int, dict]:
    tmp = root / make.__name__
    tmp.mkdir()
    case = good_case(tmp)
    with open(case["disk"], "wb") as f:
        f.truncate(64 * 1024 * 1024)
    expected = make(tmp, case)
    # --check only as a safety net: were the inventory wrongly accepted, the drbd role would otherwise run on
    # this machine. The pre-flight's checks run the same in check mode.
    return (expected, *play(tmp, case, REPO / "playbooks" / "site.yml", "--check"))


@pytest.fixture(scope="module")
def site_outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    with ThreadPoolExecutor(max_workers=len(ISSUE_25)) as pool:
        futures = {make.__name__: pool.submit(_run_site, root, make) for make in ISSUE_25}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("name", [make.__name__ for make in ISSUE_25])
def test_site_stops_in_the_pre_flight_before_the_drbd_role(site_outcomes, name):
    expected, rc, out = site_outcomes[name]
    assert rc != 0, "site.yml accepted an invalid inventory"
    assert expected in failure_messages(out), (
        "expected:\n" + expected + "\ngot:\n" + "\n".join(failure_messages(out))
    )
    # Only the pre-flight play started: the drbd role's play (the first that changes a host) never began.
    assert [p["play"]["name"] for p in out["plays"]] == ["Validate the inventory before anything changes"]
    assert all(s["changed"] == 0 for s in out["stats"].values()), out["stats"]
    assert all(s["failures"] >= 1 for h, s in out["stats"].items() if h != "client1"), out["stats"]
