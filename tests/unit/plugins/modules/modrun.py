"""Run a module's main() in-process with run_command served from captured fixtures."""

from __future__ import annotations

import json
import os
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from fixture_data import load


class FakeHost:
    """A host whose commands answer from fixture files; state-changing commands move it on.

    ``moves`` maps a command line (program by basename, e.g. ``"drbdadm up r0"``) to the fixture
    state the host is in afterwards, or to ``(rc, stdout, stderr)`` for a command that fails,
    or to ``(next_state, (rc, stdout, stderr))``. ``polls`` lists states the host moves through,
    one per ``status`` read, after the first change (a sync that progresses).
    """

    def __init__(self, kind: str, state: str, moves: dict | None = None, polls: list | None = None) -> None:
        self.kind = kind
        self.state = state
        self.moves = moves or {}
        self.polls = list(polls or [])
        self.calls: list[str] = []
        self.missing_tools: set = set()

    @property
    def capture(self):
        return load(self.kind, self.state)

    def run_command(self, argv, **kwargs):
        assert isinstance(argv, list), "commands must be argv lists, never shell strings"
        cmd = [os.path.basename(argv[0]), *argv[1:]]
        line = " ".join(cmd)
        self.calls.append(line)
        if line in self.moves:
            move = self.moves[line]
            if isinstance(move, str):
                self.state = move
                return 0, "", ""
            if isinstance(move[0], str):
                self.state = move[0]
                return move[1]
            return move
        if cmd[1:2] == ["status"] and self.polls and self.changed():
            self.state = self.polls.pop(0)
        return self.capture.run(cmd)

    def changed(self) -> bool:
        return any(c in self.moves for c in self.calls)

    def read_proc(self, path: str = "/proc/drbd"):
        return self.capture.read("/proc/drbd")

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return None if name in self.missing_tools else f"/usr/sbin/{name}"

    def changing_calls(self) -> list:
        return [c for c in self.calls if c in self.moves]


def run(module, args: dict, host: FakeHost, capsys, check_mode: bool = False, extra_patches=()) -> dict:
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    patches = [
        patch_module_args(args),
        mock.patch.object(
            basic.AnsibleModule, "run_command", lambda self, argv, **kw: host.run_command(argv, **kw)
        ),
        mock.patch.object(
            basic.AnsibleModule,
            "get_bin_path",
            lambda self, name, required=False, opt_dirs=None: host.get_bin_path(name, required, opt_dirs),
        ),
        mock.patch.object(module.time, "sleep", lambda s: None),
        *extra_patches,
    ]
    for p in patches:
        p.__enter__()
    try:
        with pytest.raises(SystemExit) as exc:
            module.main()
    finally:
        for p in reversed(patches):
            p.__exit__(None, None, None)
    out = json.loads(capsys.readouterr().out)
    out["_rc"] = exc.value.code
    return out
