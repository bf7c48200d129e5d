"""roles/ha_san/tasks/fence_agent.yml, which both engines include: a fence agent that is there is left alone, and
one that is still missing stops the run with its message.

Runs ansible-playbook against this machine (connection local). The agent's path is pointed into the test's
folder, and no case gives packages to install: nothing on this machine changes.
"""

# ruff: noqa: E501  (the expected message is kept whole, word for word)
from __future__ import annotations

import sys
from pathlib import Path

from validation_playbook import changed_zero, run_playbook

PLAY = """\
- name: The shared model's fence agent install
  hosts: san1
  gather_facts: false
  tasks:
    - name: Install the fence agent
      ansible.builtin.include_role:
        name: ha_san.aoe.ha_san
        tasks_from: fence_agent.yml
"""


def run(tmp_path: Path, agent_path: Path, packages: list[str]) -> tuple[int, str]:
    inventory = {
        "all": {
            "vars": {"ha_san_fence_agent": "fence_ha_san_test", "ha_san_fence_agent_packages": packages},
            "hosts": {"san1": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
        }
    }
    rc, out = run_playbook(tmp_path, inventory, PLAY, f"__ha_san_fence_agent_path={agent_path}")
    return rc, " ".join(out.split())  # messages are folded: compare on single spaces


# The hosts whose play recap must say changed=0 after a refusal.
HOSTS = ("san1",)


def test_an_agent_that_is_there_is_left_alone(tmp_path):
    agent = tmp_path / "fence_ha_san_test"
    agent.write_text("#!/bin/sh\nexit 0\n")
    agent.chmod(0o755)
    # With a package that does not exist: were it installed, apt would fail the run.
    rc, out = run(tmp_path, agent, ["ha-san-no-such-package"])
    assert rc == 0, out
    assert "Install the fence agent's packages when the agent is missing" in out, out
    assert changed_zero(out, *HOSTS), out


def test_a_missing_agent_without_packages_stops_the_run_with_its_message(tmp_path):
    missing = tmp_path / "fence_ha_san_test"
    rc, out = run(tmp_path, missing, [])
    assert rc != 0, out
    assert (
        f"ha_san_fence_agent fence_ha_san_test is not installed on san1 ({missing} is missing): add the package that "
        "ships it to ha_san_fence_agent_packages (fence-agents has fence_ipmilan and most others), or choose an "
        "agent that is there." in out
    ), out
    assert changed_zero(out, *HOSTS), out
