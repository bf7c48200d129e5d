"""The program QEMU's guestfwd runs for each connection to the lab's power switch.

QEMU runs it with the TCP stream as stdin/stdout, from "/" and with QEMU's environment, so it
is a tiny script with absolute paths, written into the state dir by `up`.
"""

from __future__ import annotations

import sys

from lab import config
from lab.paths import StatePaths


def text(paths: StatePaths, python: str = sys.executable) -> str:
    return (
        f"#!{python}\n"
        "# Written by `python3 -m lab up`: the lab's power switch (see lab/fence_service.py).\n"
        "import sys\n"
        f"sys.path.insert(0, {str(config.REPO_ROOT)!r})\n"
        "from lab.fence_service import main\n"
        f"sys.exit(main(['--state-dir', {str(paths.root)!r}]))\n"
    )


def write(paths: StatePaths) -> None:
    prog = paths.fence_program
    prog.write_text(text(paths), encoding="utf-8")
    prog.chmod(0o755)
