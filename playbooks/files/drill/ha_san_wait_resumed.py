"""Wait, on the client, until the drill writer acknowledges blocks again after the fault.

The drill used to poll the survivor over SSH every 2 s while it was taking over: each poll started Python
for an Ansible module on the survivor, and on a slow server that stole CPU from the very takeover being
timed. This waits where the writes are seen, on the client, by reading the writer's ack log:

    python3 ha_san_wait_resumed.py ack.log --after WALL [--timeout 180] [--interval 0.2]

Exit 0 and one JSON line ({"resumed": true, "seq": ..., "wall": ..., "waited_s": ...}) once an `A` line
has a wall time later than WALL; exit 1 with {"resumed": false, ...} at the timeout. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def first_ack_after(path: str, offset: int, after: float) -> tuple[int, tuple[int, float] | None]:
    """Scan PATH from OFFSET: the offset of the first unread partial line, and the first ack after AFTER."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1  # a torn last line is read again next time
    for raw in data[:end].splitlines():
        fields = raw.split()
        if len(fields) >= 5 and fields[0] == b"A":
            try:
                seq, wall = int(fields[1]), float(fields[4])
            except ValueError:
                continue
            if wall > after:
                return offset + end, (seq, wall)
    return offset + end, None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("log", help="the writer's ack log")
    p.add_argument(
        "--after", type=float, required=True, help="wall time (s since the epoch) the ack must follow"
    )
    p.add_argument("--timeout", type=float, default=180.0)
    p.add_argument("--interval", type=float, default=0.2)
    a = p.parse_args(argv)
    t0 = time.monotonic()
    offset = 0
    while True:
        try:
            offset, hit = first_ack_after(a.log, offset, a.after)
        except FileNotFoundError:
            hit = None
        if hit:
            print(
                json.dumps(
                    {
                        "resumed": True,
                        "seq": hit[0],
                        "wall": hit[1],
                        "waited_s": round(time.monotonic() - t0, 2),
                    }
                )
            )
            return 0
        if time.monotonic() - t0 >= a.timeout:
            print(json.dumps({"resumed": False, "waited_s": round(time.monotonic() - t0, 2)}))
            return 1
        time.sleep(a.interval)


if __name__ == "__main__":
    sys.exit(main())
