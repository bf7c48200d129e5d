"""Capture what DRBD and AoE tools really print, in every state the modules must parse.

    python3 -m lab.capture_fixtures [--only drbd|aoe] [--out tests/unit/fixtures]

Drives the running lab (``python3 -m lab up`` first) through the states below and writes one JSON
file per state into ``tests/unit/fixtures/drbd/`` and ``tests/unit/fixtures/aoe/``, holding the exact
rc, stdout and stderr of every command ``ha_san.aoe.drbdadm`` / ``ha_san.aoe.aoe_stat`` run or read,
so the parsers are tested on real output and refreshing them for a new Debian release is this one
command (after ``lab build`` with the new release).

DRBD (servers ``primary`` and ``secondary``, resource ``r0`` on ``/dev/vdb`` over the replication
network): down (module not loaded, and loaded), WFConnection, Connected with both Inconsistent,
SyncSource / SyncTarget with a percentage, Primary/Secondary UpToDate, Secondary/Primary, peer
Outdated (replication cable pulled, fence-peer handler says "outdated"), StandAlone after a split
brain, Diskless (and the peer's view of it).

AoE (file-backed vblade exports ``e7.1``-``e7.3`` on the servers, seen by ``client``): no targets,
one target up, several targets, a target ``down,closewait`` (held open while the exporting server's
SAN cable is out) and ``down``.

It leaves the VMs as it found them: resource down, its files removed, vblades stopped, the client's
aoe driver emptied (and unloaded, the drbd module too, when they were not loaded before). It refuses
to start when DRBD is already configured on a server, so it never disturbs a running cluster.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

RES = "r0"
RES_FILE = f"/etc/drbd.d/{RES}.res"
HANDLER = "/usr/local/sbin/ha-san-capture-fence-peer"
SERVERS = ("primary", "secondary")
SYSFS_FILES = ("size", "state", "netif", "payload", "mac", "firmware-version", "fwver", "dev")

# The remote side: run each command (argv list, no shell), read files, or read the AoE sysfs,
# and print everything as one JSON document. Runs under the VM's python3.
REMOTE = r"""
import glob, json, os, subprocess, sys
cmds = json.loads(sys.argv[1])
files = json.loads(sys.argv[2])
out = []
env = dict(os.environ, LC_ALL="C")
for c in cmds:
    if c[0] == "@read":
        try:
            with open(c[1]) as fh:
                out.append({"read": c[1], "exists": True, "content": fh.read()})
        except OSError as e:
            out.append({"read": c[1], "exists": False, "error": f"{type(e).__name__}: {e}"})
    elif c[0] == "@sysfs":
        entries = {}
        for d in sorted(glob.glob("/sys/block/etherd!*")):
            got = {}
            for f in files:
                try:
                    with open(os.path.join(d, f)) as fh:
                        got[f] = fh.read()
                except OSError:
                    pass
            entries[os.path.basename(d)] = got
        out.append({"sysfs": "/sys/block/etherd!*", "entries": entries,
                    "driver_loaded": os.path.isdir("/sys/module/aoe")})
    else:
        p = subprocess.run(c, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        out.append({"argv": c, "rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr})
print(json.dumps(out))
"""

DRBD_COMMANDS = [
    ["drbdadm", "sh-resources"],
    ["@read", "/proc/drbd"],
    ["drbdadm", "status", RES],
    ["drbdadm", "role", RES],
    ["drbdadm", "cstate", RES],
    ["drbdadm", "dstate", RES],
    ["drbdadm", "get-gi", RES],
]
AOE_COMMANDS = [["@sysfs"], ["aoe-stat"]]


def say(msg: str) -> None:
    print(f"[capture {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def lab(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(
        [sys.executable, "-m", "lab", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and p.returncode != 0:
        raise SystemExit(f"lab {' '.join(args)} failed (rc={p.returncode}):\n{p.stdout}{p.stderr}")
    return p


def sh(node: str, script: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a bash script on NODE (set -e); fail the capture when it fails and CHECK."""
    return lab(
        "ssh", node, "--", "bash", "-euo", "pipefail", "-s", stdin=textwrap.dedent(script), check=check
    )


def collect(node: str, commands: list) -> list:
    p = lab(
        "ssh",
        node,
        "--",
        "python3",
        "-c",
        _quote(REMOTE),
        _quote(json.dumps(commands)),
        _quote(json.dumps(SYSFS_FILES)),
    )
    return json.loads(p.stdout)


def _quote(text: str) -> str:
    # ssh joins its arguments with spaces and hands them to the remote shell: quote for it
    return "'" + text.replace("'", "'\"'\"'") + "'"


class Writer:
    def __init__(self, out: Path, env: dict) -> None:
        self.out = out
        self.env = env
        self.written: list[Path] = []

    def save(self, kind: str, state: str, node: str, description: str, commands: list) -> None:
        results = collect(node, commands)
        doc = {
            "state": state,
            "description": description,
            "source": "real capture: lab/capture_fixtures.py on the lab VMs",
            "node": node,
            "captured_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),  # noqa: UP017
            "environment": self.env.get(node, {}),
            "results": results,
        }
        path = self.out / kind / f"{state}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
        self.written.append(path)
        say(f"saved {path} ({node}): {_digest(results)}")


def _digest(results: list) -> str:
    for r in results:
        if r.get("argv", [None, None])[:2] == ["drbdadm", "status"]:
            return " | ".join(r["stdout"].split("\n")[:4]) or r["stderr"].strip()
        if r.get("argv") == ["aoe-stat"]:
            return r["stdout"].strip().replace("\n", " | ") or "(no targets)"
    return ""


def environment(node: str) -> dict:
    p = sh(
        node,
        """
        echo "kernel=$(uname -r)"
        echo "debian=$(cat /etc/debian_version)"
        for p in drbd-utils vblade aoetools; do echo "$p=$(dpkg-query -W -f '${Version}' $p)"; done
        """,
    )
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


# ------------------------------------------------------------------------------------------------
# DRBD
# ------------------------------------------------------------------------------------------------
def res_config(resync_rate: str) -> str:
    return textwrap.dedent(
        f"""\
        # written by lab/capture_fixtures.py; removed when it ends
        resource {RES} {{
          protocol C;
          device /dev/drbd0;
          disk /dev/vdb;
          meta-disk internal;
          disk {{
            fencing resource-only;
            c-plan-ahead 0;
            resync-rate {resync_rate};
          }}
          net {{
            ping-int 1;
            ping-timeout 5;
          }}
          handlers {{
            fence-peer "{HANDLER}";
          }}
          on primary {{ address 198.51.100.11:7789; }}
          on secondary {{ address 198.51.100.12:7789; }}
        }}
        """
    )


def write_config(resync_rate: str) -> None:
    for node in SERVERS:
        sh(
            node,
            f"""
            cat > {HANDLER} <<'EOF'
            #!/bin/sh
            # lab/capture_fixtures.py: pretend the peer was outdated (what dopd reports when it is)
            exit 4
            EOF
            sed -i 's/^ *//' {HANDLER}
            chmod 0755 {HANDLER}
            cat > {RES_FILE} <<'EOF'
            {textwrap.indent(res_config(resync_rate), "            ").strip()}
            EOF
            drbdadm -c /etc/drbd.conf dump {RES} >/dev/null
            """,
        )


def wait_until(node: str, test: str, what: str, timeout: float = 180) -> None:
    """Poll a shell test on NODE until it succeeds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if sh(node, test, check=False).returncode == 0:
            return
        time.sleep(1)
    status = sh(node, f"drbdadm status {RES} 2>&1; cat /proc/drbd 2>&1 || true", check=False).stdout
    raise SystemExit(f"timed out after {timeout:.0f}s waiting on {node} for {what}; last:\n{status}")


def proc_has(pattern: str) -> str:
    return f"grep -Eq {shlex.quote(pattern)} /proc/drbd"


def drbd_preflight() -> dict:
    loaded = {}
    for node in SERVERS:
        p = sh(
            node,
            f"""
            if [ -e /proc/drbd ] && grep -Eq '^ *[0-9]+: cs:' /proc/drbd; then
              echo "a DRBD device is configured on $(uname -n): refusing to disturb it" >&2
              cat /proc/drbd >&2; exit 3
            fi
            if ls /etc/drbd.d/*.res >/dev/null 2>&1 && ! [ -f {RES_FILE} -a "$(head -1 {RES_FILE})" = \
              "# written by lab/capture_fixtures.py; removed when it ends" ]; then
              echo "DRBD resources are configured on $(uname -n) (/etc/drbd.d/*.res): refusing" >&2; exit 3
            fi
            [ "$(uname -n)" = {node} ] || {{ echo "hostname is $(uname -n), expected {node}" >&2; exit 3; }}
            [ -e /proc/drbd ] && echo loaded || echo unloaded
            """,
        )
        loaded[node] = p.stdout.strip() == "loaded"
    return loaded


def wipe_metadata(node: str) -> None:
    # internal metadata lives in the last blocks of the backing disk: zero the last MiB
    sh(
        node,
        "sz=$(blockdev --getsize64 /dev/vdb); dd if=/dev/zero of=/dev/vdb bs=1M seek=$((sz/1048576-1)) "
        "count=1 oflag=direct status=none",
    )


def capture_drbd(w: Writer, start: str = "initial") -> None:
    loaded = drbd_preflight()
    try:
        _drbd_states(w, loaded, start)
    finally:
        say("DRBD cleanup")
        lab("fault", "plug", "secondary", "--nic", "replication", check=False)
        for node in SERVERS:
            sh(
                node,
                f"""
                drbdadm down {RES} 2>/dev/null || drbdsetup down {RES} 2>/dev/null || true
                rm -f {RES_FILE} {HANDLER}
                """,
                check=False,
            )
            if loaded[node]:
                sh(node, "modprobe drbd", check=False)
            else:
                sh(node, "rmmod drbd 2>/dev/null || true", check=False)


DRBD_STAGES = ("initial", "outdated", "split_brain", "diskless", "swap")


def _fast_synced() -> None:
    """For --from: a fresh, connected, synced r0 with primary Primary (no captures)."""
    p = SERVERS[0]
    write_config("100M")
    for node in SERVERS:
        sh(node, "modprobe drbd")
        wipe_metadata(node)
        sh(node, f"drbdadm create-md {RES} </dev/null && drbdadm up {RES}")
    wait_until(p, proc_has("cs:Connected"), "connected")
    sh(p, f"drbdadm primary --force {RES}")
    wait_until(p, proc_has("cs:Connected.*ds:UpToDate/UpToDate"), "synced", timeout=300)


def _drbd_states(w: Writer, loaded: dict, start: str = "initial") -> None:
    todo = DRBD_STAGES[DRBD_STAGES.index(start) :]
    if start != "initial":
        _fast_synced()
    if "initial" in todo:
        _stage_initial(w, loaded)
    if "outdated" in todo:
        _stage_outdated(w)
    if "split_brain" in todo:
        _stage_split_brain(w)
    if "diskless" in todo:
        _stage_diskless(w)
    if "swap" in todo:
        _stage_swap(w)


def _stage_initial(w: Writer, loaded: dict) -> None:
    p, s = SERVERS
    w.save("drbd", "no_config", p, "no DRBD resource defined on this host at all", DRBD_COMMANDS)
    # nothing of DRBD is in use here (preflight), so the module can be unloaded for this state;
    # the clean-up loads it again where it was loaded before
    if sh(p, "rmmod drbd 2>/dev/null; [ ! -e /proc/drbd ]", check=False).returncode == 0:
        write_config("100M")
        w.save(
            "drbd",
            "down_module_not_loaded",
            p,
            "r0 configured, drbd kernel module not loaded",
            [*DRBD_COMMANDS, ["drbdadm", "status", "nosuch"]],
        )
    for node in SERVERS:
        sh(node, "modprobe drbd")
        wipe_metadata(node)
    write_config("2M")  # slow resync: leaves time to see SyncSource/SyncTarget with a percentage
    w.save(
        "drbd",
        "down",
        p,
        "r0 configured but down, module loaded, no metadata on the disk",
        [*DRBD_COMMANDS, ["drbdadm", "status", "nosuch"], ["drbdadm", "role", "nosuch"]],
    )

    for node in SERVERS:
        sh(node, f"drbdadm create-md {RES} </dev/null")
    w.save(
        "drbd",
        "down_with_metadata",
        p,
        "r0 down, valid metadata on the disk (after create-md)",
        DRBD_COMMANDS,
    )

    sh(p, f"drbdadm up {RES}")
    wait_until(p, proc_has("cs:WFConnection"), "WFConnection")
    w.save(
        "drbd",
        "wfconnection",
        p,
        "r0 up on primary only: WFConnection, Secondary/Unknown, Inconsistent/DUnknown",
        DRBD_COMMANDS,
    )

    sh(s, f"drbdadm up {RES}")
    wait_until(p, proc_has("cs:Connected.*ds:Inconsistent/Inconsistent"), "Connected Inconsistent")
    w.save(
        "drbd",
        "connected_inconsistent",
        p,
        "both up and connected, both disks Inconsistent (brand-new resource)",
        DRBD_COMMANDS,
    )

    sh(p, f"drbdadm primary --force {RES}")
    wait_until(p, proc_has("cs:SyncSource") + " && " + proc_has("sync'ed: *[1-9]"), "SyncSource")
    w.save(
        "drbd",
        "sync_source",
        p,
        "after 'drbdadm primary --force' on primary: SyncSource with a percentage",
        DRBD_COMMANDS,
    )
    w.save("drbd", "sync_target", s, "the peer's view during the initial sync: SyncTarget", DRBD_COMMANDS)

    write_config("100M")
    for node in SERVERS:
        sh(node, f"drbdadm adjust {RES}")
    wait_until(p, proc_has("cs:Connected.*ds:UpToDate/UpToDate"), "synced", timeout=300)
    w.save("drbd", "primary_uptodate", p, "Primary/Secondary, UpToDate/UpToDate, Connected", DRBD_COMMANDS)
    w.save("drbd", "secondary_uptodate", s, "Secondary/Primary, UpToDate/UpToDate, Connected", DRBD_COMMANDS)


def _stage_outdated(w: Writer) -> None:
    p, s = SERVERS
    # peer Outdated: the replication cable of the secondary is pulled; the primary's fence-peer
    # handler answers 4 ("peer outdated"), as dopd does when it reached the peer
    lab("fault", "unplug", "secondary", "--nic", "replication")
    wait_until(p, proc_has("ds:UpToDate/Outdated"), "peer Outdated", timeout=60)
    w.save(
        "drbd",
        "peer_outdated",
        p,
        "replication cable of the secondary pulled, fence-peer said "
        "outdated: Primary/Unknown UpToDate/Outdated WFConnection",
        DRBD_COMMANDS,
    )
    w.save(
        "drbd",
        "secondary_disconnected",
        s,
        "the secondary's view with its replication cable pulled",
        DRBD_COMMANDS,
    )


def _stage_split_brain(w: Writer) -> None:
    p, s = SERVERS
    if sh(p, proc_has("cs:WFConnection"), check=False).returncode != 0:
        lab("fault", "unplug", "secondary", "--nic", "replication")
        wait_until(p, proc_has("cs:WFConnection"), "disconnected", timeout=60)
    # split brain: the cut-off secondary is promoted and both write, then the cable goes back
    sh(s, f"drbdadm primary {RES}")
    for node in SERVERS:
        sh(node, "dd if=/dev/urandom of=/dev/drbd0 bs=4k count=4 oflag=direct status=none")
    sh(s, f"drbdadm secondary {RES}")
    lab("fault", "plug", "secondary", "--nic", "replication")
    wait_until(p, proc_has("cs:StandAlone"), "StandAlone after split brain", timeout=90)
    wait_until(s, proc_has("cs:(StandAlone|WFConnection)"), "split brain on the secondary", timeout=90)
    w.save(
        "drbd",
        "standalone_split_brain",
        p,
        "after a split brain (both were Primary and wrote): StandAlone",
        DRBD_COMMANDS,
    )
    w.save("drbd", "split_brain_victim", s, "the other side of the split brain", DRBD_COMMANDS)

    # resolve: the secondary discards its changes
    sh(s, f"drbdadm disconnect {RES} 2>/dev/null || true; drbdadm connect --discard-my-data {RES}")
    sh(p, f"drbdadm connect {RES} 2>/dev/null || true")
    wait_until(p, proc_has("cs:Connected.*ds:UpToDate/UpToDate"), "resync after split brain", timeout=120)


def _stage_diskless(w: Writer) -> None:
    p, s = SERVERS
    sh(s, f"drbdadm detach {RES}")
    wait_until(s, proc_has("ds:Diskless/UpToDate"), "Diskless", timeout=60)
    w.save("drbd", "diskless", s, "secondary detached: Diskless/UpToDate", DRBD_COMMANDS)
    w.save("drbd", "peer_diskless", p, "the primary's view of a Diskless peer", DRBD_COMMANDS)
    sh(s, f"drbdadm attach {RES}")
    wait_until(p, proc_has("cs:Connected.*ds:UpToDate/UpToDate"), "re-attach", timeout=120)


def _stage_swap(w: Writer) -> None:
    p, s = SERVERS
    # roles swapped
    sh(p, f"drbdadm secondary {RES}")
    sh(s, f"drbdadm primary {RES}")
    w.save(
        "drbd",
        "swapped_secondary",
        p,
        "roles swapped: Secondary/Primary on the node named primary",
        DRBD_COMMANDS,
    )
    sh(s, f"drbdadm secondary {RES}")
    w.save("drbd", "both_secondary", p, "both Secondary, UpToDate/UpToDate, Connected", DRBD_COMMANDS)


# ------------------------------------------------------------------------------------------------
# AoE
# ------------------------------------------------------------------------------------------------
EXPORTS = {("primary", 7, 1): 64, ("secondary", 7, 2): 32, ("primary", 7, 3): 16}  # MiB


FLUSH_CAPTURE_TARGETS = (
    'sleep 1; for d in /sys/block/etherd!e7.*; do [ -e "$d" ] && aoe-flush "${d##*!}"; done; true'
)


def start_export(node: str, shelf: int, slot: int, mib: int) -> None:
    img = f"/var/tmp/capture-e{shelf}.{slot}.img"
    sh(
        node,
        f"""
        truncate -s {mib}M {img}
        setsid -f vblade {shelf} {slot} eth1 {img} >/var/tmp/capture-e{shelf}.{slot}.log 2>&1 </dev/null
        """,
    )


def wait_aoe(test: str, what: str, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if sh("client", test, check=False).returncode == 0:
            return
        time.sleep(1)
    last = sh("client", "aoe-stat 2>&1 || true", check=False).stdout
    raise SystemExit(f"timed out after {timeout:.0f}s waiting on client for {what}; aoe-stat:\n{last}")


def capture_aoe(w: Writer) -> None:
    pre = sh("client", "[ -d /sys/module/aoe ] && echo loaded || echo unloaded").stdout.strip()
    deadsecs = None
    try:
        sh(
            "client",
            "[ -d /sys/module/aoe ] || modprobe aoe aoe_iflist=eth1",
        )
        deadsecs = sh("client", "cat /sys/module/aoe/parameters/aoe_deadsecs").stdout.strip()
        if sh("client", "ls -d /sys/block/etherd!* 2>/dev/null", check=False).stdout.strip():
            raise SystemExit("the client already sees AoE targets: refusing to disturb them")
        w.save("aoe", "no_targets", "client", "aoe driver loaded, nothing exported", AOE_COMMANDS)

        (n1, sh1, sl1), mib1 = next(iter(EXPORTS.items()))
        start_export(n1, sh1, sl1, mib1)
        sh("client", "aoe-discover")
        wait_aoe(f"grep -q up '/sys/block/etherd!e{sh1}.{sl1}/state'", "one target up")
        w.save("aoe", "one_target", "client", "one vblade export (e7.1, 64 MiB file) up", AOE_COMMANDS)

        for (node, shelf, slot), mib in list(EXPORTS.items())[1:]:
            start_export(node, shelf, slot, mib)
        sh("client", "aoe-discover")
        wait_aoe(
            " && ".join(f"grep -q up '/sys/block/etherd!e{s}.{t}/state'" for (_node, s, t) in EXPORTS),
            "three targets up",
        )
        w.save("aoe", "several_targets", "client", "three exports from two servers, all up", AOE_COMMANDS)

        # down,closewait: e7.1 held open by a process while its server's SAN cable is out and a read
        # waits past aoe_deadsecs (lowered for the capture; restored below)
        sh("client", "echo 6 > /sys/module/aoe/parameters/aoe_deadsecs")
        sh("client", "setsid -f sleep 600 </dev/etherd/e7.1 >/dev/null 2>&1")
        lab("fault", "unplug", "primary", "--nic", "san")
        sh(
            "client",
            "setsid -f dd if=/dev/etherd/e7.1 of=/dev/null bs=4k count=1 skip=100 iflag=direct "
            ">/dev/null 2>&1 </dev/null",
        )
        wait_aoe("grep -q down '/sys/block/etherd!e7.1/state'", "e7.1 down", timeout=120)
        w.save(
            "aoe",
            "target_down_closewait",
            "client",
            "SAN cable of the exporting server pulled, device "
            "still open: e7.1 down,closewait (e7.3 from the same server waits without I/O)",
            AOE_COMMANDS,
        )
        sh("client", "pkill -f '^sleep 600' || true; pkill -f '^dd if=/dev/etherd/e7.1' || true")
        wait_aoe("[ \"$(cat '/sys/block/etherd!e7.1/state')\" = down ]", "e7.1 plain down", timeout=30)
        w.save(
            "aoe", "target_down", "client", "the same after the last user closed it: e7.1 down", AOE_COMMANDS
        )
    finally:
        say("AoE cleanup")
        lab("fault", "plug", "primary", "--nic", "san", check=False)
        for node in SERVERS:
            sh(node, "pkill -x vblade || true; rm -f /var/tmp/capture-e7.*", check=False)
        sh("client", "pkill -f '^sleep 600' || true; pkill -f '^dd if=/dev/etherd/e7' || true", check=False)
        if deadsecs:
            sh("client", f"echo {deadsecs} > /sys/module/aoe/parameters/aoe_deadsecs", check=False)
        # every machine with the aoe driver loaded saw the exports (Debian's aoetools loads it at boot
        # on the servers too): make all of them forget exactly these targets
        for node in (*SERVERS, "client"):
            sh(node, FLUSH_CAPTURE_TARGETS, check=False)
        if pre == "unloaded":
            sh("client", "rmmod aoe 2>/dev/null || true", check=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--only", choices=["drbd", "aoe"])
    ap.add_argument(
        "--from",
        dest="start",
        choices=DRBD_STAGES,
        default="initial",
        help="resume the DRBD states at this stage (a synced resource is set up first, uncaptured)",
    )
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent / "tests/unit/fixtures"
    )
    args = ap.parse_args(argv)
    # a plain kill must still run the clean-up (the finally blocks)
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit("capture: terminated, cleaning up"))
    t0 = time.monotonic()
    env = {n: environment(n) for n in (*SERVERS, "client")}
    w = Writer(args.out, env)
    if args.only in (None, "drbd"):
        capture_drbd(w, args.start)
    if args.only in (None, "aoe"):
        capture_aoe(w)
    say(f"{len(w.written)} fixtures written in {time.monotonic() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
