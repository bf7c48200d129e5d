"""SSH host keys stay checked for every inventory but the lab's, which carries its own SSH options.

The shipped ansible.cfg applies to everyone who runs from a checkout, production included, so it must not
turn host-key checking off; the lab's VMs get new host keys on every boot, so its generated inventory says
so itself. The last two tests read the ssh command Ansible builds (-vvv) against a closed loopback port:
nothing connects anywhere.
"""

from __future__ import annotations

import configparser
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lab import inventory, ssh  # noqa: E402  (the lab lives at the repository root)

BIN = Path(sys.executable).parent
LAB_OPTIONS = ("StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null")


def env() -> dict[str, str]:
    """The repository's config and nothing from the caller that could change host-key checking."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    return {**keep, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ssh_command(inventory_path: Path, host: str, *extra: str) -> str:
    """The ssh command line Ansible runs for HOST, from its -vvv output."""
    res = subprocess.run(
        [str(BIN / "ansible"), "-i", str(inventory_path), host, "-m", "ansible.builtin.ping", "-vvv", *extra],
        capture_output=True,
        text=True,
        env=env(),
        cwd=REPO,
        timeout=60,
        check=False,
    )
    m = re.search(r"SSH: EXEC (ssh .*)", res.stdout + res.stderr)
    assert m, res.stdout + res.stderr
    return m.group(1)


def test_ansible_cfg_does_not_turn_host_key_checking_off() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "ansible.cfg", encoding="utf-8")
    for section in cfg.sections():
        assert cfg.getboolean(section, "host_key_checking", fallback=True), section
    ssh_args = cfg.get("ssh_connection", "ssh_args", fallback="") + cfg.get(
        "ssh_connection", "ssh_common_args", fallback=""
    )
    assert not any(opt in ssh_args for opt in LAB_OPTIONS), ssh_args


def test_effective_config_checks_host_keys() -> None:
    res = subprocess.run(
        [str(BIN / "ansible-config"), "dump"], capture_output=True, text=True, env=env(), check=True
    )
    assert re.search(r"^HOST_KEY_CHECKING\(default\) = True$", res.stdout, re.M), res.stdout


def test_lab_inventory_carries_its_own_ssh_options() -> None:
    tree = inventory.build(Path("/var/tmp/key"), {"primary": 2221, "secondary": 2222, "client": 2223})
    common = tree["all"]["vars"]["ansible_ssh_common_args"]
    assert common == ssh.COMMON_OPTIONS
    for opt in LAB_OPTIONS:
        assert f"-o {opt}" in common


def test_lab_hosts_get_the_options_and_others_do_not(tmp_path: Path) -> None:
    port = closed_port()
    lab_hosts = tmp_path / "hosts.yml"
    inventory.write(lab_hosts, tmp_path / "no-key", {"primary": port, "secondary": port, "client": port})
    lab = ssh_command(lab_hosts, "client")
    assert all(f"-o {opt}" in lab for opt in LAB_OPTIONS), lab

    example = ssh_command(
        REPO / "inventories" / "example",
        "san1.example.com",
        "-e",
        "ansible_host=127.0.0.1",
        "-e",
        f"ansible_port={port}",
    )
    assert f"-o Port={port}" in example, example
    assert "StrictHostKeyChecking" not in example and "UserKnownHostsFile" not in example, example


def test_example_inventory_does_not_skip_host_keys() -> None:
    for f in (REPO / "inventories" / "example").rglob("*.yml"):
        text = f.read_text(encoding="utf-8")
        assert not any(opt in text for opt in LAB_OPTIONS), f
        assert not re.search(r"host_key_checking\s*[:=]\s*(false|no|0)", text, re.I), f
