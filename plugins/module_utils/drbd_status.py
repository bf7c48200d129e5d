# Copyright: (c) 2026, ha_san.aoe maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers for what DRBD's tools print (no I/O here).

Formats understood, each tested on captured output (tests/unit/fixtures/drbd/):

* ``drbdadm status RES`` / ``drbdsetup status RES`` text, as drbd-utils 9 prints it for the
  DRBD 8.4 kernel module (Debian's) and for DRBD 9;
* ``drbdsetup status --json RES`` (DRBD 9 only: drbd-utils refuses ``--json`` for 8.4);
* ``/proc/drbd`` (8.4: version and one line per minor; 9: version only);
* ``drbdadm role|cstate|dstate RES`` (one line each).

Anything that does not match these formats raises :class:`DrbdParseError` carrying the text:
the caller fails loudly instead of guessing.
"""

from __future__ import annotations

import json
import re

ROLES = ("Primary", "Secondary", "Unknown")
DISK_STATES = (
    "Diskless",
    "Attaching",
    "Detaching",
    "Failed",
    "Negotiating",
    "Inconsistent",
    "Outdated",
    "DUnknown",
    "Consistent",
    "UpToDate",
)
# Connection states as drbd-utils 9 prints them (``drbdadm status``, JSON). With the 8.4 module
# drbd-utils maps WFConnection to "Connecting" and WFReportParams to "Connected".
CONNECTION_STATES = (
    "StandAlone",
    "Disconnecting",
    "Unconnected",
    "Timeout",
    "BrokenPipe",
    "NetworkFailure",
    "ProtocolError",
    "Connecting",
    "TearDown",
    "Connected",
)
REPLICATION_STATES = (
    "Off",
    "Established",
    "StartingSyncS",
    "StartingSyncT",
    "WFBitMapS",
    "WFBitMapT",
    "WFSyncUUID",
    "SyncSource",
    "SyncTarget",
    "VerifyS",
    "VerifyT",
    "PausedSyncS",
    "PausedSyncT",
    "Ahead",
    "Behind",
)
SYNC_STATES = ("SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT")
# DRBD 8.4 connection states (``/proc/drbd`` cs:, ``drbdadm cstate`` with the 8.4 module).
CSTATES_84 = (
    "Unconfigured",
    "StandAlone",
    "Disconnecting",
    "Unconnected",
    "Timeout",
    "BrokenPipe",
    "NetworkFailure",
    "ProtocolError",
    "WFConnection",
    "WFReportParams",
    "TearDown",
    "Connected",
    *REPLICATION_STATES[2:],
)

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TOKEN = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):(\S*)$")


class DrbdParseError(ValueError):
    """Output in a format this parser does not know; ``text`` is the whole input."""

    def __init__(self, message: str, text: str = "") -> None:
        super().__init__(message)
        self.text = text


def _check(value: str, allowed: tuple, what: str, text: str) -> str:
    if value not in allowed:
        raise DrbdParseError(f"unknown {what} {value!r} (known: {', '.join(allowed)})", text)
    return value


def _tokens(line: str, text: str) -> dict:
    out = {}
    for tok in line.split():
        m = _TOKEN.match(tok)
        if not m:
            raise DrbdParseError(f"expected key:value, found {tok!r} in line {line.strip()!r}", text)
        out[m.group(1)] = m.group(2)
    return out


def _percent(value: str, text: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise DrbdParseError(f"sync percentage {value!r} is not a number", text) from None


# ---------------------------------------------------------------------------------------------
# drbdadm status (text)
# ---------------------------------------------------------------------------------------------
def parse_status_text(text: str) -> dict:
    """Parse ``drbdadm status`` / ``drbdsetup status`` text into ``{name: resource}``.

    A resource is ``{"name", "role", "suspended", "devices": [...], "connections": [...]}``;
    devices ``{"volume", "disk_state", "extra"}``; connections ``{"name", "node_id",
    "connection_state", "peer_role", "peer_devices": [...]}``; peer devices ``{"volume",
    "replication_state", "peer_disk_state", "done"}``. Fields the program leaves out because
    they have their default value (``connection:Connected``, ``replication:Established``...)
    are filled in the way drbd-utils decides to leave them out.
    """
    clean = _ANSI.sub("", text)
    resources: dict = {}
    res = None
    conn = None
    last = None
    for raw in clean.splitlines():
        if not raw.strip():
            res = conn = last = None
            continue
        if raw.startswith("#"):
            if raw.strip() == "# No currently configured DRBD found.":
                continue
            raise DrbdParseError(f"unexpected comment line {raw!r}", text)
        indent = len(raw) - len(raw.lstrip(" "))
        body = raw.strip()
        first = body.split()[0]
        if indent == 0:
            name, rest = first, body[len(first) :]
            if ":" in name:
                raise DrbdParseError(f"resource line must start with a name: {raw!r}", text)
            toks = _tokens(rest, text)
            if "role" not in toks:
                raise DrbdParseError(f"resource line without role: {raw!r}", text)
            res = {
                "name": name,
                "role": _check(toks["role"], ROLES, "role", text),
                "suspended": toks.get("suspended", "no"),
                "devices": [],
                "connections": [],
                "extra": {k: v for k, v in toks.items() if k not in ("role", "suspended")},
            }
            resources[name] = res
            conn = None
            last = res
            continue
        if res is None:
            raise DrbdParseError(f"indented line outside a resource: {raw!r}", text)
        if indent == 2 and (first.startswith("disk:") or first.startswith("volume:")):
            toks = _tokens(body, text)
            if "disk" not in toks:
                raise DrbdParseError(f"device line without disk state: {raw!r}", text)
            dev = {
                "volume": int(toks.get("volume", "0")),
                "disk_state": _check(toks["disk"], DISK_STATES, "disk state", text),
                "extra": {k: v for k, v in toks.items() if k not in ("volume", "disk")},
            }
            res["devices"].append(dev)
            conn = None
            last = dev
            continue
        if indent == 2:
            if ":" in first and not first.startswith("node-id:"):
                raise DrbdParseError(f"unexpected line in resource {res['name']}: {raw!r}", text)
            name = "" if ":" in first else first
            toks = _tokens(body[len(name) :], text)
            cstate = toks.get("connection", "Connected")
            conn = {
                "name": name,
                "node_id": int(toks["node-id"]) if "node-id" in toks else None,
                "connection_state": _check(cstate, CONNECTION_STATES, "connection state", text),
                "peer_role": _check(toks.get("role", "Unknown"), ROLES, "peer role", text),
                "peer_devices": [],
                "extra": {k: v for k, v in toks.items() if k not in ("connection", "role", "node-id")},
            }
            res["connections"].append(conn)
            last = conn
            continue
        if indent == 4 and conn is not None:
            toks = _tokens(body, text)
            default_repl = "Established" if conn["connection_state"] == "Connected" else "Off"
            pdev = {
                "volume": int(toks.get("volume", "0")),
                "replication_state": _check(
                    toks.get("replication", default_repl), REPLICATION_STATES, "replication state", text
                ),
                "peer_disk_state": _check(
                    toks.get("peer-disk", "DUnknown"), DISK_STATES, "peer disk state", text
                ),
                "done": _percent(toks["done"], text) if "done" in toks else None,
                "extra": {
                    k: v for k, v in toks.items() if k not in ("volume", "replication", "peer-disk", "done")
                },
            }
            conn["peer_devices"].append(pdev)
            last = pdev
            continue
        if indent >= 6 and last is not None:
            # statistics (--statistics) or a wrapped continuation of the line above
            last.setdefault("extra", {}).update(_tokens(body, text))
            continue
        raise DrbdParseError(f"unexpected line in resource {res['name']}: {raw!r}", text)
    return resources


# ---------------------------------------------------------------------------------------------
# drbdsetup status --json (DRBD 9)
# ---------------------------------------------------------------------------------------------
def parse_status_json(text: str) -> dict:
    """Parse ``drbdsetup status --json`` (DRBD 9) into the same shape as :func:`parse_status_text`."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DrbdParseError(f"drbdsetup status --json did not print JSON: {exc}", text) from None
    if not isinstance(data, list):
        raise DrbdParseError("drbdsetup status --json: expected a JSON list of resources", text)
    resources: dict = {}
    try:
        for item in data:
            res = {
                "name": item["name"],
                "role": _check(item["role"], ROLES, "role", text),
                "suspended": "yes" if item.get("suspended") else "no",
                "devices": [],
                "connections": [],
                "extra": {"node-id": str(item.get("node-id", ""))},
            }
            for dev in item.get("devices", []):
                res["devices"].append(
                    {
                        "volume": int(dev["volume"]),
                        "minor": dev.get("minor"),
                        "disk_state": _check(dev["disk-state"], DISK_STATES, "disk state", text),
                        "extra": {},
                    }
                )
            for con in item.get("connections", []):
                conn = {
                    "name": con.get("name", ""),
                    "node_id": con.get("peer-node-id"),
                    "connection_state": _check(
                        con["connection-state"], CONNECTION_STATES, "connection state", text
                    ),
                    "peer_role": _check(con["peer-role"], ROLES, "peer role", text),
                    "peer_devices": [],
                    "extra": {},
                }
                for pd in con.get("peer_devices", []):
                    repl = _check(pd["replication-state"], REPLICATION_STATES, "replication state", text)
                    done = pd.get("percent-resync-done")
                    conn["peer_devices"].append(
                        {
                            "volume": int(pd["volume"]),
                            "replication_state": repl,
                            "peer_disk_state": _check(
                                pd["peer-disk-state"], DISK_STATES, "peer disk state", text
                            ),
                            "done": float(done) if done is not None else None,
                            "extra": {"percent-in-sync": pd.get("percent-in-sync")},
                        }
                    )
                res["connections"].append(conn)
            resources[res["name"]] = res
    except (KeyError, TypeError, AttributeError) as exc:
        raise DrbdParseError(f"drbdsetup status --json: missing or malformed field {exc}", text) from None
    return resources


# ---------------------------------------------------------------------------------------------
# /proc/drbd
# ---------------------------------------------------------------------------------------------
_PROC_VERSION = re.compile(r"^version: (\S+) \(api:(\d+)/proto:([0-9-]+)\)")
_PROC_MINOR = re.compile(r"^\s*(\d+): cs:(\S+)(.*)$")
_PROC_SYNC = re.compile(r"sync'ed:\s*([0-9.]+)%")


def parse_proc_drbd(text: str) -> dict:
    """Parse ``/proc/drbd``: ``{"version", "api", "major", "minors": {n: {...}}}``.

    DRBD 9 prints only the version lines; 8.4 adds one block per minor with ``cs:``, ``ro:``,
    ``ds:`` and, while syncing, a ``sync'ed: NN.N%`` line.
    """
    lines = text.splitlines()
    if not lines:
        raise DrbdParseError("/proc/drbd is empty", text)
    m = _PROC_VERSION.match(lines[0])
    if not m:
        raise DrbdParseError(f"/proc/drbd: first line is not 'version: ...': {lines[0]!r}", text)
    version = m.group(1)
    out = {"version": version, "api": int(m.group(2)), "major": int(version.split(".")[0]), "minors": {}}
    current = None
    for line in lines[1:]:
        mm = _PROC_MINOR.match(line)
        if mm:
            minor = int(mm.group(1))
            cs = _check(mm.group(2), CSTATES_84, "connection state", text)
            entry = {"cstate": cs, "role": None, "peer_role": None, "disk_state": None}
            entry["peer_disk_state"] = None
            entry["sync_percent"] = None
            toks = mm.group(3).split()
            for tok in toks:
                if tok.startswith("ro:"):
                    a, _sep, b = tok[3:].partition("/")
                    entry["role"] = _check(a, ROLES, "role", text)
                    entry["peer_role"] = _check(b, ROLES, "peer role", text)
                elif tok.startswith("ds:"):
                    a, _sep, b = tok[3:].partition("/")
                    entry["disk_state"] = _check(a, DISK_STATES, "disk state", text)
                    entry["peer_disk_state"] = _check(b, DISK_STATES, "peer disk state", text)
            if cs != "Unconfigured" and entry["role"] is None:
                raise DrbdParseError(f"/proc/drbd: minor {minor} without ro:", text)
            out["minors"][minor] = entry
            current = entry
            continue
        ms = _PROC_SYNC.search(line)
        if ms and current is not None:
            current["sync_percent"] = float(ms.group(1))
    return out


# ---------------------------------------------------------------------------------------------
# drbdadm role / cstate / dstate
# ---------------------------------------------------------------------------------------------
def _one_line(text: str, what: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) != 1:
        raise DrbdParseError(f"drbdadm {what}: expected one line", text)
    return lines[0]


def parse_role(text: str) -> tuple:
    """``drbdadm role``: ``Primary/Secondary`` (8.4) or ``Primary`` (9) -> (local, peer or None)."""
    local, _sep, peer = _one_line(text, "role").partition("/")
    return _check(local, ROLES, "role", text), (_check(peer, ROLES, "peer role", text) if peer else None)


def parse_dstate(text: str) -> tuple:
    """``drbdadm dstate``: ``UpToDate/Inconsistent`` -> (local, peer or None)."""
    local, _sep, peer = _one_line(text, "dstate").partition("/")
    return (
        _check(local, DISK_STATES, "disk state", text),
        _check(peer, DISK_STATES, "peer disk state", text) if peer else None,
    )


def parse_cstate(text: str) -> str:
    """``drbdadm cstate``: one 8.4 connection state (``WFConnection``, ``SyncSource``...)."""
    value = _one_line(text, "cstate")
    return _check(value, CSTATES_84 + CONNECTION_STATES, "connection state", text)


# ---------------------------------------------------------------------------------------------
# Flat summary (what the module returns)
# ---------------------------------------------------------------------------------------------
def summarize(resource: dict | None) -> dict:
    """Flatten one parsed resource (first volume, first peer) into the module's return values.

    ``None`` (resource not known to the kernel) gives the "down" summary.
    ``connection_state`` is the connection-level state in drbd-utils 9 words; ``sync_percent``
    is the resync progress while syncing, 100.0 when both disks are UpToDate, else ``None``.
    """
    if resource is None:
        return {
            "up": False,
            "role": None,
            "peer_role": None,
            "disk_state": None,
            "peer_disk_state": None,
            "connection_state": None,
            "replication_state": None,
            "sync_percent": None,
        }
    dev = resource["devices"][0] if resource["devices"] else None
    conn = resource["connections"][0] if resource["connections"] else None
    pdev = None
    if conn is not None and conn["peer_devices"]:
        vol = dev["volume"] if dev else 0
        pdev = next((p for p in conn["peer_devices"] if p["volume"] == vol), conn["peer_devices"][0])
    disk = dev["disk_state"] if dev else "Diskless"
    peer_disk = pdev["peer_disk_state"] if pdev else "DUnknown"
    repl = pdev["replication_state"] if pdev else "Off"
    sync = None
    if pdev is not None and pdev["done"] is not None:
        sync = pdev["done"]
    elif disk == "UpToDate" and peer_disk == "UpToDate":
        sync = 100.0
    return {
        "up": True,
        "role": resource["role"],
        "peer_role": conn["peer_role"] if conn else "Unknown",
        "disk_state": disk,
        "peer_disk_state": peer_disk,
        "connection_state": conn["connection_state"] if conn else "StandAlone",
        "replication_state": repl,
        "sync_percent": sync,
    }


def with_dstate(summary: dict, dstate_text: str) -> dict:
    """Complete an 8.4 summary with ``drbdadm dstate`` while not connected.

    ``drbdadm status`` hides the peer's disk while the connection is down, but DRBD 8.4 still
    knows it: ``Outdated`` after fencing (``/proc/drbd`` ``ds:UpToDate/Outdated``). ``dstate``
    prints it as ``UpToDate/Outdated``.
    """
    local, peer = parse_dstate(dstate_text)
    out = dict(summary)
    # the two reads are a moment apart: only trust dstate when it saw the same local disk
    if peer is not None and local == summary["disk_state"]:
        out["peer_disk_state"] = peer
    return out


def is_connected(summary: dict) -> bool:
    return summary.get("connection_state") == "Connected"


def is_synced(summary: dict) -> bool:
    return (
        is_connected(summary)
        and summary.get("disk_state") == "UpToDate"
        and summary.get("peer_disk_state") == "UpToDate"
    )


def describe(summary: dict) -> str:
    """One line a person reads: ``role Secondary/Primary, disk UpToDate/UpToDate, Connected``."""
    if not summary.get("up"):
        return "resource is down (not configured in the kernel)"
    text = (
        f"role {summary['role']}/{summary['peer_role']}, "
        f"disk {summary['disk_state']}/{summary['peer_disk_state']}, "
        f"connection {summary['connection_state']}"
    )
    if summary.get("replication_state") not in (None, "Off", "Established"):
        text += f", {summary['replication_state']}"
    if summary.get("sync_percent") is not None and summary.get("replication_state") in SYNC_STATES:
        text += f" {summary['sync_percent']:.2f}%"
    return text


def parse_resource_names(text: str) -> list:
    """``drbdadm sh-resources``: names separated by white space."""
    return text.split()


def force_refusal(summary: dict) -> str | None:
    """Why ``drbdadm primary --force`` must not run now, or ``None`` when it may.

    ``--force`` is for the first promotion of a brand-new resource: both disks Inconsistent
    and connected (so we know the peer holds nothing newer). It is refused while the peer is
    Primary or UpToDate, and when the local disk is neither Inconsistent nor UpToDate.
    """
    disk, peer_disk, peer_role = summary["disk_state"], summary["peer_disk_state"], summary["peer_role"]
    if peer_role == "Primary":
        return (
            f"the peer is Primary (peer disk {peer_disk}); promoting this node with force would "
            "make two primaries. Demote the peer first; force is only for the first promotion."
        )
    if disk not in ("Inconsistent", "UpToDate"):
        return (
            f"the local disk is {disk}; force may only promote an Inconsistent disk of a brand-new "
            "resource (or an UpToDate one, which needs no force)."
        )
    if disk == "Inconsistent":
        if peer_disk == "UpToDate":
            return (
                "the peer's disk is UpToDate and this node's is Inconsistent: forcing this node "
                "Primary would overwrite the peer's good data. Promote the peer instead."
            )
        if summary["connection_state"] != "Connected" or peer_disk != "Inconsistent":
            return (
                f"the peer's disk state is {peer_disk} (connection {summary['connection_state']}); "
                "force promotes only a brand-new resource whose two disks are both Inconsistent "
                "and connected, so no newer data can exist on the peer."
            )
    return None
