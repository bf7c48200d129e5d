"""site.yml and the failover drills on the lab's real VMs (runs last: the file name sorts after the other
lab tests, which need idle servers; test_modules skips itself once DRBD r0 is in use).

1. site.yml converges from whatever the earlier tests left: every DRBD resource of the lab inventory
   Connected UpToDate/UpToDate, Heartbeat on both servers, the group (every resource Primary, each export on
   its floating MAC, the service IP) on exactly one server, the client sees every export up (aoe_stat).
2. The client runs the aoe driver it built (when the inventory asks for aoe_client_driver: build).
3. The drills (playbooks/failover_drill.yml), each against whichever server is Primary then: crash
   (power loss), partition (both storage cables of the primary: STONITH must fence it), san_unplug (the
   primary's SAN cable: ipfail moves the group, nobody is fenced; optional) and export_kill (vblade killed on
   the primary: systemd restarts it in place, nothing moves). The other faults run in `make drill`. Each: no
   acknowledged write lost, no unresolved split brain, no double export, the failed node rejoins Secondary and
   resyncs by itself. Timings are printed, not judged.
4. site.yml run again after the failovers changes nothing (PLAY RECAP: the idempotence check, made
   stricter by coming after the failovers) and keeps the current Primary. Check mode is covered per role by
   molecule; the lab tier keeps to what only the real stack can show, to stay within CI's time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO_ROOT, SERVERS, lab_ssh

pytestmark = pytest.mark.lab

PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
INVENTORY = REPO_ROOT / "inventories" / "lab"
VIP = "192.0.2.100"


def inventory_resources() -> list[dict[str, str]]:
    """The lab inventory's exports: resource, AoE target, floating MAC, macvlan (vblade_target's)."""
    import yaml

    group_vars = yaml.safe_load((INVENTORY / "group_vars" / "all.yml").read_text(encoding="utf-8"))
    return [
        {
            "res": r["name"],
            "target": f"e{r['shelf']}.{r['slot']}",
            "mac": f"02:ae:{r['shelf'] // 256:02x}:{r['shelf'] % 256:02x}:00:{r['slot']:02x}",
            "macvlan": f"aoe{r['shelf']}_{r['slot']}",
        }
        for r in group_vars["ha_san_resources"]
    ]


RESOURCES = inventory_resources()
# The drills' writer targets the first export (drill_target); the end-state checks cover every export.
RES, TARGET, MAC, MACVLAN = (RESOURCES[0][k] for k in ("res", "target", "mac", "macvlan"))
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
REPORTS = REPO_ROOT / "drill-reports"


def mitogen_env() -> dict[str, str]:
    """Ansible settings for Mitogen's linear strategy: one Python per host for the whole run, where the
    default starts a new one for every task, which on the lab's emulated CPUs costs more than most tasks do.
    Molecule runs the roles with Ansible's own strategy. Host keys: the lab's VMs make new ones at every boot,
    and Mitogen checks them itself (the inventory's SSH options turn ssh's own check off)."""
    import ansible_mitogen  # the venv's (requirements.txt)

    return {
        "ANSIBLE_STRATEGY_PLUGINS": str(Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"),
        "ANSIBLE_STRATEGY": "mitogen_linear",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
    }


def playbook(*args: str, timeout: float = 1800) -> tuple[subprocess.CompletedProcess[str], float]:
    # site.yml only: the drills keep Ansible's own strategy, so their figures compare with `make drill`'s.
    fast = mitogen_env() if args[:1] == ("site.yml",) else {}
    env = dict(os.environ, **fast, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    t0 = time.monotonic()
    r = subprocess.run(
        [PLAYBOOK, "-i", str(INVENTORY), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return r, time.monotonic() - t0


def recap(out: str) -> dict[str, dict[str, int]]:
    rows = {
        m.group(1): {
            "ok": int(m.group(2)),
            "changed": int(m.group(3)),
            "unreachable": int(m.group(4)),
            "failed": int(m.group(5)),
        }
        for m in RECAP.finditer(out)
    }
    assert rows, f"no PLAY RECAP in the output:\n{out[-3000:]}"
    return rows


def changed_tasks(out: str) -> list[str]:
    """The TASK headers under which a host reported `changed:` (for a readable failure)."""
    names, task = [], ""
    for line in out.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif line.startswith("changed:"):
            names.append(f"{task} {line[:120]}")
    return names


def ok_run(r: subprocess.CompletedProcess[str], what: str) -> dict[str, dict[str, int]]:
    assert r.returncode == 0, f"{what} failed ({r.returncode}):\n{r.stdout[-6000:]}\n{r.stderr[-2000:]}"
    rows = recap(r.stdout)
    assert all(v["failed"] == 0 and v["unreachable"] == 0 for v in rows.values()), rows
    return rows


def drbd_state(node: str, res: str = RES) -> dict[str, str]:
    r = lab_ssh(node, f"drbdadm role {res}; drbdadm cstate {res}; drbdadm dstate {res}")
    lines = r.stdout.split()
    assert r.returncode == 0 and len(lines) == 3, f"{node}: {r.stdout}{r.stderr}"
    role, peer_role = lines[0].split("/")
    disk, peer_disk = lines[2].split("/")
    return {"role": role, "peer_role": peer_role, "cstate": lines[1], "disk": disk, "peer_disk": peer_disk}


def group_state(node: str) -> dict[str, bool]:
    """What NODE runs of the group: every export (vblade on its floating MAC), the service IP, the engine."""
    exports = "; ".join(
        f"pgrep -f '^vblade .* {r['macvlan']} ' >/dev/null && echo vblade-{r['res']}; "
        f"ip -o link show {r['macvlan']} 2>/dev/null | grep -qi {r['mac']} && echo mac-{r['res']}"
        for r in RESOURCES
    )
    r = lab_ssh(
        node,
        f"{exports}; pgrep -x vblade >/dev/null && echo vblade; "
        f"ip -o -4 addr show | grep -q 'inet {VIP}/' && echo vip; "
        "systemctl is-active --quiet heartbeat && echo heartbeat",
    )
    words = set(r.stdout.split())
    keys = ["vblade", "vip", "heartbeat"] + [f"{k}-{r['res']}" for r in RESOURCES for k in ("vblade", "mac")]
    state = {k: k in words for k in keys}
    state["mac"] = all(state[f"mac-{r['res']}"] for r in RESOURCES)
    state["exports"] = all(state[f"vblade-{r['res']}"] for r in RESOURCES)
    return state


def assert_end_state(expect_primary: str | None = None) -> str:
    """The converged stack; returns the server that holds the group."""
    holders = set()
    for res in RESOURCES:  # one group: every resource Primary on the same server
        states = {n: drbd_state(n, res["res"]) for n in SERVERS}
        for n, s in states.items():
            assert s["cstate"] == "Connected" and s["disk"] == "UpToDate" and s["peer_disk"] == "UpToDate", (
                res["res"],
                n,
                s,
            )
        primaries = [n for n, s in states.items() if s["role"] == "Primary"]
        assert len(primaries) == 1, (res["res"], states)
        holders.add(primaries[0])
    assert len(holders) == 1, f"the group's resources are Primary on different servers: {holders}"
    holder = holders.pop()
    if expect_primary:
        assert holder == expect_primary, f"the Primary moved to {holder}"
    groups = {n: group_state(n) for n in SERVERS}
    assert all(g["heartbeat"] for g in groups.values()), groups
    assert groups[holder]["exports"] and groups[holder]["mac"] and groups[holder]["vip"], groups
    other = next(n for n in SERVERS if n != holder)
    assert not (
        groups[other]["vblade"]
        or any(groups[other][f"mac-{r['res']}"] for r in RESOURCES)
        or groups[other]["vip"]
    ), groups
    # the client, through the collection's own module
    r = subprocess.run(
        [
            str(Path(sys.executable).with_name("ansible")),
            "-i",
            str(INVENTORY),
            "clients",
            "-m",
            "ha_san.aoe.aoe_stat",
            "-a",
            json.dumps({"wait_for": [r["target"] for r in RESOURCES], "state": "up", "timeout": 60}),
        ],
        cwd=REPO_ROOT,
        env=dict(
            os.environ,
            ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
            ANSIBLE_STDOUT_CALLBACK="json",
            ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout)["plays"][0]["tasks"][0]["hosts"]["client"]
    targets = {t["name"]: t for t in result["targets"]}
    for res in RESOURCES:
        assert targets[res["target"]]["state"] == "up", targets
        # the client talks to the floating MAC, wherever the export runs
        assert targets[res["target"]]["mac"] == res["mac"].replace(":", ""), targets
    return holder


@pytest.fixture(scope="module")
def converged(lab: dict[str, Any]) -> dict[str, Any]:
    r, took = playbook("site.yml")
    print(f"\nsite.yml converge: {took:.0f} s, recap {recap(r.stdout) if 'PLAY RECAP' in r.stdout else '-'}")
    rows = ok_run(r, "site.yml (converge)")
    return {"took": took, "recap": rows}


def test_site_converges(converged: dict[str, Any]) -> None:
    holder = assert_end_state()
    print(f"group on {holder}")


def test_status_shows_every_export_healthy(converged: dict[str, Any], tmp_path: Path) -> None:
    """status.yml on the converged lab: exit 0, a table per export, its JSON agrees with the hosts."""
    report_path = tmp_path / "status.json"
    r, took = playbook("playbooks/status.yml", "-e", f"status_json_path={report_path}", timeout=600)
    shown = r.stdout[r.stdout.find("TASK [Show one table") :]
    print(f"\nstatus.yml: {took:.0f} s, rc {r.returncode}\n{shown[:3000]}")
    assert r.returncode == 0, f"status.yml says degraded or failed:\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    holder = assert_end_state()
    assert not report["degraded"], report["problems"]
    by_name = {res["name"]: res for res in report["resources"]}
    assert sorted(by_name) == sorted(res["res"] for res in RESOURCES), by_name.keys()
    for res in RESOURCES:
        row = by_name[res["res"]]
        assert (row["target"], row["holder"], row["exporters"]) == (res["target"], holder, [holder]), row


def test_client_runs_the_built_aoe_driver(converged: dict[str, Any]) -> None:
    """aoe_client_driver: build in the lab's inventory: the patched driver is the one loaded on the client."""
    import yaml  # only this test reads the inventory

    group_vars = yaml.safe_load((INVENTORY / "group_vars" / "all.yml").read_text(encoding="utf-8"))
    if group_vars.get("aoe_client_driver", "in_kernel") != "build":
        pytest.skip("inventories/lab sets no aoe_client_driver: build")
    scorn = str(group_vars.get("aoe_client_module_options", {}).get("aoe_scorn_secs", 10))
    r = lab_ssh(
        "client",
        "cat /sys/module/aoe/version; modinfo -n aoe; modinfo -F vermagic aoe; uname -r;"
        " cat /sys/module/aoe/parameters/aoe_scorn_secs",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    version, path, vermagic, release, scorn_now = r.stdout.splitlines()[:5]
    print(f"\nclient: aoe {version} from {path}, vermagic {vermagic}, aoe_scorn_secs {scorn_now}")
    assert version == "85+ha_san.1"
    assert path.startswith(f"/lib/modules/{release}/updates/"), path
    assert vermagic.startswith(release + " "), (vermagic, release)
    assert scorn_now == scorn


def test_drbd_links_come_from_the_role_rule_without_drbdadm(converged: dict[str, Any]) -> None:
    """The drbd role's udev rule masks the package's; udev made its links on both servers."""
    for node in SERVERS:
        r = lab_ssh(
            node,
            "readlink -e /dev/drbd/by-res/r0/0 || echo missing;"
            " readlink -e /dev/drbd/by-disk/vdb || echo missing;"
            " grep -v '^#' /etc/udev/rules.d/65-drbd.rules | grep -c drbdadm || true",
        )
        assert r.returncode == 0, r.stdout + r.stderr
        by_res, by_disk, drbdadm_lines = r.stdout.splitlines()[:3]
        assert (by_res, by_disk) == ("/dev/drbd0", "/dev/drbd0"), (node, r.stdout)
        assert drbdadm_lines == "0", (node, r.stdout)


PROBE = REPO_ROOT / "molecule" / "vblade_target" / "files" / "aoe_probe.py"
STRANGER = "02:00:00:00:99:01"  # a MAC the inventory does not know, on the client's own SAN cable


@pytest.mark.optional
def test_only_the_inventory_clients_may_use_the_export(converged: dict[str, Any]) -> None:
    """vblade_target_allowed_macs: clients (the default): the export answers the client's SAN MAC only.
    A second MAC on the client's SAN interface gets no answer to an ATA read; the client keeps working."""
    holder = assert_end_state()
    client_mac = lab_ssh("client", "cat /sys/class/net/eth1/address").stdout.strip()
    for node in SERVERS:
        conf = lab_ssh(node, "grep ^ALLOWED_MACS= /etc/ha_san/exports/r0.conf").stdout.strip()
        assert conf == f"ALLOWED_MACS={client_mac}", (node, conf)
    probe = PROBE.read_text(encoding="utf-8")
    setup = (
        f"cat > /tmp/aoe_probe.py <<'EOF'\n{probe}EOF\n"
        f"ip link add link eth1 name stranger address {STRANGER} up type macvlan mode bridge"
    )
    assert lab_ssh("client", setup).returncode == 0
    try:
        stranger = lab_ssh("client", f"python3 /tmp/aoe_probe.py stranger read 0 3 {MAC} 3")
        assert stranger.returncode == 0, stranger.stderr
        assert json.loads(stranger.stdout) == [], f"{holder} answered a MAC outside the allow-list"
    finally:
        lab_ssh("client", "ip link del stranger")
    # the real client reads through the same export (its aoe driver, the same MAC on the wire)
    r = lab_ssh("client", "dd if=/dev/etherd/e0.3 of=/dev/null bs=4096 count=16 iflag=direct status=none")
    assert r.returncode == 0, r.stderr


def run_drill(fault: str) -> dict[str, Any]:
    before = {n: drbd_state(n)["role"] for n in SERVERS}
    victim = next(n for n, role in before.items() if role == "Primary")
    run = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{fault}-pytest"
    r, took = playbook("playbooks/failover_drill.yml", "-e", f"drill_fault={fault}", "-e", f"drill_run={run}")
    report_path = REPORTS / run / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    lines = [f"{fault} drill: {took:.0f} s, victim {victim}, report {report_path}"]
    if report:
        lines.append(
            f"  stall_s={report['stall_s']} acked={report['acked']} lost={report['lost']} "
            f"fenced={[f.get('node') for f in report['fenced'] or []]} split_brain={report['split_brain']} "
            f"double_export={report['double_export']}"
        )
        lines += [
            f"  {ev['t_rel']:+8.2f} {ev['node']:<11} {ev['event'][:110]}"
            for ev in report["timeline"]
            if -2 <= (ev.get("t_rel") or 0) <= 60
        ]
    print("\n" + "\n".join(lines))  # shown with the failure below; test_crash_drill shows it always
    assert report is not None, f"no report written:\n{r.stdout[-6000:]}\n{r.stderr[-2000:]}"
    assert report["lost"] == 0, f"{report['lost']} acknowledged blocks lost"
    assert report["acked"] > 0
    sb = report["split_brain"] or {}
    assert not sb.get("detected") or sb.get("resolved"), f"split brain left unresolved: {sb}"
    assert not report["double_export"], "e0.3 was exported by both servers at once"
    assert r.returncode == 0, f"the drill play failed:\n{r.stdout[-6000:]}\n{r.stderr[-2000:]}"
    return {"victim": victim, "report": report, "lines": lines}


@pytest.fixture(scope="module")
def crash_drill(converged: dict[str, Any]) -> dict[str, Any]:
    return run_drill("crash")


def test_crash_drill(crash_drill: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():  # the drill's figures belong in the test output, pass or fail
        print("\n" + "\n".join(crash_drill["lines"]))
    survivor = next(n for n in SERVERS if n != crash_drill["victim"])
    assert drbd_state(survivor)["role"] == "Primary"
    assert drbd_state(crash_drill["victim"])["role"] == "Secondary"


def test_the_crashed_server_loaded_macvlan_at_boot(crash_drill: dict[str, Any]) -> None:
    """vblade_target's modules-load.d file: the rebooted victim has the driver before a takeover needs it."""
    r = lab_ssh(
        crash_drill["victim"], "test -d /sys/module/macvlan && echo loaded; ip -o link show type macvlan"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[:1] == ["loaded"], r.stdout
    assert len(lines) == 1, f"the Secondary has a macvlan, so an export loaded the driver: {r.stdout}"


def fenced_nodes(report: dict[str, Any]) -> list[str]:
    return [f.get("node") for f in report["fenced"] or []]


@pytest.fixture(scope="module")
def partition_drill(crash_drill: dict[str, Any]) -> dict[str, Any]:
    return run_drill("partition")


def test_partition_drill(partition_drill: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """Both Heartbeat paths of the primary cut: the survivor must fence it (dopd alone lost 647 writes)."""
    with capsys.disabled():
        print("\n" + "\n".join(partition_drill["lines"]))
    victim = partition_drill["victim"]
    survivor = next(n for n in SERVERS if n != victim)
    assert fenced_nodes(partition_drill["report"]) == [victim], partition_drill["report"]["fenced"]
    assert drbd_state(survivor)["role"] == "Primary"
    assert drbd_state(victim)["role"] == "Secondary"


@pytest.fixture(scope="module")
def san_unplug_drill(partition_drill: dict[str, Any]) -> dict[str, Any]:
    return run_drill("san_unplug")


@pytest.mark.optional
def test_san_unplug_drill(san_unplug_drill: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """The primary's SAN cable pulled: it loses the ping node, ipfail hands the group over; nobody is shot."""
    with capsys.disabled():
        print("\n" + "\n".join(san_unplug_drill["lines"]))
    victim = san_unplug_drill["victim"]
    survivor = next(n for n in SERVERS if n != victim)
    assert fenced_nodes(san_unplug_drill["report"]) == [], san_unplug_drill["report"]["fenced"]
    assert drbd_state(survivor)["role"] == "Primary"
    assert drbd_state(victim)["role"] == "Secondary"


@pytest.fixture(scope="module")
def export_kill_drill(partition_drill: dict[str, Any]) -> dict[str, Any]:
    return run_drill("export_kill")


def test_export_kill_drill(export_kill_drill: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """kill -9 of vblade on the Primary: systemd restarts the export in place; nothing moves, nobody shot."""
    with capsys.disabled():
        print("\n" + "\n".join(export_kill_drill["lines"]))
    victim = export_kill_drill["victim"]
    survivor = next(n for n in SERVERS if n != victim)
    assert fenced_nodes(export_kill_drill["report"]) == [], export_kill_drill["report"]["fenced"]
    assert drbd_state(victim)["role"] == "Primary"
    assert drbd_state(survivor)["role"] == "Secondary"
    assert group_state(victim)["vblade"] and not group_state(survivor)["vblade"]


def test_site_rerun_after_the_failovers_changes_nothing(export_kill_drill: dict[str, Any]) -> None:
    """A real site.yml run after the failovers: 0 changed, the Primary is where Heartbeat put it."""
    survivor = export_kill_drill["victim"]  # the export was restarted in place: the holder did not change
    r, took = playbook("site.yml")
    rows = ok_run(r, "site.yml (after the failovers)")
    print(f"\nsite.yml after the failovers: {took:.0f} s, recap {rows}")
    assert all(v["changed"] == 0 for v in rows.values()), changed_tasks(r.stdout)
    assert_end_state(expect_primary=survivor)
