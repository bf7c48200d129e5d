import json
from pathlib import Path

from lab import inventory

PORTS = {"primary": 2221, "secondary": 2222, "client": 2223}
KEY = Path("/var/tmp/ha_san-lab/ssh/id_ed25519")


def test_structure_the_roles_depend_on() -> None:
    tree = inventory.build(KEY, PORTS)["all"]
    v = tree["vars"]
    assert v["ansible_user"] == "root"
    assert v["ansible_ssh_private_key_file"] == str(KEY)
    assert v["ansible_python_interpreter"] == "/usr/bin/python3"
    assert v["ha_san_cluster_engine"] == "heartbeat"
    assert v["ansible_ssh_common_args"] == (
        "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes"
    )
    servers = tree["children"]["san_servers"]["children"]
    assert servers["primary"]["hosts"]["primary"] == {
        "ansible_host": "127.0.0.1",
        "ansible_port": 2221,
        "ha_san_san_address": "192.0.2.11",
        "ha_san_replication_address": "198.51.100.11",
    }
    assert servers["secondary"]["hosts"]["secondary"]["ansible_port"] == 2222
    assert servers["secondary"]["hosts"]["secondary"]["ha_san_replication_address"] == "198.51.100.12"
    client = tree["children"]["clients"]["hosts"]["client"]
    assert client == {"ansible_host": "127.0.0.1", "ansible_port": 2223, "ha_san_san_address": "192.0.2.13"}


def test_ports_follow_argument() -> None:
    tree = inventory.build(KEY, {"primary": 3001, "secondary": 3002, "client": 3003})["all"]
    assert tree["children"]["clients"]["hosts"]["client"]["ansible_port"] == 3003


def test_engine_follows_argument(tmp_path: Path) -> None:
    assert inventory.build(KEY, PORTS, "pacemaker")["all"]["vars"]["ha_san_cluster_engine"] == "pacemaker"
    out = tmp_path / "hosts.yml"
    inventory.write(out, KEY, PORTS, "pacemaker")
    lines = out.read_text().splitlines()
    # in all.vars, where the roles read it (the lab's group_vars do not set it)
    assert lines.index('    ha_san_cluster_engine: "pacemaker"') < lines.index("  children:")
    assert _parse_yaml_subset(out.read_text()) == inventory.build(KEY, PORTS, "pacemaker")


def _parse_yaml_subset(text: str) -> dict:
    """Just enough YAML (block maps, JSON scalars) to read back what to_yaml writes."""
    root: dict = {}
    stack = [(-1, root)]
    for line in text.splitlines():
        if not line.strip() or line.startswith(("#", "---")):
            continue
        indent = len(line) - len(line.lstrip())
        key, _sep, value = line.strip().partition(":")
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        if value.strip():
            parent[key] = json.loads(value.strip())
        else:
            parent[key] = {}
            stack.append((indent, parent[key]))
    return root


def test_yaml_round_trip_and_file(tmp_path: Path) -> None:
    out = tmp_path / "inventories" / "lab" / "hosts.yml"
    inventory.write(out, KEY, PORTS)
    text = out.read_text()
    assert text.startswith("# Written by")
    assert _parse_yaml_subset(text) == inventory.build(KEY, PORTS)
    assert not list(out.parent.glob("*.tmp"))


def test_yaml_quotes_awkward_strings() -> None:
    text = inventory.to_yaml({"a": {"b": 'x: "y" # z', "n": 5, "e": {}}})
    assert text.splitlines() == ["a:", '  b: "x: \\"y\\" # z"', "  n: 5", "  e: {}"]


def test_real_yaml_parser_agrees(tmp_path: Path) -> None:
    import pytest

    yaml = pytest.importorskip("yaml")
    out = tmp_path / "hosts.yml"
    inventory.write(out, KEY, PORTS)
    assert yaml.safe_load(out.read_text()) == inventory.build(KEY, PORTS)
