# Copyright: (c) 2026, ha_san.aoe maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers for AoE targets as the Linux aoe driver shows them (no I/O here).

Two sources, both tested on captured output (tests/unit/fixtures/aoe/):

* sysfs: one directory ``/sys/block/etherd!eN.M`` per target, with the files ``size``
  (512-byte sectors), ``state`` (``up``, ``down``, ``down,closewait``, ``up,kickme``...),
  ``netif`` (interfaces, comma separated, or ``none``), ``payload`` (bytes per AoE frame),
  ``mac`` and ``firmware-version``/``fwver`` (kernel ``drivers/block/aoe/aoeblk.c``);
* ``aoe-stat`` (aoetools): one line per target, ``name size netif [payload] state``, the size in
  GB with three decimals (so sysfs is the exact source; aoe-stat is the fallback).
"""

from __future__ import annotations

import re

TARGET_NAME = re.compile(r"^e(\d+)\.(\d+)$")
_STATE = re.compile(r"^(up|down)((?:,[a-z]+)*)$")
_SIZE_GB = re.compile(r"^(\d+)\.(\d{3})GB$")


class AoeParseError(ValueError):
    """Output in a format this parser does not know; ``text`` is the offending input."""

    def __init__(self, message: str, text: str = "") -> None:
        super().__init__(message)
        self.text = text


def split_name(name: str) -> tuple:
    """``e0.3`` -> (0, 3); raises AoeParseError for anything else."""
    m = TARGET_NAME.match(name)
    if not m:
        raise AoeParseError(f"{name!r} is not an AoE target name of the form eSHELF.SLOT (e.g. e0.3)", name)
    return int(m.group(1)), int(m.group(2))


def parse_state(value: str) -> dict:
    """``down,closewait`` -> {"state": "down,closewait", "up": False, "flags": ["closewait"]}."""
    value = value.strip()
    m = _STATE.match(value)
    if not m:
        raise AoeParseError(f"unknown AoE target state {value!r}", value)
    flags = [f for f in m.group(2).split(",") if f]
    return {"state": value, "up": m.group(1) == "up", "flags": flags}


def _interfaces(value: str) -> list:
    value = value.strip()
    if value in ("", "none", "(NA)"):
        return []
    return value.split(",")


def target_from_sysfs(name: str, files: dict) -> dict:
    """Build one target from the contents of its sysfs files (``{"size": "524288\\n", ...}``).

    ``name`` is the part after ``etherd!``. Missing files give ``None`` (the driver creates
    them once the target answered; ``aoe-stat`` prints "(NA)" then).
    """
    shelf, slot = split_name(name)
    state_text = files.get("state")
    if state_text is None:
        raise AoeParseError(f"{name}: sysfs has no 'state' file", repr(files))
    st = parse_state(state_text)
    size_bytes = None
    size = files.get("size")
    if size is not None:
        size = size.strip()
        if not size.isdigit():
            raise AoeParseError(f"{name}: sysfs size {size!r} is not a number of sectors", size)
        size_bytes = int(size) * 512
    payload = files.get("payload")
    if payload is not None:
        payload = payload.strip()
        if not payload.isdigit():
            raise AoeParseError(f"{name}: sysfs payload {payload!r} is not a number", payload)
        payload = int(payload)
    mac = files.get("mac")
    fw = files.get("firmware-version", files.get("fwver"))
    return {
        "name": name,
        "shelf": shelf,
        "slot": slot,
        "device": f"/dev/etherd/{name}",
        "size_bytes": size_bytes,
        "interfaces": _interfaces(files.get("netif", "")),
        "payload": payload,
        "state": st["state"],
        "up": st["up"],
        "flags": st["flags"],
        "mac": mac.strip() if mac is not None else None,
        "firmware_version": fw.strip() if fw is not None else None,
    }


def targets_from_sysfs(entries: dict) -> list:
    """``{"etherd!e0.3": {files...}, ...}`` (the directory names in /sys/block) -> sorted targets.

    Directory names that are not AoE disks (partitions ``etherd!e0.3p1``, other disks) are skipped.
    """
    out = []
    for dirname, files in entries.items():
        if not dirname.startswith("etherd!"):
            continue
        name = dirname[len("etherd!") :]
        if not TARGET_NAME.match(name):
            continue  # a partition such as e0.3p1
        out.append(target_from_sysfs(name, files))
    return sorted(out, key=lambda t: (t["shelf"], t["slot"]))


def parse_aoe_stat(text: str) -> list:
    """Parse ``aoe-stat`` output. Sizes are rounded to the MB by aoe-stat itself."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("aoe-stat Warning:"):
            continue
        cols = line.split()
        if len(cols) == 5:
            name, size, netif, payload, state = cols
        elif len(cols) == 4:
            name, size, netif, state = cols
            payload = None
        else:
            raise AoeParseError(f"aoe-stat: expected 4 or 5 columns, found {len(cols)}: {raw!r}", text)
        try:
            shelf, slot = split_name(name)
            st = parse_state(state)
        except AoeParseError as exc:
            raise AoeParseError(f"aoe-stat: {exc} in line {raw!r}", text) from None
        size_bytes = None
        if size != "(NA)":
            m = _SIZE_GB.match(size)
            if not m:
                raise AoeParseError(f"aoe-stat: size {size!r} is not N.NNNGB in line {raw!r}", text)
            size_bytes = (int(m.group(1)) * 1000 + int(m.group(2))) * 1000 * 1000
        if payload is not None:
            if payload == "(NA)":
                payload = None
            elif payload.isdigit():
                payload = int(payload)
            else:
                raise AoeParseError(f"aoe-stat: payload {payload!r} is not a number in line {raw!r}", text)
        out.append(
            {
                "name": name,
                "shelf": shelf,
                "slot": slot,
                "device": f"/dev/etherd/{name}",
                "size_bytes": size_bytes,
                "interfaces": _interfaces(netif),
                "payload": payload,
                "state": st["state"],
                "up": st["up"],
                "flags": st["flags"],
                "mac": None,
                "firmware_version": None,
            }
        )
    return sorted(out, key=lambda t: (t["shelf"], t["slot"]))


def wanted_reached(targets: list, wanted: list, state: str) -> tuple:
    """Which of ``wanted`` have reached ``state`` (``up``, ``down``, ``present``, ``absent``).

    Returns (all_reached, missing) where ``missing`` lists the names not there yet.
    ``down`` matches ``down`` with any flags (``down,closewait``).
    """
    by_name = {t["name"]: t for t in targets}
    missing = []
    for name in wanted:
        t = by_name.get(name)
        if state == "absent":
            ok = t is None
        elif state == "present":
            ok = t is not None
        elif state == "up":
            ok = t is not None and t["up"]
        elif state == "down":
            ok = t is not None and not t["up"]
        else:
            raise ValueError(f"unknown wanted state {state!r}")
        if not ok:
            missing.append(name)
    return not missing, missing


def describe(targets: list, wanted: list) -> str:
    """What was last seen, for a timeout message: ``e0.3 up on eth1; e9.9 not discovered``."""
    by_name = {t["name"]: t for t in targets}
    parts = []
    for name in wanted:
        t = by_name.get(name)
        if t is None:
            parts.append(f"{name} not discovered")
        else:
            ifs = ",".join(t["interfaces"]) or "no interface"
            parts.append(f"{name} {t['state']} on {ifs}")
    others = [t["name"] for t in targets if t["name"] not in wanted]
    if others:
        parts.append("other targets seen: " + ", ".join(others))
    elif not targets:
        parts.append("no AoE targets seen at all")
    return "; ".join(parts)
