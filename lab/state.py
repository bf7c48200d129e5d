"""lab.json in the state dir: what the running lab was started with (ports, image, engine, accel)."""

from __future__ import annotations

import fcntl
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from lab import config
from lab.errors import LabError
from lab.paths import StatePaths


@dataclass
class LabState:
    release: str
    image: str
    accel: str
    ports: dict[str, int]
    started_at: str
    # A lab.json written before the engine was a choice has no such key: its image was heartbeat's.
    engine: str = config.DEFAULT_ENGINE

    @staticmethod
    def default_ports(base: int) -> dict[str, int]:
        return {n.name: base + i for i, n in enumerate(config.NODES)}


def save(paths: StatePaths, st: LabState) -> None:
    tmp = paths.lab_json.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(st), indent=2) + "\n", encoding="utf-8")
    tmp.replace(paths.lab_json)


def load(paths: StatePaths) -> LabState | None:
    try:
        data = json.loads(paths.lab_json.read_text(encoding="utf-8"))
        return LabState(**data)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as e:
        raise LabError(f"{paths.lab_json} is damaged ({e}): run `python3 -m lab down`, then `up`.") from e


def require(paths: StatePaths) -> LabState:
    st = load(paths)
    if st is None:
        raise LabError(f"no lab has been started from {paths.root}: run `python3 -m lab up` first.")
    return st


@contextmanager
def locked(paths: StatePaths) -> Iterator[None]:
    """Serialise commands that change the lab (up, down, fault), also across processes."""
    paths.root.mkdir(parents=True, exist_ok=True)
    with open(paths.lock, "w", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LabError(
                f"another lab command is changing {paths.root} right now: wait for it to finish."
            ) from None
        yield


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # QEMU's hostfwd listens with SO_REUSEADDR too, so TIME_WAIT leftovers do not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
