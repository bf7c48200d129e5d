"""ha_san_wait_resumed.py: the drill waits on the client for acks after the fault, not on the survivor."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest


def ack(seq: int, wall: float) -> str:
    return f"A {seq} {seq * 4096} {wall:.6f} {wall:.6f} 1.5\n"


def test_an_ack_after_the_fault_ends_the_wait(
    waiter: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "ack.log"
    log.write_text('H {"nonce": "00"}\n' + ack(0, 100.0) + ack(1, 101.0) + ack(2, 115.5))
    assert waiter.main([str(log), "--after", "110", "--timeout", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["resumed"] is True and out["seq"] == 2 and out["wall"] == 115.5


def test_only_acks_before_the_fault_time_out(
    waiter: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "ack.log"
    log.write_text(ack(0, 100.0) + ack(1, 101.0) + "E 2 8192 102.0 102.0 5.0 EIO failed\n")
    t0 = time.monotonic()
    assert waiter.main([str(log), "--after", "110", "--timeout", "0.5", "--interval", "0.05"]) == 1
    assert time.monotonic() - t0 >= 0.5
    assert json.loads(capsys.readouterr().out)["resumed"] is False


def test_a_torn_last_line_is_not_taken_for_an_ack(waiter: ModuleType, tmp_path: Path) -> None:
    log = tmp_path / "ack.log"
    log.write_text(ack(0, 100.0) + "A 1 4096 120.0")  # no newline: the writer is mid-line
    assert waiter.main([str(log), "--after", "110", "--timeout", "0.3", "--interval", "0.05"]) == 1


def test_acks_appended_while_waiting_are_seen(
    waiter: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "ack.log"
    log.write_text(ack(0, 100.0))

    def resume() -> None:
        time.sleep(0.3)
        with log.open("a") as f:
            f.write(ack(1, 100.5))
            f.write(ack(2, 130.0))

    t = threading.Thread(target=resume)
    t.start()
    rc = waiter.main([str(log), "--after", "110", "--timeout", "5", "--interval", "0.05"])
    t.join()
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["seq"] == 2


def test_a_missing_log_is_waited_for(waiter: ModuleType, tmp_path: Path) -> None:
    assert (
        waiter.main([str(tmp_path / "none.log"), "--after", "1", "--timeout", "0.2", "--interval", "0.05"])
        == 1
    )
