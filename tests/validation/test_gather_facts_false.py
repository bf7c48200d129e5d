"""Every role's argument validation runs in a play with `gather_facts: false` without touching a fact.

Ansible renders a role's argument spec, and every variable the spec names, before the role's first task. A
default built from a fact (`ansible_facts.kernel`) then fails the play with "has no attribute" before any of
the role's own checks can say what is wrong. Each case runs only that validation (the role's tasks are
skipped by a tag nothing carries; Ansible tags the validation `always`) on a minimal valid inventory of
local hosts, then once more with a value of the wrong type, to show that the validation did run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from validation_playbook import SHARED_MODEL, run_playbook

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parents[1].name for p in REPO.glob("roles/*/meta/argument_specs.yml"))
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}

# What the README lists as the shared model and the required secrets: enough for every role to validate.
SHARED = {
    **SHARED_MODEL,
    "heartbeat_authkey": "validation-test-key",
    "drbd_shared_secret": "validation-test-secret",
    "heartbeat_stonith_type": "external/ipmi",
}

INVENTORY = {
    "all": {
        "vars": SHARED,
        "children": {
            "san_servers": {
                "children": {
                    "primary": {
                        "hosts": {
                            "san1": {
                                **LOCAL,
                                "ha_san_san_address": "10.0.0.11",
                                "ha_san_replication_address": "10.0.8.11",
                            }
                        }
                    },
                    "secondary": {
                        "hosts": {
                            "san2": {
                                **LOCAL,
                                "ha_san_san_address": "10.0.0.12",
                                "ha_san_replication_address": "10.0.8.12",
                            }
                        }
                    },
                }
            },
            "clients": {"hosts": {"app1": {**LOCAL, "ha_san_san_address": "10.0.0.21"}}},
        },
    }
}

PLAY = """\
- name: Validate the role's arguments only
  hosts: "{{ target }}"
  gather_facts: false
  roles:
    - role: ha_san.aoe.{role}
"""


def validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, role: str, extra: dict) -> tuple[int, str]:
    monkeypatch.setenv("ANSIBLE_RUN_TAGS", "ha_san_no_task_has_this_tag")
    inventory = yaml.safe_load(yaml.safe_dump(INVENTORY))
    inventory["all"]["vars"].update(extra)
    target = "app1" if role == "aoe_client" else "san1"
    return run_playbook(tmp_path, inventory, PLAY.replace("{role}", role), f"target={target}")


def typed_option(role: str) -> tuple[str, str]:
    """An option of the role's main spec that a word cannot satisfy: (name, type)."""
    spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    for name, option in spec["argument_specs"]["main"]["options"].items():
        if option.get("type") in ("int", "bool"):
            return name, option["type"]
    raise AssertionError(f"roles/{role}: no int or bool option to give a wrong value")


def test_every_role_is_covered() -> None:
    assert {"aoe_client", "drbd", "heartbeat", "vblade_target"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_validation_passes_without_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, role: str) -> None:
    rc, out = validate(tmp_path, monkeypatch, role, {})
    assert "Validating arguments against arg spec 'main'" in out, out
    assert "has no attribute" not in out and "is undefined" not in out, out
    assert rc == 0, out
    # One validation per role: this one's, and the shared model's when the role depends on it.
    meta = yaml.safe_load((REPO / "roles" / role / "meta" / "main.yml").read_text(encoding="utf-8"))
    specs = 1 + sum(1 for dep in meta.get("dependencies") or [] if dep.get("role") == "ha_san.aoe.ha_san")
    assert re.search(rf"\s:\s*ok={specs}\s+changed=0\s+unreachable=0\s+failed=0", out), out


@pytest.mark.parametrize("role", ROLES)
def test_validation_still_rejects_a_wrong_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    name, kind = typed_option(role)
    rc, out = validate(tmp_path, monkeypatch, role, {name: "not-a-" + kind})
    assert rc != 0, out
    assert "Validating arguments against arg spec 'main'" in out, out
    assert name in out and "has no attribute" not in out, out
