"""roles/heartbeat/files/ha_clustermsg.sh: concurrent cluster messages reach Heartbeat's FIFO whole."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

BLOCK = Path(__file__).resolve().parents[3] / "roles" / "heartbeat" / "files" / "ha_clustermsg.sh"

# The shape of the function in the heartbeat package's /etc/ha.d/shellfuncs: three writes per message.
PACKAGE_SHELLFUNCS = 'ha_clustermsg() {\n\t(echo ">>>"; cat -; echo "<<<")\t| cat - >> $HA_FIFO\n}\n'

SENDERS = 40


def message(i: int) -> str:
    return f"t=ip-request-resp\ndest=node{i}\nipaddr=group{i}\nok=OK\n"


def send_at_once(shellfuncs: Path, tmp_path: Path) -> str:
    """Start SENDERS shells that each source shellfuncs and send one message; return what the FIFO got."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read_all() -> None:
        with fifo.open("rb") as f:
            while chunk := f.read(65536):
                received.append(chunk)

    reader = threading.Thread(target=read_all)
    reader.start()
    # Heartbeat keeps its FIFO open; so does this writer, or the reader would see EOF between senders.
    keep_open = os.open(fifo, os.O_WRONLY)
    try:
        senders = [
            subprocess.Popen(
                ["sh", "-c", f'. "{shellfuncs}"; ha_clustermsg <<EOF\n{message(i)}EOF\n'],
                env={"PATH": os.environ["PATH"], "HA_FIFO": str(fifo)},
            )
            for i in range(SENDERS)
        ]
        for sender in senders:
            assert sender.wait(timeout=60) == 0
    finally:
        os.close(keep_open)
        reader.join(timeout=60)
    return b"".join(received).decode()


def whole_messages(stream: str) -> int:
    return sum(f">>>\n{message(i)}<<<\n" in stream for i in range(SENDERS))


@pytest.fixture
def shellfuncs(tmp_path: Path) -> Path:
    """The package's shellfuncs with the role's block appended, as blockinfile leaves it."""
    path = tmp_path / "shellfuncs"
    path.write_text(
        PACKAGE_SHELLFUNCS
        + "# BEGIN ha_san.aoe.heartbeat: ha_clustermsg in one write\n"
        + BLOCK.read_text()
        + "# END ha_san.aoe.heartbeat: ha_clustermsg in one write\n"
    )
    return path


def test_every_concurrent_message_arrives_whole(shellfuncs: Path, tmp_path: Path) -> None:
    stream = send_at_once(shellfuncs, tmp_path)
    assert whole_messages(stream) == SENDERS
    assert stream.count(">>>\n") == SENDERS and stream.count("<<<\n") == SENDERS


def test_the_package_function_breaks_messages_under_the_same_load(tmp_path: Path) -> None:
    """The check above can fail: the package's function, sent the same way, loses messages."""
    stock = tmp_path / "stock-shellfuncs"
    stock.write_text(PACKAGE_SHELLFUNCS)
    for attempt in range(3):
        run_dir = tmp_path / f"run{attempt}"
        run_dir.mkdir()
        if whole_messages(send_at_once(stock, run_dir)) < SENDERS:
            return
    pytest.fail(f"{SENDERS} concurrent senders never broke a message of the package's ha_clustermsg")


def test_a_message_keeps_its_lines_and_adds_only_the_markers(shellfuncs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    heredoc = "ha_clustermsg <<-!MSG\n\tt=resource\n\trsc_hold=foreign\n\t!MSG\n"
    subprocess.run(
        ["sh", "-c", f'. "{shellfuncs}"; {heredoc}'],
        env={"PATH": os.environ["PATH"], "HA_FIFO": str(out)},
        check=True,
        timeout=30,
    )
    assert out.read_text() == ">>>\nt=resource\nrsc_hold=foreign\n<<<\n"
