"""Judge the SAN's state from what playbooks/status.yml collected: one table per resource and a verdict.

    python3 ha_san_status.py FACTS.json|- [--json-out PATH] [--textfile PATH]
    python3 ha_san_status.py --crm-mon CRM_MON.xml|-     (switchover.yml: crm_mon's XML read, as JSON)

FACTS is what status.yml read, as Ansible registered it (so the raw module results, unreachable hosts
included; interpreting them is this file's job, where it is unit-tested, not Jinja's):

    {"resources": ha_san_resources,
     "servers": {NODE: {"heartbeat_active": <command: systemctl is-active heartbeat>,
                        "rscstatus": <command: cl_status rscstatus>,
                        "peers": <loop of command: cl_status nodestatus PEER, item = the peer's name>,
                        "drbd": <loop of ha_san.aoe.drbdadm state=status, item = the resource>,
                        "export": <loop of command: ha_san-aoe-export NAME status, item = the resource>}},
     "clients": {NODE: {"aoe": <ha_san.aoe.aoe_stat>}}}

Under Pacemaker (FACTS has "engine": "pacemaker" and "node_names": ha_san_node_names), each server has
instead of Heartbeat's three answers:

    "pacemaker_active": <command: systemctl is-active pacemaker>,
    "crm_mon": <command: crm_mon --one-shot --output-as=xml>

crm_mon's XML (Pacemaker 2.1 and 3.0) is read here: the nodes online, where the export, the promoted DRBD
instance and the service IP run, the failed actions and the fence devices (ids of roles/pacemaker's CIB).

A server whose first answer (heartbeat_active or pacemaker_active) is unreachable, or that is missing, did
not answer.
Prints the report as one JSON object; exit 0 when healthy, 1 when degraded, 2 when FACTS is unreadable.
--json-out writes the same report to a file, --textfile node_exporter gauges (both replaced atomically:
node_exporter and cron readers never see half a file). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

Facts = dict[str, Any]
# drbd-utils 9 words for a running resync (8.4's too, as ha_san.aoe.drbdadm reports them)
RESYNC_STATES = ("SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT")
# cl_status rscstatus: "local" is the groups whose home (haresources) is this node, "foreign" the peer's,
# "all" both. A node that is no group's home says "local" while it holds nothing (its own groups: none).
HB_HOLDS_AT_HOME = ("local", "all")
HB_HOLDS_AWAY = ("foreign", "all")
HB_HOLDS_UNKNOWN_HOME = ("local", "foreign", "all")


def _first_line(text: Any, limit: int = 200) -> str:
    lines = str(text or "").strip().splitlines()
    line = lines[0].strip() if lines else ""
    line = line.removeprefix("Task failed: ")  # ansible-core 2.19's prefix to an unreachable host's message
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _said(result: dict[str, Any]) -> str:
    """What a failed or odd command result said, in one line."""
    for key in ("stderr", "msg", "stdout"):
        if _first_line(result.get(key)):
            return _first_line(result.get(key))
    return f"rc={result.get('rc')}"


def _by_item(registered: Any, key: str) -> dict[str, dict[str, Any]]:
    """A registered loop's results by item (the item itself when a string, else item[key])."""
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(registered, dict):
        return out
    for r in registered.get("results") or []:
        item = r.get("item")
        name = item if isinstance(item, str) else (item or {}).get(key)
        if name is not None:
            out[str(name)] = r
    return out


def target_name(resource: dict[str, Any]) -> str:
    return f"e{int(resource['shelf'])}.{int(resource['slot'])}"


def _mac(raw: Any) -> str:
    """'02ae00000003' (sysfs) -> '02:ae:00:00:00:03'; anything else as it is."""
    s = str(raw or "").strip().lower()
    if len(s) == 12 and all(c in "0123456789abcdef" for c in s):
        return ":".join(s[i : i + 2] for i in range(0, 12, 2))
    return s


# -- reading what each host said -----------------------------------------------------------------------------
def server_answer(raw: dict[str, Any] | None) -> tuple[bool, str]:
    """(answered, why not) for one server's collected facts."""
    if not raw:
        return False, "did not answer (the host was not reached)"
    first = raw.get("heartbeat_active") or raw.get("pacemaker_active") or {}
    if first.get("unreachable"):
        return False, f"did not answer ({_first_line(first.get('msg')) or 'unreachable'})"
    return True, ""


