"""The heartbeat scenario's "power switch": a host-side helper that kills containers on request.

The STONITH plugin in the containers (heartbeat_stonith_type: file) writes a request file
`req.<ns>.<from>.<target>` holding one line `off TARGET` into a folder bind-mounted from the host.
This helper watches that folder, runs `docker kill TARGET` for containers on its allow-list only,
waits until the container has stopped, and answers in `<request>.ans` with a line starting with
`ok` (or `error ...`). Every request is logged as one JSON line (host clock) in --log.

Test scaffolding only: started by molecule/heartbeat/prepare.yml, stopped by cleanup.yml, and it
exits by itself when none of its containers exists any more (or after --max-lifetime seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


def running(name: str) -> bool | None:
    """True/False when the container exists, None when it does not."""
    res = docker("inspect", "-f", "{{.State.Running}}", name)
    if res.returncode != 0:
        return None
    return res.stdout.strip() == "true"


def power_off(name: str) -> str:
    state = running(name)
    if state is None:
        return f"error no container {name}"
    if not state:
        return f"ok {name} not running"
    res = docker("kill", name)
    if res.returncode != 0 and running(name):
        return f"error docker kill {name}: {res.stderr.strip()}"
    for _attempt in range(100):
        if not running(name):
            return f"ok killed {name}"
        time.sleep(0.05)
    return f"error {name} still running"


def handle(path: Path, allowed: set[str], log: Path) -> None:
    received = time.time()
    try:
        words = path.read_text(encoding="utf-8").split()
    except OSError:
        return
    sender = path.name.split(".")[2] if path.name.count(".") >= 3 else "?"
    if len(words) == 2 and words[0] in ("off", "reset") and words[1] in allowed:
        answer = power_off(words[1])
    else:
        answer = f"error refused {' '.join(words)!r}: allowed are {sorted(allowed)}"
    done = time.time()
    tmp = path.with_name(f".{path.name}.ans.tmp")
    tmp.write_text(answer + "\n", encoding="utf-8")
    tmp.rename(path.with_name(path.name + ".ans"))
    entry = {
        "request": " ".join(words),
        "from": sender,
        "received": round(received, 3),
        "done": round(done, 3),
        "answer": answer,
    }
    with log.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, type=Path, help="request folder (bind-mounted)")
    ap.add_argument("--allow", required=True, help="comma-separated container names it may kill")
    ap.add_argument("--log", required=True, type=Path, help="JSON lines log of the requests")
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--max-lifetime", type=float, default=3600.0)
    args = ap.parse_args(argv)
    allowed = {n for n in args.allow.split(",") if n}
    args.dir.mkdir(parents=True, exist_ok=True)
    # Requests from an earlier run (answered or not) are history, never orders.
    seen: set[str] = set(os.listdir(args.dir))
    start = last_alive = time.monotonic()
    last_check = 0.0
    while True:
        now = time.monotonic()
        if now - start > args.max_lifetime:
            return 0
        if now - last_check > 5:
            last_check = now
            if any(running(n) is not None for n in allowed):
                last_alive = now
            elif now - last_alive > 30:
                return 0
        for entry in sorted(os.listdir(args.dir)):
            if entry.startswith("req.") and not entry.endswith(".ans") and entry not in seen:
                seen.add(entry)
                handle(args.dir / entry, allowed, args.log)
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
