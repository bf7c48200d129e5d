"""Every `ansible-playbook` command README.md shows runs as written in a fresh clone (with --syntax-check).

A user copies these commands first, before `make venv` or anything else has touched the checkout: each one
runs in a `git clone` of this repository, from the clone's root, with the clone's own ansible.cfg and
nothing from the caller's ANSIBLE_* environment. The README's own inventory name (inventories/mysan, made by
the `cp` it shows) becomes the example inventory it is copied from, and --ask-vault-pass a password file,
because a test cannot type. What is committed is what is tested: commit before you run this.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`(ansible-playbook [^`]+)`")

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists() or not (BIN / "ansible-playbook").exists(),
    reason="needs git, a git checkout and the venv's ansible-playbook",
)


def shown_commands(text: str) -> list[str]:
    """The commands in the README's fenced blocks (continuation lines joined, comments dropped), then the
    ansible-playbook commands in its inline code."""
    out = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line:
                out.append(line)
    out += [" ".join(c.split()) for c in INLINE.findall(FENCE.sub("", text))]
    return out


def readme_commands(prefix: str) -> list[str]:
    return [c for c in shown_commands(README.read_text(encoding="utf-8")) if c.startswith(prefix)]


def playbook_commands() -> list[str]:
    return readme_commands("ansible-playbook ")


def as_test(command: str, clone: Path, vault_file: Path) -> list[str]:
    argv = shlex.split(command)
    assert argv[0] == "ansible-playbook"
    argv[0] = str(BIN / "ansible-playbook")
    for i, arg in enumerate(argv):
        if argv[i - 1] == "-i" and not (clone / arg).exists():
            argv[i] = "inventories/example"
    argv = [f"--vault-password-file={vault_file}" if a == "--ask-vault-pass" else a for a in argv]
    return [*argv, "--syntax-check"]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("fresh") / "ha_san"
    subprocess.run(["git", "clone", "-q", str(REPO), str(dest)], check=True, capture_output=True, timeout=120)
    return dest


def test_the_readme_shows_the_commands_users_run() -> None:
    commands = shown_commands(README.read_text(encoding="utf-8"))
    assert "make demo" in commands
    assert "make test" in commands  # .ci/run runs the README's test command
    assert re.search(r"^make test", (REPO / ".ci" / "run").read_text(encoding="utf-8"), re.M)
    playbooks = playbook_commands()
    assert any(" site.yml " in f"{c} " for c in playbooks), playbooks
    assert any("ha_san.aoe.site" in c for c in playbooks), playbooks
    assert any("failover_drill.yml" in c for c in playbooks), playbooks


@pytest.mark.parametrize("command", playbook_commands())
def test_readme_command_runs_in_a_fresh_clone(clone: Path, tmp_path: Path, command: str) -> None:
    vault_file = tmp_path / "vault-pass"
    vault_file.write_text("not-a-real-password\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env["ANSIBLE_NOCOLOR"] = "1"
    argv = as_test(command, clone, vault_file)
    res = subprocess.run(argv, cwd=clone, env=env, capture_output=True, text=True, timeout=120, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == 0, f"{shlex.join(argv)}\n{out}"
    assert re.search(r"^playbook: ", res.stdout, re.M), out
    assert "[ERROR]" not in out, out
