"""What the validation tests share: one ansible-playbook run against this machine, in a throw-away folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# The shared model of the example inventory (inventories/example): what every role's validation reads.
RESOURCE = {
    "name": "r0",
    "device": "/dev/drbd0",
    "minor": 0,
    "disk": "/dev/sdb",
    "port": 7789,
    "shelf": 0,
    "slot": 3,
}
SHARED_MODEL = {
    "ha_san_san_interface": "eth1",
    "ha_san_replication_interface": "eth2",
    "ha_san_san_network": "10.0.0.0/22",
    "ha_san_replication_network": "10.0.8.0/24",
    "ha_san_service_ip": "10.0.0.100",
    "ha_san_resources": [RESOURCE],
}

# A module the plays may call to give a host facts it cannot have here, e.g. its own node name when every
# test host is this machine: `ha_san_test_facts: {facts: {nodename: drbdv2}}`.
FACTS_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec={"facts": {"type": "dict", "required": True}})
module.exit_json(changed=False, ansible_facts=module.params["facts"])
"""


def run_playbook(folder: Path, inventory: dict, play: str, extra_vars: str) -> tuple[int, str]:
    """Write inventory and play into folder, run them with the repository's config: (rc, stdout + stderr)."""
    (folder / "hosts.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    (folder / "play.yml").write_text(play, encoding="utf-8")
    (folder / "library").mkdir(exist_ok=True)
    (folder / "library" / "ha_san_test_facts.py").write_text(FACTS_MODULE, encoding="utf-8")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LIBRARY": str(folder / "library"),
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    argv = [str(BIN / "ansible-playbook"), "-i", str(folder / "hosts.yml"), str(folder / "play.yml")]
    res = subprocess.run(
        [*argv, "-e", extra_vars], capture_output=True, text=True, env=env, cwd=REPO, check=False
    )
    return res.returncode, res.stdout + res.stderr


def changed_zero(out: str, *hosts: str) -> bool:
    """True when the play recap has one line for each of hosts, and every one says changed=0."""
    counts = [re.findall(rf"(?<![\w.-]){re.escape(h)}\s*:\s*ok=\d+\s+changed=(\d+)", out) for h in hosts]
    return bool(hosts) and all(c == ["0"] for c in counts)


def assert_refused(rc: int, out: str, message: str, *hosts: str) -> None:
    """The play failed, printed message word for word, and changed nothing on hosts."""
    assert rc != 0, out
    assert message in out, out
    assert changed_zero(out, *hosts), out