def heartbeat_view(raw: dict[str, Any]) -> dict[str, Any]:
    """systemd's and Heartbeat's view on one server: active, what it holds, how it sees each peer."""
    act = raw.get("heartbeat_active") or {}
    # is-active prints active, inactive, failed, activating...; nothing at all only when it could not run
    active = _first_line(act.get("stdout")) or f"unknown ({_said(act)})"
    rsc = raw.get("rscstatus") or {}
    holds = _first_line(rsc.get("stdout")) if rsc.get("rc") == 0 else None
    peers = {}
    for peer, r in _by_item(raw.get("peers"), "name").items():
        peers[peer] = _first_line(r.get("stdout")) if r.get("rc") == 0 else None
    home = raw.get("home") or {}
    home_node = _first_line(home.get("stdout")) if home.get("rc") == 0 else ""
    at_home = home_node == raw.get("node_name") if home_node and raw.get("node_name") else None
    holds_group = (
        None
        if holds is None or holds == "transition"
        else holds in {True: HB_HOLDS_AT_HOME, False: HB_HOLDS_AWAY, None: HB_HOLDS_UNKNOWN_HOME}[at_home]
    )
    return {"active": active, "holds": holds, "holds_group": holds_group, "peers": peers}


def drbd_view(result: dict[str, Any] | None) -> dict[str, Any]:
    """ha_san.aoe.drbdadm's answer for one resource on one server; error set when it could not tell."""
    keys = ("up", "role", "peer_role", "disk_state", "peer_disk_state", "connection_state")
    view: dict[str, Any] = {k: None for k in (*keys, "replication_state", "sync_percent")}
    if not result or result.get("skipped") or "role" not in result:
        why = _said(result) if result and not result.get("skipped") else "not asked"
        return {**view, "error": why}
    for k in view:
        view[k] = result.get(k)
    view["error"] = None
    return view


def export_view(result: dict[str, Any] | None) -> tuple[bool | None, str | None]:
    """(running, error) from the resource script's status: exit 0 running, 3 stopped (LSB), else unknown."""
    if not result or result.get("skipped"):
        return None, "not asked"
    if result.get("rc") == 0:
        return True, None
    if result.get("rc") == 3:
        return False, None
    # ansible-core says only "Error executing command." when the script cannot be run at all
    return (
        None,
        f"{_said(result)} (rc={result.get('rc')}: is the resource script there? site.yml installs it)",
    )


def client_view(raw: dict[str, Any] | None, target: str) -> dict[str, Any]:
    """What one client's aoe driver says about TARGET."""
    aoe = (raw or {}).get("aoe") or {}
    view: dict[str, Any] = {"answered": True, "error": None, "seen": False, "up": False, "state": None}
    if not raw or aoe.get("unreachable"):
        view.update(answered=False, error=f"did not answer ({_first_line(aoe.get('msg')) or 'unreachable'})")
        return view
    if "targets" not in aoe:
        view["error"] = f"cannot list AoE targets: {_said(aoe)}"
        return view
    for t in aoe["targets"]:
        if t.get("name") == target:
            view.update(
                seen=True,
                up=bool(t.get("up")),
                state=t.get("state"),
                interfaces=t.get("interfaces") or [],
                mac=_mac(t.get("mac")),
            )
    return view


# -- the verdict ---------------------------------------------------------------------------------------------
def _connection_problem(res: str, nodes: list[str], conn: str) -> str:
    node = " and ".join(nodes)
    if conn == "StandAlone":
        return (
            f"DRBD {res} on {node} is StandAlone: it will not reconnect by itself (a split brain, or a "
            f"refused handshake). Read `dmesg | grep -i drbd` on both servers; after a split brain run "
            f"`drbdadm connect --discard-my-data {res}` on the server whose changes are to be thrown away, "
            f"then `drbdadm connect {res}` on the other"
        )
    if conn == "Connecting":
        return (
            f"DRBD {res} on {node} is waiting for its peer (Connecting): the peer or the replication link "
            "is down"
        )
    return f"DRBD {res} on {node} is {conn}, not Connected"


def _disk_problem(res: str, node: str, disk: str) -> str:
    why = {
        "Outdated": "it missed writes while disconnected and cannot take over; it resyncs once Connected",
        "Diskless": f"detached from its backing disk (an I/O error?): check it, then `drbdadm attach {res}`",
        "Inconsistent": "and no resync is running",
    }.get(disk, "not UpToDate")
    return f"the disk of {res} on {node} is {disk}: {why}"


