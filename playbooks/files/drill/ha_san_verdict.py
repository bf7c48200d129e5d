"""Failover drill verdict (ha_san.aoe): did the drill pass, and if not, every reason why.

Runs on the controller, standard library only.  ``judge`` reads the drill's report (ha_san_report.py
report), the fault's entry in faults.json, which server was the victim and which the survivor, each
server's DRBD state after the rejoin (the ``ha_san.aoe.drbdadm`` module's ``role``, ``connection_state``,
``disk_state``, ``peer_disk_state``) and what the playbook saw while the fault was held.  The drill
passes when no reason is found:

- no acknowledged block lost, and at least one acknowledged (a drill that wrote nothing tested nothing), on
  every target when the drill ran one writer per target (the report's ``targets``);
- a fault that hits the client (``victim: client``): the client wrote to every target again after its boot
  (it found the export again);
- no split brain left unresolved, no double export;
- both servers back and Connected;
- a blind fault (``kind: blind``): the victim still ran the export at the end of the hold;
- ``replication_unplug``: some disk was marked Outdated while the link was cut (the fence-peer handler
  worked, so a crash of the Primary later cannot promote stale data);
- the service (DRBD Primary) on the server the fault table says: ``ends_on``, else the victim for
  ``service: stays`` and the survivor for ``service: moves``;
- an outage fault (``kind: outage``): the survivor, left with an outdated disk, was Secondary at the end
  of the hold and never logged a promotion.

ha_san_report.py's ``verdict`` subcommand is the command line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# DRBD's kernel log when a disk becomes Outdated: "pdsk( UpToDate -> Outdated )" on the Primary, or
# "disk( UpToDate -> Outdated )" on the Secondary.
OUTDATED = re.compile(r"(pdsk|disk)[(] [A-Za-z]+ -> Outdated [)]")
PROMOTED = re.compile(r"role[(] Secondary -> Primary [)]")
# The fault whose fence-peer handler must outdate the peer (the replication cable pulled).
REPLICATION_FAULT = "replication_unplug"
UNKNOWN = "unknown"  # a server that never came back has no DRBD state
CLIENT = "client"  # faults.json's victim of a fault that hits the AoE client

# The keys of the observations file (all optional; null or missing: not observed).
OBSERVATION_KEYS = {
    # exit status of "DRBD Primary and exporting" run on the victim at the end of a blind fault's hold
    "victim_export_rc": "int or null",
    # stdout of `drbdadm role RESOURCE` on the survivor at the end of an outage fault's hold
    "survivor_role": "str or null",
}


def ends_on(fault: Mapping[str, Any]) -> str:
    """Where the fault table says the service is after the drill: 'victim' or 'survivor'."""
    default = "victim" if fault.get("service", "moves") == "stays" else "survivor"
    return str(fault.get("ends_on") or default)


def by_target(targets: list[Mapping[str, Any]]) -> str:
    """' (T1: lost of acked; T2: ...)' when the drill ran more than one writer, else ''."""
    if len(targets) < 2:
        return ""
    return " (" + "; ".join(f"{t.get('target')}: {t.get('lost')} of {t.get('acked')}" for t in targets) + ")"


def _writes(report: Mapping[str, Any], fault: Mapping[str, Any]) -> list[str]:
    """The reasons about the writes themselves: lost, none acknowledged, none after the client's boot."""
    reasons: list[str] = []
    acked, lost = int(report.get("acked", 0)), int(report.get("lost", 0))
    targets: list[Mapping[str, Any]] = list(report.get("targets") or [])
    if lost != 0:
        reasons.append(f"{lost} of {acked} acknowledged blocks were lost{by_target(targets)}")
    idle = [str(t.get("target")) for t in targets if int(t.get("acked", 0)) <= 0]
    if acked <= 0:
        reasons.append("no block was acknowledged: the writer wrote nothing, so nothing was tested")
    elif idle:
        reasons.append(f"no block was acknowledged on {', '.join(idle)}: nothing was tested there")
    if fault.get("victim") == CLIENT:
        silent = [str(t.get("target")) for t in targets if not t.get("after_boot_acked")]
        if silent or not targets:
            reasons.append(
                f"the client wrote nothing to {', '.join(silent) or 'its target'} after its boot: it did not "
                "find the export again, or its writes failed"
            )
    return reasons


