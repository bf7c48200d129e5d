"""What the validation tests share: one ansible-playbook run against this machine, in a throw-away folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

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
