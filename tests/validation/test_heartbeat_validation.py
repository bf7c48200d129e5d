"""The heartbeat role's tasks/validate.yml: each bad input stops the play with its own message.

Runs ansible-playbook against this machine (connection local) with a throw-away inventory. The
checks come before any change, so every failing case must also report changed=0; the last case
runs only validate.yml on good input and must pass.
"""

# ruff: noqa: E501  (the expected messages are kept whole, word for word)
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from validation_playbook import SHARED_MODEL, assert_refused, changed_zero, run_playbook

REPO = Path(__file__).resolve().parents[2]
NODENAME = os.uname().nodename
BIN = Path(sys.executable).parent

GOOD = {
    **SHARED_MODEL,
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


def run(
    tmp_path: Path,
    overrides: dict,
    host_overrides: dict | None = None,
    tasks_from: str = "main",
    extra_vars: str = "",
):
    inventory = {
        "all": {
            "vars": {k: v for k, v in {**GOOD, **overrides}.items() if v is not None},
            "children": {
                "primary": {
                    "hosts": {
                        "hbv1": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                            "ha_san_node_name": NODENAME,
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
                            "ha_san_node_name": "hbv2-peer",
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
    rc, out = run_playbook(tmp_path, inventory, PLAY, f"tasks_from={tasks_from} {extra_vars}")
    return rc, " ".join(out.split())  # messages are folded: compare on single spaces


# The hosts whose play recap must say changed=0 after a refusal.
HOSTS = ("hbv1",)


CASES = {
    "secret missing": (
        {"heartbeat_authkey": None},
        None,
        "heartbeat_authkey is missing or shorter than 16 characters: Heartbeat signs every packet with this shared "
        "secret. Put a random key in the vault (ansible-vault encrypt_string --name heartbeat_authkey).",
    ),
    "node name is not uname -n": (
        {},
        {"ha_san_node_name": "not-this-host"},
        f"hbv1: ha_san_node_name is 'not-this-host' (default: the inventory name up to the first dot) but uname "
        f"-n says '{NODENAME}': DRBD and the cluster engine only accept a node's own name. Set ha_san_node_name "
        f"to '{NODENAME}' in this host's host_vars, or change the host's name.",
    ),
    "vip outside the san": (
        {"ha_san_service_ip": "10.9.0.100"},
        None,
        "ha_san_service_ip must be one IPv4 address in ha_san_san_network 10.0.0.0/22 (found 10.9.0.100): choose a "
        "free address in 10.0.0.1-10.0.3.254.",
    ),
    "vip is the network address": (
        {"ha_san_service_ip": "10.0.0.0"},
        None,
        "ha_san_service_ip 10.0.0.0 is the network address of the SAN network 10.0.0.0/22 (ha_san_san_network): "
        "choose a free address in 10.0.0.1-10.0.3.254.",
    ),
    "vip is the broadcast address": (
        {"ha_san_service_ip": "10.0.3.255"},
        None,
        "ha_san_service_ip 10.0.3.255 is the broadcast address of the SAN network 10.0.0.0/22 (ha_san_san_network): "
        "choose a free address in 10.0.0.1-10.0.3.254.",
    ),
    "stonith type missing": (
        {"heartbeat_stonith_type": ""},
        None,
        "heartbeat_stonith_type is not set: set ha_san_fence_agent to the fence agent of your power switch (e.g. "
        "fence_ipmilan, with ha_san_fence_params and ha_san_fence_host_params), or heartbeat_stonith_type to file (a "
        "request directory, for tests) or to an installed cluster-glue type such as external/ipmi with its "
        "parameters in heartbeat_stonith_host_params. Running without fencing needs ha_san_fencing: false, which "
        "is unsafe.",
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
    assert_refused(rc, out, message, *HOSTS)


def test_empty_secret_is_refused_too(tmp_path):
    rc, out = run(tmp_path, {"heartbeat_authkey": ""})
    assert rc != 0, out
    assert "heartbeat_authkey is missing or shorter than 16 characters:" in out, out
    assert changed_zero(out, *HOSTS), out


def test_vip_inside_a_wide_network_at_dot_255_is_accepted(tmp_path):
    # 10.0.0.255 is a host address in 10.0.0.0/22 (the seed's network).
    rc, out = run(tmp_path, {"ha_san_service_ip": "10.0.0.255"}, tasks_from="validate")
    assert rc == 0, out


def test_stonith_off_warns_why_it_is_unsafe(tmp_path):
    # With resources and no explicit drbd_after_sb_1pri, the drbd role then picks consensus: accepted.
    rc, out = run(tmp_path, {"ha_san_fencing": False}, tasks_from="validate")
    assert rc == 0, out
    assert "WARNING: ha_san_fencing is false. Without fencing a two-node cluster is not safe" in out
    assert out.count("WARNING: ha_san_fencing is false.") == 1, out


def test_agent_type_needs_the_models_fence_agent(tmp_path):
    rc, out = run(tmp_path, {"heartbeat_stonith_type": "agent"})
    assert rc != 0, out
    assert (
        "heartbeat_stonith_type is agent but ha_san_fence_agent is empty: set it to the fence agent of your power "
        "switch, e.g. fence_ipmilan, with its parameters in ha_san_fence_params and ha_san_fence_host_params."
        in out
    ), out
    assert changed_zero(out, *HOSTS), out


def test_a_fence_agent_makes_agent_the_default_type(tmp_path):
    rc, out = run(
        tmp_path,
        {"heartbeat_stonith_type": None, "ha_san_fence_agent": "fence_ipmilan"},
        tasks_from="validate",
    )
    assert rc == 0, out


def test_good_input_passes_validation(tmp_path):
    rc, out = run(tmp_path, {}, tasks_from="validate")
    assert rc == 0, out
    assert changed_zero(out, *HOSTS), out


def test_short_secret_is_refused_too(tmp_path):
    rc, out = run(tmp_path, {"heartbeat_authkey": "fifteen-chars.."})
    assert rc != 0, out
    assert "heartbeat_authkey is missing or shorter than 16 characters:" in out, out
    assert changed_zero(out, *HOSTS), out


def test_a_stonith_type_cluster_glue_does_not_ship_is_refused(tmp_path):
    # As on a server where cluster-glue is not installed yet: the list the role knows.
    rc, out = run(
        tmp_path,
        {"heartbeat_stonith_type": "external/nosuch"},
        extra_vars=f"__heartbeat_stonith_tool={tmp_path}/none",
    )
    assert rc != 0, out
    assert (
        "heartbeat_stonith_type external/nosuch is not a STONITH type on hbv1 (cluster-glue is not installed yet: "
        "checked against the types it ships): choose one of agent, file, apcmaster, apcsmart, baytech," in out
    ), out
    assert "external/ipmi, external/ippower9258," in out, out
    assert "or install the package that provides it." in out, out
    assert changed_zero(out, *HOSTS), out


def test_a_stonith_type_is_checked_against_stonith_list_when_cluster_glue_is_there(tmp_path):
    tool = tmp_path / "stonith"
    tool.write_text("#!/bin/sh\n[ \"$1\" = -L ] && printf '%s\\n' external/ipmi external/site-pdu\n")
    tool.chmod(0o755)
    rc, out = run(
        tmp_path,
        {"heartbeat_stonith_type": "external/libvirt"},
        extra_vars=f"__heartbeat_stonith_tool={tool}",
    )
    assert rc != 0, out
    assert (
        "heartbeat_stonith_type external/libvirt is not a STONITH type on hbv1 (stonith -L lists the installed ones): "
        "choose one of agent, file, external/ipmi, external/site-pdu, or install the package that provides it."
        in out
    ), out
    assert changed_zero(out, *HOSTS), out
    rc, out = run(
        tmp_path,
        {"heartbeat_stonith_type": "external/site-pdu"},
        tasks_from="validate",
        extra_vars=f"__heartbeat_stonith_tool={tool}",
    )
    assert rc == 0, out


def test_the_pre_flight_flag_checks_the_argument_spec(tmp_path):
    # Included alone (tasks_from: validate), the role's spec is checked only when the pre-flight asks.
    bad = {"heartbeat_udpport": "six-nine-four"}
    rc, out = run(tmp_path, bad, tasks_from="validate")
    assert rc == 0, out
    rc, out = run(tmp_path, bad, tasks_from="validate", extra_vars="__ha_san_validate_argument_spec=true")
    assert rc != 0, out
    assert "argument 'heartbeat_udpport' is of type str and we were unable to convert to int" in out, out


def _version_check(tmp_path: Path, version: str | None) -> tuple[int, str]:
    """tasks/takeover_scripts_version.yml with a dpkg-query that reports heartbeat at version (None: not installed)."""
    tool = tmp_path / "dpkg-query"
    answer = (
        f"printf '%s' '{version}'"
        if version is not None
        else "echo 'dpkg-query: no packages found' >&2; exit 1"
    )
    tool.write_text(f"#!/bin/sh\n{answer}\n")
    tool.chmod(0o755)
    return run(
        tmp_path, {}, tasks_from="takeover_scripts_version", extra_vars=f"__heartbeat_dpkg_query={tool}"
    )


@pytest.mark.parametrize("version", ["1:3.0.6-13+b2", "1:3.0.6-13", "1:3.0.6-17", "1:3.0.6-17+b1", None])
def test_the_lean_takeover_scripts_are_kept_for_the_versions_they_were_written_for(tmp_path, version):
    # Debian 12's and 13's packages (a binNMU is the same source), and no package yet (check mode on a new server).
    rc, out = _version_check(tmp_path, version)
    assert rc == 0, out
    assert "Warn that the package's takeover scripts stay on an unknown Heartbeat version" in out, out
    assert "WARNING: heartbeat" not in out, out
    assert changed_zero(out, *HOSTS), out


@pytest.mark.parametrize("version", ["1:3.0.6-18", "1:3.0.6-13+deb12u1", "3.0.6-17", "1:3.0.7-1"])
def test_an_unknown_heartbeat_version_falls_back_on_the_package_scripts_with_a_warning(tmp_path, version):
    rc, out = _version_check(tmp_path, version)
    assert rc == 0, out
    assert (
        f"WARNING: heartbeat {version} is installed, but the role's lean req_resource and ResourceManager were "
        "written for the package's scripts of heartbeat 1:3.0.6-13 and 1:3.0.6-17 only: the package's own "
        "/usr/share/heartbeat/req_resource and ResourceManager run instead (a takeover by the group's home node and "
        "every planned move take seconds longer). A release of ha_san.aoe that knows this version brings the lean "
        "scripts back." in out
    ), out
    assert changed_zero(out, *HOSTS), out