def _state(drbd_after: Mapping[str, Mapping[str, Any]], server: str, key: str) -> str:
    value = (drbd_after.get(server) or {}).get(key)
    return UNKNOWN if value is None else str(value)


def judge(
    report: Mapping[str, Any],
    fault: Mapping[str, Any],
    *,
    victim: str,
    survivor: str,
    drbd_after: Mapping[str, Mapping[str, Any]],
    observations: Mapping[str, Any],
    fault_name: str | None = None,
) -> tuple[bool, list[str]]:
    """(passed, reasons): the drill passed when ``reasons`` is empty.

    ``fault`` is the fault's entry in faults.json ({} for a fault the table does not know: then it is a
    ``kind: fault`` whose service moves). ``fault_name`` is the fault the drill injected, when known: a
    report of another fault is refused.
    """
    reasons: list[str] = []
    name = str(report.get("fault", ""))
    timeline: list[Mapping[str, Any]] = list(report.get("timeline") or [])
    kind = str(fault.get("kind", "fault"))

    if fault_name is not None and name != fault_name:
        reasons.append(f"the report is of the fault {name!r}, but the drill injected {fault_name!r}")
    reasons += _writes(report, fault)
    split_brain = report.get("split_brain")
    if isinstance(split_brain, Mapping) and split_brain.get("detected") and not split_brain.get("resolved"):
        reasons.append(f"a split brain was left unresolved ({dict(split_brain)})")
    if report.get("double_export"):
        reasons.append("the export ran on both servers at once (double export)")

    servers = [*drbd_after, *(s for s in (victim, survivor) if s not in drbd_after)]
    states = {s: _state(drbd_after, s, "connection_state") for s in servers}
    if [s for s in servers if states[s] == "Connected"] != [s for s in servers if s in (victim, survivor)]:
        disks = {
            s: f"{_state(drbd_after, s, 'disk_state')}/{_state(drbd_after, s, 'peer_disk_state')}"
            for s in servers
        }
        detail = ", ".join(f"{s} {states[s]} {disks[s]}" for s in servers)
        reasons.append(f"DRBD did not rejoin Connected on both servers after the drill: {detail}")

    victim_rc = observations.get("victim_export_rc")
    if victim_rc is not None and int(victim_rc) != 0:
        reasons.append(
            f"the victim {victim} did not keep the export while both sides were blind "
            f"(its check of DRBD Primary and the export exited {victim_rc})"
        )

    if name == REPLICATION_FAULT and not any(OUTDATED.search(str(e.get("event", ""))) for e in timeline):
        reasons.append(
            "no disk was marked Outdated while the replication link was cut (the fence-peer handler failed: "
            "the Secondary stayed promotable with stale data)"
        )

    where = ends_on(fault)
    holder = victim if where == "victim" else survivor
    roles = {s: _state(drbd_after, s, "role") for s in servers}
    if roles[holder] != "Primary":
        reasons.append(
            f"the service is not on {holder}, the {where}, where the fault table says it ends "
            f"(DRBD roles after the drill: {roles})"
        )

    if kind == "outage":
        seen = observations.get("survivor_role")
        if seen is None or not str(seen).startswith("Secondary"):
            reasons.append(
                f"the survivor {survivor} was not Secondary at the end of the hold "
                f"(drbdadm role said {seen!r}): it was promoted with an outdated disk, or not asked"
            )
        promoted = [
            str(e.get("event", ""))
            for e in timeline
            if e.get("node") == survivor and PROMOTED.search(str(e.get("event", "")))
        ]
        if promoted:
            reasons.append(
                f"the survivor {survivor} was promoted with an outdated disk: it logged {promoted[0]!r}"
            )
    return not reasons, reasons


def headline(report: Mapping[str, Any], passed: bool) -> str:
    """One line with the drill's figures, for the verdict's first line."""
    word = "passed" if passed else "FAILED"
    lost, acked, stall = report.get("lost"), report.get("acked"), float(report.get("stall_s", 0.0))
    targets = by_target(list(report.get("targets") or []))
    return (
        f"Drill {report.get('fault')} {word}: lost {lost} of {acked} acknowledged blocks{targets}, "
        f"stall {stall:.2f} s"
    )
