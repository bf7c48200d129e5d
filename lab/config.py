"""Where the lab keeps things, and the fixed topology of its three VMs.

Everything the lab creates lives either in the image cache (outside the repository, shared by
every checkout) or in the state dir (short path, because QEMU's and vde_switch's unix socket
paths must stay below the 108-byte sun_path limit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lab.errors import LabError

# The repository root: lab/ sits directly in it.
REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_RELEASE = "bookworm"
RELEASES = ("bookworm", "trixie")
# The cluster engine the image carries: their packages cannot share one image (heartbeat depends on
# inetutils-ping, which conflicts with the iputils-ping that pacemaker's set pulls in).
DEFAULT_ENGINE = "heartbeat"
ENGINES = ("heartbeat", "pacemaker")
DEFAULT_BASE_PORT = 2221
MEMORY_MIB = 768
DATA_DISK_MIB = 256
# Each server's data disks: vdb for the first resource (r0, e0.3), vdc for the second (r1, e0.4), and vdd,
# a spare that no resource uses (the benchmark's raw baseline).
DATA_DISKS = 3
# sun_path is 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107

SAN_PREFIX = 24
REPLICATION_PREFIX = 24
SERVICE_IP = "192.0.2.100"  # reserved for the cluster's floating address; no VM gets it
FENCE_GUEST_ADDR = "10.0.2.100"
FENCE_GUEST_PORT = 7000


@dataclass(frozen=True)
class Node:
    """One lab VM: its name, index (1..3), storage addresses and fixed MACs."""

    name: str
    index: int
    san_address: str
    replication_address: str | None  # None: the client is not on the replication switch

    @property
    def is_server(self) -> bool:
        return self.replication_address is not None

    def mac(self, nic: int) -> str:
        # 52:54:00 is QEMU's prefix; the 5th byte names the NIC, the 6th the node, so a MAC
        # seen in a capture says at once which VM and which network it belongs to.
        return f"52:54:00:5a:{nic:02x}:{self.index:02x}"


NODES: tuple[Node, ...] = (
    Node("primary", 1, "192.0.2.11", "198.51.100.11"),
    Node("secondary", 2, "192.0.2.12", "198.51.100.12"),
    Node("client", 3, "192.0.2.13", None),
)
NODE_NAMES = tuple(n.name for n in NODES)

# CLI name of a storage NIC -> QEMU netdev id (used by `set_link`) and vde switch name.
NICS = {"san": "san", "replication": "repl"}


def node(name: str) -> Node:
    """The node called NAME, or a LabError naming the valid ones."""
    for n in NODES:
        if n.name == name:
            return n
    raise LabError(f"unknown node {name!r}: use one of {', '.join(NODE_NAMES)}.")


def nic_netdev(n: Node, nic: str) -> str:
    """The QEMU netdev id of NODE's NIC, refusing NICs the node does not have."""
    if nic not in NICS:
        raise LabError(f"unknown NIC {nic!r}: use one of {', '.join(NICS)}.")
    if nic == "replication" and not n.is_server:
        raise LabError(f"{n.name} has no replication NIC (only the servers do): use --nic san.")
    return NICS[nic]


def default_release() -> str:
    """$HA_SAN_LAB_RELEASE (so CI can run the whole suite on trixie), else bookworm."""
    release = os.environ.get("HA_SAN_LAB_RELEASE") or DEFAULT_RELEASE
    if release not in RELEASES:
        raise LabError(f"HA_SAN_LAB_RELEASE={release!r} is not supported: use one of {', '.join(RELEASES)}.")
    return release


def default_engine() -> str:
    """$HA_SAN_LAB_ENGINE (so CI can run the whole suite on pacemaker), else heartbeat."""
    engine = os.environ.get("HA_SAN_LAB_ENGINE") or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise LabError(f"HA_SAN_LAB_ENGINE={engine!r} is not supported: use one of {', '.join(ENGINES)}.")
    return engine


def state_dir() -> Path:
    """The lab's state dir: $HA_SAN_LAB_STATE or /var/tmp/ha_san-lab (short on purpose)."""
    return Path(os.environ.get("HA_SAN_LAB_STATE") or "/var/tmp/ha_san-lab").absolute()


def cache_dir() -> Path:
    """The image cache: $HA_SAN_LAB_CACHE or $XDG_CACHE_HOME/ha_san/lab (outside the repo)."""
    explicit = os.environ.get("HA_SAN_LAB_CACHE")
    if explicit:
        return Path(explicit).absolute()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).absolute() / "ha_san" / "lab"


def inventory_path() -> Path:
    """$HA_SAN_LAB_INVENTORY, or inventories/lab/hosts.yml (a second lab must not clobber the first's)."""
    explicit = os.environ.get("HA_SAN_LAB_INVENTORY")
    return Path(explicit).absolute() if explicit else REPO_ROOT / "inventories" / "lab" / "hosts.yml"


def base_port_from_env() -> int:
    raw = os.environ.get("HA_SAN_LAB_BASE_PORT")
    if not raw:
        return DEFAULT_BASE_PORT
    try:
        port = int(raw)
    except ValueError:
        raise LabError(f"HA_SAN_LAB_BASE_PORT={raw!r} is not a number: set it to a port like 2221.") from None
    return check_base_port(port)


def check_base_port(port: int) -> int:
    if not 1024 <= port <= 65535 - len(NODES):
        raise LabError(f"base port {port} is out of range: choose one between 1024 and {65535 - len(NODES)}.")
    return port