def assess_resource(
    resource: dict[str, Any],
    servers: dict[str, Any],
    clients: dict[str, Any],
    engine: str = "heartbeat",
    node_names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Everything about one resource: per-node rows, the holder and its problems."""
    res, target = str(resource["name"]), target_name(resource)
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    for node, raw in servers.items():
        answered, why = server_answer(raw)
        row: dict[str, Any] = {"node": node, "kind": "server", "answered": answered, "error": why or None}
        if answered:
            drbd = drbd_view(_by_item(raw.get("drbd"), "name").get(res))
            running, export_error = export_view(_by_item(raw.get("export"), "name").get(res))
            row.update(drbd=drbd, export=running, export_error=export_error)
            if engine == "pacemaker":
                row["pacemaker"] = pacemaker_view(raw)
            else:
                row["heartbeat"] = heartbeat_view(raw)
            if drbd["error"]:
                problems.append(f"cannot read DRBD {res} on {node}: {drbd['error']}")
            elif not drbd["up"]:
                problems.append(f"DRBD {res} is down on {node}: `drbdadm up {res}`, or run site.yml")
            if export_error:
                problems.append(f"cannot ask whether {node} exports {target}: {export_error}")
        else:
            problems.append(f"{node} {why}")
        rows.append(row)

    live = [r for r in rows if r["answered"] and not r["drbd"]["error"] and r["drbd"]["up"]]
    primaries = [r["node"] for r in live if r["drbd"]["role"] == "Primary"]
    exporters = [r["node"] for r in rows if r.get("export") is True]
    if len(primaries) > 1:
        problems.append(f"{res} is Primary on {' and '.join(primaries)} at once: a split brain")
    elif not primaries and live:
        problems.append(f"no server is DRBD Primary for {res}: the service is down")

    resync = next((r for r in live if r["drbd"]["replication_state"] in RESYNC_STATES), None)
    if resync is not None:
        pct = resync["drbd"]["sync_percent"]
        done = f"{pct:g}%" if isinstance(pct, (int, float)) else "?%"
        problems.append(
            f"{res} is resyncing {done} ({resync['node']} is {resync['drbd']['replication_state']}): "
            "the Secondary cannot take over until it is UpToDate"
        )
    # one problem per connection state, naming every server in it: a split brain leaves both StandAlone
    unconnected: dict[str, list[str]] = {}
    for r in live:
        if r["drbd"]["connection_state"] != "Connected":
            unconnected.setdefault(str(r["drbd"]["connection_state"]), []).append(r["node"])
    problems += [_connection_problem(res, nodes, conn) for conn, nodes in unconnected.items()]
    if resync is None:
        problems += [
            _disk_problem(res, r["node"], str(r["drbd"]["disk_state"]))
            for r in live
            if r["drbd"]["disk_state"] != "UpToDate"
        ]

    if len(exporters) > 1:
        problems.append(
            f"{target} is exported by {' and '.join(exporters)} at once: a double export. Stop it on the "
            f"DRBD Secondary now: `/etc/ha.d/resource.d/ha_san-aoe-export {res} stop`"
        )
    for node in exporters:
        if node not in primaries and len(exporters) == 1:
            problems.append(f"{node} exports {target} but is not DRBD Primary for {res}")
    for node in primaries:
        row = next(r for r in rows if r["node"] == node)
        if row.get("export") is False:
            problems.append(
                f"the DRBD Primary {node} does not export {target} (resource script: stopped): clients "
                f"cannot reach {res}; see `journalctl -u ha_san-aoe-export@{res}` on {node}"
            )

    cluster = None
    if engine == "pacemaker":
        cluster, cluster_problems = pacemaker_resource(res, target, servers, node_names or {}, exporters)
        problems += cluster_problems

    client_rows = []
    for node, raw in clients.items():
        view = client_view(raw, target)
        client_rows.append({"node": node, "kind": "client", **view})
        if view["error"]:
            problems.append(
                f"client {node} {view['error']}"
                if not view["answered"]
                else f"client {node}: {view['error']}"
            )
        elif not view["seen"]:
            problems.append(
                f"client {node} does not see {target}: is it exported, and is the client's SAN interface in "
                "the aoe driver's aoe_iflist? (`aoe-discover` asks again)"
            )
        elif not view["up"]:
            problems.append(f"client {node} sees {target} {view['state']}, not up")

    holder = primaries[0] if len(primaries) == 1 and primaries[0] in exporters else None
    out = {
        "name": res,
        "target": target,
        "device": resource.get("device"),
        "holder": holder,
        "primaries": primaries,
        "exporters": exporters,
        "servers": rows,
        "clients": client_rows,
        "problems": problems,
        "degraded": bool(problems),
    }
    if cluster is not None:
        out["pacemaker"] = cluster
    return out


def heartbeat_problems(servers: dict[str, Any], primaries: set[str], secondaries: set[str]) -> list[str]:
    """Heartbeat's own state on each server, and whether it agrees with DRBD about who holds the service."""
    problems = []
    for node, raw in servers.items():
        if not server_answer(raw)[0]:
            continue
        hb = heartbeat_view(raw)
        if hb["active"] != "active":
            problems.append(
                f"Heartbeat is not running on {node} (systemctl is-active heartbeat says {hb['active']}): "
                "nothing would take over; `systemctl start heartbeat`"
            )
            continue
        for peer, status in hb["peers"].items():
            if status != "active":
                problems.append(
                    f"Heartbeat on {node} sees its peer {peer} as {status or 'unknown'}, not active"
                )
        holds = hb["holds"]
        if holds is None:
            problems.append(
                f"cannot ask Heartbeat on {node} what it holds: {_said(raw.get('rscstatus') or {})}"
            )
        elif holds == "transition":
            problems.append(f"Heartbeat on {node} is moving resources (transition)")
        elif node in primaries and not hb["holds_group"]:
            problems.append(
                f"Heartbeat on {node} holds no resources ({holds}) although DRBD is Primary there"
            )
        elif node in secondaries and hb["holds_group"]:
            problems.append(f"Heartbeat on {node} holds resources ({holds}) although DRBD is Secondary there")
    return problems


# -- Pacemaker: crm_mon --one-shot --output-as=xml ----------------------------------------------------------
# Pacemaker 2.1 and 3.0 print <pacemaker-result>, 2.0 printed <crm_mon>; the promoted role was "Master" before
# 2.1.
PCMK_PROMOTED = ("Promoted", "Master")
PCMK_IP = "service-ip"


def _true(value: str | None) -> bool:
    return str(value).lower() == "true"


def parse_crm_mon(text: str) -> dict[str, Any]:
    """crm_mon's XML as a plain dict: nodes, resource instances, failed actions; error set when it says so.

    Raises ValueError when TEXT is not crm_mon's XML at all.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from exc
    if root.tag not in ("pacemaker-result", "crm_mon"):
        raise ValueError(f"not crm_mon's XML (<{root.tag}>)")
    status = root.find("status")
    error = None
    if status is not None and status.get("code", "0") != "0":
        said = [e.text.strip() for e in status.iter("error") if e.text and e.text.strip()]
        error = "; ".join(said) or f"{status.get('message')} (code {status.get('code')})"
    dc = root.find("summary/current_dc")
    dc_present = dc is not None and _true(dc.get("present"))
    options = root.find("summary/cluster_options")
    nodes = {}
    for n in root.findall("nodes/node"):
        flags = [
            f
            for f in ("unclean", "pending", "standby", "standby_onfail", "maintenance", "shutdown")
            if _true(n.get(f))
        ]
        if not _true(n.get("online")):
            state = "UNCLEAN (offline)" if "unclean" in flags else "offline"
        elif flags:
            state = (
                flags[0].replace("standby_onfail", "standby (on-fail)").replace("shutdown", "shutting down")
            )
        else:
            state = "online"
        nodes[n.get("name", "?")] = state
    resources = []
    for parent in root.findall("resources"):
        for r in parent.iter("resource"):
            resources.append(
                {
                    "id": r.get("id", "?"),
                    "agent": r.get("resource_agent", ""),
                    "role": r.get("role", ""),
                    "active": _true(r.get("active")),
                    "failed": _true(r.get("failed")),
                    "blocked": _true(r.get("blocked")),
                    "managed": r.get("managed", "true") != "false",
                    "nodes": [n.get("name", "?") for n in r.findall("node")],
                }
            )
    failures = [
        {
            k: f.get(k)
            for k in ("op_key", "node", "exitstatus", "exitreason", "exitcode", "task", "last-rc-change")
        }
        for f in root.findall("failures/failure")
    ]
    # negative location constraints; cli-ban-* are crm_resource --ban/--move's
    bans = [{k: b.get(k) for k in ("id", "resource", "node")} for b in root.findall("bans/ban")]
    return {
        "error": error,
        "dc": dc.get("name") if dc_present and dc is not None else None,
        "quorum": dc_present and dc is not None and _true(dc.get("with_quorum")),
        "stonith_enabled": options is None or options.get("stonith-enabled", "true") != "false",
        "nodes": nodes,
        "resources": resources,
        "failures": failures,
        "bans": bans,
    }


def pacemaker_view(raw: dict[str, Any]) -> dict[str, Any]:
    """systemd's and crm_mon's view on one server; error set when crm_mon could not tell."""
    act = raw.get("pacemaker_active") or {}
    active = _first_line(act.get("stdout")) or f"unknown ({_said(act)})"
    mon = raw.get("crm_mon") or {}
    view: dict[str, Any] = {"active": active, "error": None, "dc": None, "quorum": False}
    view.update(stonith_enabled=True, nodes={}, resources=[], failures=[], bans=[])
    if mon.get("skipped") or not mon:
        view["error"] = "not asked"
        return view
    try:
        parsed = parse_crm_mon(str(mon.get("stdout") or ""))
    except ValueError as exc:
        view["error"] = f"{_said(mon)} (rc={mon.get('rc')}; {exc})"
        return view
    view.update(parsed)
    if view["error"] is None and mon.get("rc") not in (0, None):
        view["error"] = f"crm_mon exited {mon.get('rc')}"
    return view


def running_on(view: dict[str, Any], rid: str, roles: tuple[str, ...] = ()) -> list[str]:
    """The nodes on which an instance of resource RID (a clone's instances too: RID or RID:N) is active."""
    out: list[str] = []
    for r in view["resources"]:
        if (
            (r["id"] == rid or r["id"].startswith(rid + ":"))
            and r["active"]
            and (not roles or r["role"] in roles)
        ):
            out += [n for n in r["nodes"] if n not in out]
    return out


def _pcmk_views(servers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: pacemaker_view(raw) for n, raw in servers.items() if server_answer(raw)[0]}


def _reference_view(views: dict[str, dict[str, Any]], node_names: dict[str, str]) -> tuple[str, Any]:
    """(server, view) to judge the resources by: the DC's own view first, else any readable one."""
    readable = [(n, v) for n, v in views.items() if v["error"] is None]
    for n, v in readable:
        if v["dc"] is not None and v["dc"] == node_names.get(n, n):
            return n, v
    return readable[0] if readable else ("", None)


def pacemaker_resource(
    res: str, target: str, servers: dict[str, Any], node_names: dict[str, str], exporters: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """Where Pacemaker runs RES's export, promoted DRBD instance and the service IP; and its problems."""
    to_inv = {v: k for k, v in node_names.items()}
    seen_by, view = _reference_view(_pcmk_views(servers), node_names)
    cluster: dict[str, Any] = {"seen_by": seen_by or None, "export_on": [], "promoted_on": [], "ip_on": []}
    if view is None:
        return cluster, []
    export, drbd = f"export-{res}", f"drbd-{res}"

    def inv(nodes: list[str]) -> list[str]:
        return [to_inv.get(n, n) for n in nodes]

    cluster.update(
        export_on=inv(running_on(view, export)),
        promoted_on=inv(running_on(view, drbd, PCMK_PROMOTED)),
        ip_on=inv(running_on(view, PCMK_IP)),
    )
    problems = []
    ids = {r["id"].split(":")[0] for r in view["resources"]}
    if export not in ids:
        problems.append(f"Pacemaker has no resource {export} (seen by {seen_by}): run site.yml")
        return cluster, problems
    for r in view["resources"]:
        if r["id"].split(":")[0] in (export, drbd) and (r["failed"] or r["blocked"] or not r["managed"]):
            how = ", ".join(
                w
                for w, on in (
                    ("FAILED", r["failed"]),
                    ("blocked", r["blocked"]),
                    ("unmanaged", not r["managed"]),
                )
                if on
            )
            problems.append(
                f"Pacemaker reports {r['id']} {how} on {', '.join(inv(r['nodes'])) or 'no node'}: "
                f"`crm_resource --cleanup --resource {r['id'].split(':')[0]}` once the cause is repaired"
            )
    if not cluster["export_on"]:
        problems.append(
            f"Pacemaker runs {export} nowhere (stopped): clients cannot reach {target}; `crm_mon -1 -r` and "
            f"its failed actions say why, `crm_resource --cleanup --resource {export}` once repaired"
        )
    elif len(cluster["export_on"]) > 1:
        problems.append(f"Pacemaker runs {export} on {' and '.join(cluster['export_on'])} at once")
    if cluster["export_on"] and cluster["promoted_on"] != cluster["export_on"]:
        problems.append(
            f"Pacemaker runs {export} on {', '.join(cluster['export_on'])} but promotes {drbd} on "
            f"{', '.join(cluster['promoted_on']) or 'no node'}"
        )
    if not cluster["ip_on"]:
        problems.append(f"Pacemaker runs {PCMK_IP} nowhere (stopped): the service IP is down")
    elif cluster["export_on"] and cluster["ip_on"] != cluster["export_on"]:
        problems.append(
            f"Pacemaker runs {PCMK_IP} on {', '.join(cluster['ip_on'])}, not with {export} on "
            f"{', '.join(cluster['export_on'])}"
        )
    if cluster["export_on"] and exporters and sorted(exporters) != sorted(cluster["export_on"]):
        problems.append(
            f"Pacemaker runs {export} on {', '.join(cluster['export_on'])} but the resource script says "
            f"{', '.join(exporters)} exports {target}"
        )
    return cluster, problems


def pacemaker_problems(servers: dict[str, Any], node_names: dict[str, str]) -> list[str]:
    """Pacemaker's state as each server sees it: running, nodes online, quorum, failed actions, fencing."""
    to_inv = {v: k for k, v in node_names.items()}
    problems: list[str] = []
    for node, view in _pcmk_views(servers).items():
        if view["active"] != "active":
            problems.append(
                f"Pacemaker is not running on {node} (systemctl is-active pacemaker says {view['active']}): "
                "nothing would take over there; `systemctl start pacemaker`"
            )
            continue
        if view["error"]:
            problems.append(f"cannot read Pacemaker's status on {node} (crm_mon): {view['error']}")
            continue
        for peer, state in view["nodes"].items():
            if state != "online":
                problems.append(f"Pacemaker on {node} sees {to_inv.get(peer, peer)} {state}, not online")
        if view["dc"] is None:
            problems.append(f"Pacemaker on {node} has no DC (the cluster is forming or split)")
        elif not view["quorum"]:
            problems.append(f"Pacemaker on {node} has no quorum")
        if not view["stonith_enabled"]:
            problems.append(f"Pacemaker on {node} has stonith-enabled=false: nothing prevents two Primaries")
        for f in view["failures"]:
            rid = str(f["op_key"] or "?").rsplit("_", 2)[0]
            reason = f" ({f['exitreason']})" if f.get("exitreason") else ""
            problems.append(
                f"failed action {f['op_key']} on {to_inv.get(f['node'] or '', f['node'])}: {f['exitstatus']}"
                f"{reason} at {f['last-rc-change']}; once repaired `crm_resource --cleanup --resource {rid}`"
            )
        for b in view["bans"]:
            if str(b["id"]).startswith("cli-"):
                off = to_inv.get(b["node"] or "", b["node"])
                problems.append(
                    f"constraint {b['id']} (left by crm_resource --ban or --move) keeps {b['resource']} off "
                    f"{off}: `crm_resource --clear --resource {b['resource']}`"
                )
        fences = [r for r in view["resources"] if r["agent"].startswith("stonith:")]
        if not fences:
            problems.append(f"Pacemaker on {node} has no fence device: a partition could leave two Primaries")
        for r in fences:
            if not r["active"]:
                problems.append(
                    f"fence device {r['id']} is stopped: Pacemaker cannot fence through it; `crm_mon -1 -r` "
                    f"says why, `crm_resource --cleanup --resource {r['id']}` once repaired"
                )
    return list(dict.fromkeys(problems))


# -- the table -----------------------------------------------------------------------------------------------
HEADER = ("node", "drbd role", "peer role", "disk", "peer disk", "connection", "sync", "export", "heartbeat")


def _sync(d: dict[str, Any]) -> str:
    pct = d.get("sync_percent")
    return f"{pct:g}%" if isinstance(pct, (int, float)) else "-"


def _pacemaker_cell(pm: dict[str, Any], me: str, res: str, to_inv: dict[str, str]) -> str:
    """Pacemaker on this server: this node's state, what of RES it runs here, how it sees the peer."""
    if pm["active"] != "active":
        return pm["active"]
    if pm["error"]:
        return "active, crm_mon: ?"
    runs = [
        what
        for what, on in (
            ("export", running_on(pm, f"export-{res}")),
            ("Promoted", running_on(pm, f"drbd-{res}", PCMK_PROMOTED)),
            ("IP", running_on(pm, PCMK_IP)),
        )
        if me in on
    ]
    peers = ",".join(f"{to_inv.get(p, p)} {s}" for p, s in pm["nodes"].items() if p != me)
    return f"{pm['nodes'].get(me, '?')}, runs {'+'.join(runs) or 'nothing'}, peer {peers or '-'}"


def _heartbeat_cell(hb: dict[str, Any]) -> str:
    if hb["active"] != "active":
        return hb["active"]
    peers = ",".join(f"{p} {s or '?'}" for p, s in hb["peers"].items())
    return f"active, holds {hb['holds'] or '?'}, peer {peers or '-'}"


def table(res: dict[str, Any], node_names: dict[str, str] | None = None) -> list[str]:
    """The resource's lines: a title, a header, one line per server and per client, then its problems.

    No line starts with a space or a YAML indicator, so Ansible's YAML and JSON callbacks print them as
    they are, one per line.
    """
    verdict = f"served by {res['holder']}" if res["holder"] else "NOT SERVED"
    state = "DEGRADED" if res["degraded"] else "OK"
    lines = [f"{res['name']} = {res['target']} ({res['device']}) {state}, {verdict}"]
    pacemaker = "pacemaker" in res
    cells: list[tuple[str, ...]] = [(*HEADER[:-1], "pacemaker") if pacemaker else HEADER]
    names = node_names or {}
    to_inv = {v: k for k, v in names.items()}
    for r in res["servers"]:
        if not r["answered"]:
            cells.append((r["node"], r["error"]))
            continue
        d = r["drbd"]
        if d["error"]:
            drbd_cells: tuple[str, ...] = ("?", "?", "?", "?", "?", "-")
        elif not d["up"]:
            drbd_cells = ("down", "-", "-", "-", "-", "-")
        else:
            drbd_cells = (
                d["role"],
                d["peer_role"],
                d["disk_state"],
                d["peer_disk_state"],
                d["connection_state"],
                _sync(d),
            )
        export = {True: "running", False: "stopped"}.get(r["export"], "?")
        if pacemaker:
            engine_cell = _pacemaker_cell(
                r["pacemaker"], names.get(r["node"], r["node"]), res["name"], to_inv
            )
        else:
            engine_cell = _heartbeat_cell(r["heartbeat"])
        cells.append((r["node"], *map(str, drbd_cells), export, engine_cell))
    widths = [max(len(c[i]) for c in cells if len(c) == len(HEADER)) for i in range(len(HEADER))]
    widths[0] = max([widths[0]] + [len(r["node"]) for r in res["servers"] + res["clients"]])
    for c in cells:
        if len(c) == len(HEADER):
            lines.append("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
        else:
            lines.append(f"{c[0].ljust(widths[0])}  {c[1]}")
    for r in res["clients"]:
        if r["error"]:
            seen = r["error"]
        elif not r["seen"]:
            seen = f"AoE client, does not see {res['target']}"
        else:
            via = ",".join(r.get("interfaces") or []) or "?"
            seen = f"AoE client, sees {res['target']} {r['state']} on {via} from {r.get('mac') or '?'}"
        lines.append(f"{r['node'].ljust(widths[0])}  {seen}")
    lines += [f"PROBLEM {p}" for p in res["problems"]]
    return lines


# -- the whole report ----------------------------------------------------------------------------------------
def assess(facts: Facts, now: float | None = None) -> dict[str, Any]:
    """The full report: resources (rows, problems, table lines), Heartbeat's problems, the verdict."""
    servers = facts.get("servers") or {}
    clients = facts.get("clients") or {}
    engine = str(facts.get("engine") or "heartbeat")
    node_names = {str(k): str(v) for k, v in (facts.get("node_names") or {}).items()}
    resources = [
        assess_resource(r, servers, clients, engine, node_names) for r in facts.get("resources") or []
    ]
    for r in resources:
        r["lines"] = table(r, node_names)
    primaries = {n for r in resources for n in r["primaries"]}
    secondaries = {
        s["node"]
        for r in resources
        for s in r["servers"]
        if s.get("drbd") and s["drbd"]["role"] == "Secondary"
    } - primaries
    if engine == "pacemaker":
        cluster = pacemaker_problems(servers, node_names)
    else:
        cluster = heartbeat_problems(servers, primaries, secondaries)
    problems = [p for r in resources for p in r["problems"]] + cluster
    if not resources:
        problems.append("ha_san_resources is empty: nothing to report on")
    lines = [line for r in resources for line in r["lines"]] + [f"PROBLEM {p}" for p in cluster]
    report = {
        "degraded": bool(problems),
        "problems": problems,
        "cluster_problems": cluster,
        "resources": resources,
        "lines": lines,
        "generated_at": time.time() if now is None else now,
    }
    if engine != "heartbeat":
        report["engine"] = engine
    return report


def verdict(facts: Facts) -> tuple[bool, list[str], list[str]]:
    """(degraded, problems, table lines) for the collected facts."""
    report = assess(facts)
    return report["degraded"], report["problems"], report["lines"]


# -- node_exporter textfile ----------------------------------------------------------------------------------
def _labels(**kv: str) -> str:
    esc = {k: str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for k, v in kv.items()}
    return "{" + ",".join(f'{k}="{v}"' for k, v in esc.items()) + "}"


METRICS = {
    "ha_san_degraded": "1 when status.yml found anything degraded, else 0.",
    "ha_san_problems": "Number of problems status.yml found.",
    "ha_san_node_answered": "1 when the host answered status.yml.",
    "ha_san_heartbeat_active": "1 when Heartbeat runs on the server.",
    "ha_san_pacemaker_active": "1 when Pacemaker runs on the server.",
    "ha_san_pacemaker_export_running": "1 when Pacemaker runs the resource's export on the server.",
    "ha_san_drbd_primary": "1 when the server is DRBD Primary for the resource.",
    "ha_san_drbd_connected": "1 when the resource is Connected on the server.",
    "ha_san_drbd_uptodate": "1 when the server's disk of the resource is UpToDate.",
    "ha_san_drbd_sync_percent": "DRBD's sync progress for the resource as the server reports it.",
    "ha_san_export_running": "1 when the server exports the resource (the resource script's status).",
    "ha_san_client_target_up": "1 when the client's aoe driver sees the resource's target up.",
    "ha_san_status_timestamp_seconds": "When status.yml judged the SAN (Unix time).",
}


def textfile(report: dict[str, Any]) -> str:
    samples: dict[str, list[str]] = {m: [] for m in METRICS}
    samples["ha_san_degraded"].append(f"ha_san_degraded {int(report['degraded'])}")
    samples["ha_san_problems"].append(f"ha_san_problems {len(report['problems'])}")
    seen: set[str] = set()
    for res in report["resources"]:
        for r in res["servers"]:
            node = r["node"]
            if node not in seen:
                seen.add(node)
                samples["ha_san_node_answered"].append(
                    f"ha_san_node_answered{_labels(node=node)} {int(r['answered'])}"
                )
                if r["answered"] and "pacemaker" in r:
                    active = int(r["pacemaker"]["active"] == "active")
                    samples["ha_san_pacemaker_active"].append(
                        f"ha_san_pacemaker_active{_labels(node=node)} {active}"
                    )
                elif r["answered"]:
                    active = int(r["heartbeat"]["active"] == "active")
                    samples["ha_san_heartbeat_active"].append(
                        f"ha_san_heartbeat_active{_labels(node=node)} {active}"
                    )
            if "pacemaker" in res:
                on = int(node in res["pacemaker"]["export_on"])
                samples["ha_san_pacemaker_export_running"].append(
                    f"ha_san_pacemaker_export_running{_labels(resource=res['name'], node=node)} {on}"
                )
            if not r["answered"] or r["drbd"]["error"]:
                continue
            d, lab = r["drbd"], _labels(resource=res["name"], node=node)
            samples["ha_san_drbd_primary"].append(f"ha_san_drbd_primary{lab} {int(d['role'] == 'Primary')}")
            samples["ha_san_drbd_connected"].append(
                f"ha_san_drbd_connected{lab} {int(d['connection_state'] == 'Connected')}"
            )
            samples["ha_san_drbd_uptodate"].append(
                f"ha_san_drbd_uptodate{lab} {int(d['disk_state'] == 'UpToDate')}"
            )
            if isinstance(d["sync_percent"], (int, float)):
                samples["ha_san_drbd_sync_percent"].append(
                    f"ha_san_drbd_sync_percent{lab} {d['sync_percent']:g}"
                )
            if r["export"] is not None:
                samples["ha_san_export_running"].append(f"ha_san_export_running{lab} {int(r['export'])}")
        for c in res["clients"]:
            lab = _labels(resource=res["name"], target=res["target"], client=c["node"])
            samples["ha_san_client_target_up"].append(f"ha_san_client_target_up{lab} {int(c['up'])}")
    samples["ha_san_status_timestamp_seconds"].append(
        f"ha_san_status_timestamp_seconds {report['generated_at']:.3f}"
    )
    out = []
    for name, help_text in METRICS.items():
        if samples[name]:
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", *samples[name]]
    return "\n".join(out) + "\n"


def write_atomically(path: str, text: str) -> None:
    """Write PATH through a temporary file in its folder and a rename: readers see the old or the new file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ha_san_status.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("facts", help="the collected facts as JSON, or - for standard input")
    p.add_argument("--json-out", help="also write the report here")
    p.add_argument(
        "--textfile", help="write node_exporter gauges here (e.g. .../textfile_collector/ha_san.prom)"
    )
    p.add_argument(
        "--crm-mon", action="store_true", help="FACTS is crm_mon --output-as=xml: print it read, as JSON"
    )
    a = p.parse_args(argv)
    if a.crm_mon:
        try:
            text = sys.stdin.read() if a.facts == "-" else Path(a.facts).read_text(encoding="utf-8")
            parsed = parse_crm_mon(text)
        except (OSError, ValueError) as exc:
            print(f"cannot read crm_mon's XML {a.facts}: {exc}", file=sys.stderr)
            return 2
        sys.stdout.write(json.dumps(parsed, indent=2, sort_keys=True) + "\n")
        return 0
    try:
        if a.facts == "-":
            facts = json.load(sys.stdin)
        else:
            with open(a.facts, encoding="utf-8") as f:
                facts = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"cannot read the collected facts {a.facts}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(facts, dict):
        print(f"the collected facts in {a.facts} are not a JSON object", file=sys.stderr)
        return 2
    report = assess(facts)
    text = json.dumps(report, indent=2, sort_keys=True) + "\n"
    if a.json_out:
        write_atomically(a.json_out, text)
    if a.textfile:
        write_atomically(a.textfile, textfile(report))
    sys.stdout.write(text)
    return 1 if report["degraded"] else 0


if __name__ == "__main__":
    sys.exit(main())
