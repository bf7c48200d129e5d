"""The pacemaker role's tasks/validate.yml: each bad input stops the play with its own message.

Runs ansible-playbook against this machine (connection local) with a throw-away inventory. The role runs from
main.yml, whose first step is the validation, so every failing case must also report changed=0 (nothing was
installed or written); the good input runs validate.yml alone and must pass.
"""

# ruff: noqa: E501  (the expected messages are kept whole, word for word)
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from validation_playbook import SHARED_MODEL, assert_refused, changed_zero, run_playbook

GOOD = {
    **SHARED_MODEL,
    "ha_san_cluster_engine": "pacemaker",
    "pacemaker_corosync_authkey": "k" * 128,
    "ha_san_fence_agent": "fence_ipmilan",
}

PLAY = """\
- name: Pacemaker role under test
  hosts: primary
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: ha_san.aoe.pacemaker
        tasks_from: "{{ tasks_from | default('main') }}"
"""


def run(tmp_path: Path, overrides: dict, tasks_from: str = "main") -> tuple[int, str]:
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {
        "all": {
            "vars": {k: v for k, v in {**GOOD, **overrides}.items() if v is not None},
            "children": {
                "primary": {
                    "hosts": {
                        "pcv1": {
                            **local,
                            "ha_san_node_name": os.uname().nodename,
                            "ha_san_san_address": "10.0.0.11",
                            "ha_san_replication_address": "10.0.8.11",
                        }
                    }
                },
                "secondary": {
                    "hosts": {
                        "pcv2": {
                            **local,
                            "ha_san_node_name": "pcv2-peer",
                            "ha_san_san_address": "10.0.0.12",
                            "ha_san_replication_address": "10.0.8.12",
                        }
                    }
                },
                "clients": {"hosts": {"pcc": {**local, "ha_san_san_address": "10.0.0.21"}}},
            },
        }
    }
    rc, out = run_playbook(tmp_path, inventory, PLAY, f"tasks_from={tasks_from}")
    return rc, " ".join(out.split())  # messages are folded: compare on single spaces


# The hosts whose play recap must say changed=0 after a refusal.
HOSTS = ("pcv1",)


CASES = {
    "corosync key missing": (
        {"pacemaker_corosync_authkey": None},
        "pacemaker_corosync_authkey is missing, shorter than 128 or longer than 4096 characters, or holds white "
        "space: Corosync encrypts and signs every packet with it.",
    ),
    "no fence agent": (
        {"ha_san_fence_agent": ""},
        "ha_san_fence_agent is empty: fencing is required with Pacemaker, so set ha_san_fence_agent to the fence "
        "agent that powers off a server",
    ),
    "timings out of order": (
        {"pacemaker_corosync_token": 1000, "pacemaker_corosync_consensus": 1000},
        "pacemaker_corosync_token 1000 and pacemaker_corosync_consensus 1000 are out of order: both are "
        "milliseconds, token above 0 and consensus at least 1.2 x token (1200 here).",
    ),
    "no ping node": (
        {"pacemaker_ping_nodes": []},
        "pacemaker_ping_nodes is []: list one or more IP addresses on the SAN that are always up (by default the "
        "first client's ha_san_san_address, so put a host in the clients group or set this list). When the "
        "servers lose each other, the one that reaches none of them may not fence its peer.",
    ),
    "a ping node that is no address": (
        {"pacemaker_ping_nodes": ["10.0.0.21", "pinghost"]},
        "pacemaker_ping_nodes is ['10.0.0.21', 'pinghost']: list one or more IP addresses on the SAN",
    ),
    "blind wait longer than half the fencing timeout": (
        {"pacemaker_fence_isolated_delay": 30},
        "pacemaker_fence_isolated_delay (30 s) must be 1 or more and less than half of pacemaker_stonith_timeout "
        "(60 s): the arbiter's wait is part of the fencing. Lower the delay or raise the timeout.",
    ),
    "no blind wait": (
        {"pacemaker_fence_isolated_delay": 0},
        "pacemaker_fence_isolated_delay (0 s) must be 1 or more and less than half of pacemaker_stonith_timeout",
    ),
    "operation timeout too short": (
        {"pacemaker_op_timeout": 10},
        "pacemaker_op_timeout (10 s) must be 20 or more: a monitor that takes longer on a busy server counts as "
        "failed, and Pacemaker then restarts or moves the service (an outage). E.g. 60.",
    ),
    "negative failure timeout": (
        {"pacemaker_failure_timeout": -5},
        "pacemaker_failure_timeout (-5) must be 0 or more seconds: how long a failure stays on "
        "record and keeps its resource off that node (0: until crm_resource --cleanup). E.g. 600.",
    ),
    "ping checked less than every second": (
        {"pacemaker_ping_interval": 0},
        "pacemaker_ping_interval (0 s) must be 1 or more and pacemaker_ping_dampen (1 s) 0 or more: they are how "
        "often the servers ping pacemaker_ping_nodes and how long a change must last before the service follows the "
        "SAN. E.g. 2 and 1.",
    ),
    "negative ping dampen": (
        {"pacemaker_ping_dampen": -1},
        "pacemaker_ping_interval (2 s) must be 1 or more and pacemaker_ping_dampen (-1 s) 0 or more: they are how "
        "often the servers ping pacemaker_ping_nodes and how long a change must last before the service follows the "
        "SAN. E.g. 2 and 1.",
    ),
    "priority delay longer than half the fencing timeout": (
        {"pacemaker_priority_fencing_delay": 30},
        "pacemaker_priority_fencing_delay (30 s) must be 0 or more and less than half of pacemaker_stonith_timeout "
        "(60 s): a delayed fencing still has to finish within the timeout. Lower the delay or raise the timeout.",
    ),
    "fence-peer handler gives up before the fencing may end": (
        {"pacemaker_fence_peer_timeout": 60},
        "pacemaker_fence_peer_timeout (60 s) must be longer than pacemaker_stonith_timeout + "
        "pacemaker_priority_fencing_delay (60 s): a Primary that lost its peer resumes its writes when the handler "
        "gives up, and it must not do so while the peer may still be fencing it and take over.",
    ),
    "action limit below 0": (
        {"pacemaker_node_action_limit": -1},
        "pacemaker_node_action_limit (-1) must be 0 (Pacemaker's own, 2 x the cores) or more, and "
        "pacemaker_load_threshold (400) a percentage above 0.",
    ),
    "agent not class:provider:type": (
        {"pacemaker_drbd_agent": "linbit:drbd"},
        "pacemaker_drbd_agent is 'linbit:drbd': write an OCF agent as ocf:PROVIDER:TYPE (default ocf:linbit:drbd).",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_with_its_message_and_changes_nothing(tmp_path, case):
    overrides, message = CASES[case]
    rc, out = run(tmp_path, overrides)
    assert_refused(rc, out, message, *HOSTS)


def test_the_ping_node_defaults_to_the_first_client(tmp_path):
    rc, out = run(tmp_path, {"pacemaker_fence_isolated_delay": 0})
    assert rc != 0, out
    # The refusal above comes after the ping-node check, which passed on the default.
    assert "pacemaker_ping_nodes is" not in out, out


def test_good_input_passes_validation(tmp_path):
    rc, out = run(tmp_path, {}, tasks_from="validate")
    assert rc == 0, out
    assert changed_zero(out, *HOSTS), out
