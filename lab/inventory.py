"""inventories/lab/hosts.yml, written by `up` (the roles depend on this structure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lab import config, ssh

Tree = dict[str, Any]


def build(key: Path, ports: dict[str, int], engine: str = config.DEFAULT_ENGINE) -> Tree:
    """The inventory of the lab booted with ENGINE's image: the roles read ha_san_cluster_engine."""

    def host(name: str) -> Tree:
        n = config.node(name)
        h: Tree = {
            "ansible_host": "127.0.0.1",
            "ansible_port": ports[name],
            "ha_san_san_address": n.san_address,
        }
        if n.replication_address:
            h["ha_san_replication_address"] = n.replication_address
        return h

    return {
        "all": {
            "vars": {
                "ansible_user": "root",
                "ansible_ssh_private_key_file": str(key),
                "ansible_ssh_common_args": ssh.COMMON_OPTIONS,
                "ansible_python_interpreter": "/usr/bin/python3",
                # The engine the image carries (the other one's packages are not in it); the
                # group_vars stay engine-neutral, so one lab inventory serves either image.
                "ha_san_cluster_engine": engine,
            },
            "children": {
                "san_servers": {
                    "children": {
                        "primary": {"hosts": {"primary": host("primary")}},
                        "secondary": {"hosts": {"secondary": host("secondary")}},
                    }
                },
                "clients": {"hosts": {"client": host("client")}},
            },
        }
    }


def _scalar(value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise TypeError(f"unsupported value {value!r}")
    if isinstance(value, int):
        return str(value)
    # A JSON string is a valid YAML double-quoted scalar: no escaping rules of our own.
    return json.dumps(str(value))


def to_yaml(tree: Tree, indent: int = 0) -> str:
    """Block-style YAML for nested dicts of str/int (all this file ever holds)."""
    lines = []
    for k, v in tree.items():
        pad = "  " * indent
        if isinstance(v, dict):
            if v:
                lines.append(f"{pad}{k}:")
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append(f"{pad}{k}: {{}}")
        else:
            lines.append(f"{pad}{k}: {_scalar(v)}")
    return "\n".join(lines)


HEADER = "# Written by `python3 -m lab up` for the running lab; do not edit (it is regenerated).\n"


def write(path: Path, key: Path, ports: dict[str, int], engine: str = config.DEFAULT_ENGINE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(HEADER + "---\n" + to_yaml(build(key, ports, engine)) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: Ansible never reads half a file
