"""The drbd role's tasks/validate.yml used alone: each bad input stops the play with its own message.

Runs ansible-playbook against this machine (connection local, two inventory hosts) with a throw-away inventory.
The same file runs in the pre-flight (tests/unit/playbooks/test_validate_inventory.py); here it shows that the
role used in someone else's playbook refuses the same input. Only facts are read: nothing changes.
"""

# ruff: noqa: E501  (the expected messages are kept whole, word for word)
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from validation_playbook import RESOURCE, SHARED_MODEL, assert_refused, changed_zero, run_playbook

GOOD = {**SHARED_MODEL, "drbd_shared_secret": "validation-test-secret"}

PLAY = """\
- name: drbd role under test
  hosts: san_servers
  gather_facts: true
  gather_subset: [min]
  tasks:
    # Both test hosts are this machine: each gets its inventory name as its uname -n.
    - name: Give each host its own node name
      ha_san_test_facts:
        facts:
          nodename: "{{ inventory_hostname }}"

    - name: Run the role's checks
      ansible.builtin.include_role:
        name: ha_san.aoe.drbd
        tasks_from: validate
"""


def run(tmp_path: Path, overrides: dict) -> tuple[int, str]:
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {
        "all": {
            "vars": {k: v for k, v in {**GOOD, **overrides}.items() if v is not None},
            "children": {
                "san_servers": {
                    "children": {
                        "primary": {
                            "hosts": {"drbdv1": {**local, "ha_san_replication_address": "10.0.8.11"}}
                        },
                        "secondary": {
                            "hosts": {"drbdv2": {**local, "ha_san_replication_address": "10.0.8.12"}}
                        },
                    }
                }
            },
        }
    }
    rc, out = run_playbook(tmp_path, inventory, PLAY, "{}")
    return rc, " ".join(out.replace("\\n", "\n").split())  # folded: compare on single spaces


# The hosts whose play recap must say changed=0 after a refusal.
HOSTS = ("drbdv1", "drbdv2")


CASES = {
    "discard-secondary without STONITH": (
        {"ha_san_fencing": False, "drbd_after_sb_1pri": "discard-secondary"},
        "drbd_after_sb_1pri is discard-secondary but fencing is off (ha_san_fencing: false): without fencing an "
        "isolated Primary keeps writing, and discard-secondary can throw away acknowledged writes. Turn fencing on "
        "(ha_san_fencing: true with ha_san_fence_agent), or set drbd_after_sb_1pri to consensus.",
    ),
    "no resources": (
        {"ha_san_resources": []},
        "drbd_resources is empty: list each replicated device in ha_san_resources (name, device, minor, disk, port), "
        "e.g. {name: r0, device: /dev/drbd0, minor: 0, disk: /dev/sdb, port: 7789}.",
    ),
    "device that is not /dev/drbd<minor>": (
        {"ha_san_resources": [{**RESOURCE, "device": "/dev/drbd1"}]},
        "drbd_resources (default: ha_san_resources) entry r0 needs name (letters, digits, _.-), minor (a number), "
        "device (/dev/drbd<minor>), disk (the backing disk's path) and port (1024-65535); found "
        + json.dumps({**RESOURCE, "device": "/dev/drbd1"}, sort_keys=True)
        + ".",
    ),
    "two resources with one minor": (
        {"ha_san_resources": [RESOURCE, {**RESOURCE, "name": "r1", "port": 7790}]},
        "Two resources in drbd_resources (default: ha_san_resources) share a minor: give every resource its own minor.",
    ),
    "secret missing": (
        {"drbd_shared_secret": None},
        "drbd_shared_secret is missing or shorter than 8 characters: put a random secret in the vault "
        "(ansible-vault encrypt_string --name drbd_shared_secret), or set drbd_cram_hmac_alg to '' to turn DRBD peer "
        "authentication off.",
    ),
    "boot waits forever": (
        {"drbd_wfc_timeout": 0},
        "drbd_wfc_timeout, drbd_degr_wfc_timeout and drbd_outdated_wfc_timeout must be more than 0 seconds "
        "(0 makes boot wait for the peer forever); e.g. 60, 30 and 30.",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_with_its_message_and_changes_nothing(tmp_path, case):
    overrides, message = CASES[case]
    rc, out = run(tmp_path, overrides)
    assert_refused(rc, out, message, *HOSTS)


def test_stonith_off_with_the_default_policy_passes_and_warns(tmp_path):
    # Passing proves the default policy became consensus: discard-secondary without fencing is refused.
    rc, out = run(tmp_path, {"ha_san_fencing": False})
    assert rc == 0, out
    assert out.count("WARNING: ha_san_fencing is false.") == 1, out


def test_good_input_passes(tmp_path):
    rc, out = run(tmp_path, {})
    assert rc == 0, out
    assert changed_zero(out, *HOSTS), out
