"""The lab's SSH key pair.

Kept in the state dir, made once, and handed to the VMs on the kernel command line at every
boot (ha_san.sshkey=...). So the cached image holds no key at all: it stays shareable between
users and checkouts, and deleting the state dir simply makes a new key that the next boot uses.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from lab.errors import LabError


def ensure_key(key: Path) -> Path:
    if key.is_file() and key.with_suffix(".pub").is_file():
        return key
    key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key.unlink(missing_ok=True)
    key.with_suffix(".pub").unlink(missing_ok=True)
    r = subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ha_san-lab", "-f", str(key)],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if r.returncode != 0:
        raise LabError(f"ssh-keygen failed ({r.stderr.strip()}): check {key.parent} is writable.")
    return key


def pubkey_blob(key: Path) -> str:
    """The base64 part of KEY.pub: no spaces, so it fits in one kernel command-line word."""
    parts = key.with_suffix(".pub").read_text(encoding="ascii").split()
    if len(parts) < 2 or parts[0] != "ssh-ed25519":
        raise LabError(f"{key}.pub is not an ed25519 public key: delete {key.parent} and run `up` again.")
    return parts[1]
