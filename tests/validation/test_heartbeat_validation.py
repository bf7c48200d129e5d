"""The heartbeat role's tasks/validate.yml: each bad input stops the play with its own message.

Runs ansible-playbook against this machine (connection local) with a throw-away inventory. The
checks come before any change, so every failing case must also report changed=0; the last case
runs only validate.yml on good input and must pass.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from validation_playbook import run_playbook

REPO = Path(__file__).resolve().parents[2]
NODENAME = os.uname().nodename
BIN = Path(sys.executable).parent

GOOD = {
    "ha_san_san_interface": "eth1",
    "ha_san_replication_interface": "eth2",
    "ha_san_san_network": "10.0.0.0/22",
    "ha_san_replication_network": "10.0.8.0/24",
    "ha_san_service_ip": "10.0.0.100",
    "ha_san_resources": [
        {
            "name": "r0",
            "device": "/dev/drbd0",
            "minor": 0,
            "disk": "/dev/sdb",
            "port": 7789,
            "shelf": 0,
            "slot": 3,
        }
    ],
    "heartbeat_authkey": "validation-test-key",
    "heartbeat_stonith_type": "external/ipmi",
}

PLAY = """\
- name: Heartbeat role under test
  hosts: primary
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: ha_san.aoe.heartbeat
        tasks_from: "{{ tasks_from | default('main') }}"
"""


def run(tmp_path: Path, overrides: dict, host_overrides: dict | None = None, tasks_from: str = "main"):
    inventory = {
        "all": {
            "vars": {k: v for k, v in {**GOOD, **overrides}.items() if v is not None},
            "children": {
                "primary": {
                    "hosts": {
                        "hbv1": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                            "heartbeat_node_name": NODENAME,
                            "ha_san_san_address": "10.0.0.11",
                            "ha_san_replication_address": "10.0.8.11",
                            **(host_overrides or {}),
                        }
                    }
                },
                "secondary": {
                    "hosts": {
                        "hbv2": {
                            "ansible_connection": "local",
                            "heartbeat_node_name": "hbv2-peer",
                            "ha_san_san_address": "10.0.0.12",
                            "ha_san_replication_address": "10.0.8.12",
                        }
                    }
                },
                "clients": {
                    "hosts": {"hbc": {"ansible_connection": "local", "ha_san_san_address": "10.0.0.21"}}
                },
            },
        }
    }
    rc, out = run_playbook(tmp_path, inventory, PLAY, f"tasks_from={tasks_from}")
    return rc, " ".join(out.split())  # messages are folded: compare on single spaces


def changed_zero(out: str) -> bool:
    m = re.search(r"hbv1\s*:\s*ok=\d+\s+changed=(\d+)", out)
    return m is not None and m.group(1) == "0"


CASES = {
    "secret missing": (
        {"heartbeat_authkey": None},
        None,
        "heartbeat_authkey is not set: Heartbeat signs every packet with this shared secret. Put it in the "
        "inventory, encrypted with ansible-vault (ansible-vault encrypt_string --name heartbeat_authkey).",
    ),
    "stonith off with discard-secondary": (
        {"heartbeat_stonith_enabled": False, "drbd_after_sb_1pri": "discard-secondary"},
        None,
        "heartbeat_stonith_enabled is false while DRBD resolves split brain with after-sb-1pri "
        "discard-secondary (heartbeat_drbd_after_sb_1pri): without STONITH an isolated Primary keeps "
        "writing, and discard-secondary can throw away acknowledged writes. Enable STONITH, or set "
        "drbd_after_sb_1pri to disconnect.",
    ),
    "node name is not uname -n": (
        {},
        {"heartbeat_node_name": "not-this-host"},
        f"heartbeat_node_name is 'not-this-host' but this host's uname -n is '{NODENAME}': Heartbeat only "
        f"accepts its own name in ha.cf and haresources. Set heartbeat_node_name to '{NODENAME}' in this "
        "host's host_vars, or change the host name.",
    ),
    "vip outside the san": (
        {"ha_san_service_ip": "10.9.0.100"},
        None,
        "heartbeat_service_ip 10.9.0.100 is outside the SAN network 10.0.0.0/22 (heartbeat_service_network, "
        "from ha_san_san_network): choose an address inside 10.0.0.0/22.",
    ),
    "vip is the network address": (
        {"ha_san_service_ip": "10.0.0.0"},
        None,
        "heartbeat_service_ip 10.0.0.0 is the network address of 10.0.0.0/22: "
        "choose a host address inside it.",
    ),
    "vip is the broadcast address": (
        {"ha_san_service_ip": "10.0.3.255"},
        None,
        "heartbeat_service_ip 10.0.3.255 is the broadcast address of 10.0.0.0/22: "
        "choose a host address inside it.",
    ),
    "stonith type missing": (
        {"heartbeat_stonith_type": ""},
        None,
        "heartbeat_stonith_type is not set: choose lab (the lab's power switch), file (a request directory, "
        "for tests) or an installed cluster-glue type such as external/ipmi with its parameters in "
        "heartbeat_stonith_host_params. Running without STONITH needs heartbeat_stonith_enabled: false, "
        "which is unsafe.",
    ),
    "timings out of order": (
        {"heartbeat_keepalive": "2", "heartbeat_deadtime": "1500ms"},
        None,
        "Heartbeat timings keepalive 2, warntime 1, deadtime 1500ms, initdead 60 are out of order",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_with_its_message_and_changes_nothing(tmp_path, case):
    overrides, host_overrides, message = CASES[case]
    rc, out = run(tmp_path, overrides, host_overrides)
    assert rc != 0, out
    assert message in out, out
    assert changed_zero(out), out


def test_empty_secret_is_refused_too(tmp_path):
    rc, out = run(tmp_path, {"heartbeat_authkey": ""})
    assert rc != 0, out
    assert "heartbeat_authkey is not set:" in out, out
    assert changed_zero(out), out


def test_vip_inside_a_wide_network_at_dot_255_is_accepted(tmp_path):
    # 10.0.0.255 is a host address in 10.0.0.0/22 (the seed's network).
    rc, out = run(tmp_path, {"ha_san_service_ip": "10.0.0.255"}, tasks_from="validate")
    assert rc == 0, out


def test_stonith_off_warns_why_it_is_unsafe(tmp_path):
    # With resources and no explicit drbd_after_sb_1pri, the drbd role then picks consensus: accepted.
    rc, out = run(tmp_path, {"heartbeat_stonith_enabled": False}, tasks_from="validate")
    assert rc == 0, out
    assert "WARNING: heartbeat_stonith_enabled is false. Without STONITH a two-node Heartbeat cluster" in out


def test_good_input_passes_validation(tmp_path):
    rc, out = run(tmp_path, {}, tasks_from="validate")
    assert rc == 0, out
    assert changed_zero(out), out
