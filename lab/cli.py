"""`python3 -m lab`: argument parsing and dispatch; the work happens in the other modules."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from lab import config
from lab.errors import LabError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python3 -m lab",
        description="The ha_san.aoe lab: three QEMU VMs (primary, secondary, client) on two vde switches.",
        epilog="State dir: $HA_SAN_LAB_STATE (default /var/tmp/ha_san-lab); image cache: "
        "$HA_SAN_LAB_CACHE (default $XDG_CACHE_HOME/ha_san/lab); SSH ports: $HA_SAN_LAB_BASE_PORT "
        "(default 2221, one per VM); release: $HA_SAN_LAB_RELEASE (default bookworm); cluster engine: "
        "$HA_SAN_LAB_ENGINE (default heartbeat); "
        "accelerator: $HA_SAN_LAB_ACCEL=kvm|tcg (default: detected).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build the Debian image for one cluster engine (cached by recipe hash)")
    b.add_argument(
        "--release", choices=config.RELEASES, default=None, help="default: $HA_SAN_LAB_RELEASE or bookworm"
    )
    b.add_argument(
        "--engine", choices=config.ENGINES, default=None, help="default: $HA_SAN_LAB_ENGINE or heartbeat"
    )

    u = sub.add_parser("up", help="boot the three VMs and write inventories/lab/hosts.yml")
    u.add_argument(
        "--release", choices=config.RELEASES, default=None, help="default: $HA_SAN_LAB_RELEASE or bookworm"
    )
    u.add_argument(
        "--engine",
        choices=config.ENGINES,
        default=None,
        help="the cluster engine whose image to boot (default: $HA_SAN_LAB_ENGINE or heartbeat)",
    )
    u.add_argument(
        "--base-port",
        type=int,
        default=None,
        help="SSH port of primary; secondary and client get the next two (default 2221)",
    )

    sub.add_parser("down", help="stop everything the lab started")
    sub.add_parser("inventory", help="write this checkout's inventories/lab/hosts.yml for the running lab")

    s = sub.add_parser("status", help="show each VM and switch")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    sh = sub.add_parser("ssh", help="run a command on a VM: ssh NODE -- CMD (its exit code is ours)")
    sh.add_argument("node", metavar="NODE", help=f"one of {', '.join(config.NODE_NAMES)}")
    sh.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD")

    f = sub.add_parser(
        "fault",
        help="inject a fault: crash (power loss), unplug/plug a cable, boot, disk-fail (the first DRBD"
        " disk fails all I/O until a power cycle), replace-disk (blank DRBD disks, while powered off)",
    )
    f.add_argument("action", choices=("crash", "unplug", "plug", "boot", "disk-fail", "replace-disk"))
    f.add_argument("node", metavar="NODE", help=f"one of {', '.join(config.NODE_NAMES)}")
    f.add_argument(
        "--nic",
        action="append",
        choices=tuple(config.NICS),
        default=None,
        help="unplug/plug only this NIC (repeatable); default: all of the node's storage NICs",
    )
    sw = sub.add_parser(
        "switch-hold",
        help="show or set how long the SAN switch holds a MAC on its old port (default 3 s, 0: no hold)",
    )
    sw.add_argument("seconds", nargs="?", type=int, help="new hold in seconds; omitted: show the current one")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except LabError as e:
        print(f"lab: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # stdout closed early (`status | head`): not an error worth a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "build":
        from lab import image

        image.build(args.release or config.default_release(), args.engine or config.default_engine())
        return 0
    from lab import lifecycle

    if args.command == "up":
        base = config.check_base_port(args.base_port) if args.base_port else config.base_port_from_env()
        lifecycle.up(args.release or config.default_release(), args.engine or config.default_engine(), base)
        return 0
    if args.command == "down":
        lifecycle.down()
        return 0
    if args.command == "inventory":
        lifecycle.write_inventory()
        return 0
    if args.command == "status":
        return lifecycle.status(as_json=args.json)
    if args.command == "ssh":
        cmd = list(args.cmd)
        if cmd and cmd[0] == "--":
            cmd = cmd[1:]
        return lifecycle.ssh_exec(config.node(args.node).name, cmd)
    if args.command == "switch-hold":
        from lab import switch
        from lab.paths import state_paths

        paths = state_paths()
        if args.seconds is not None:
            switch.set_mac_hold(paths, "san", args.seconds)
        print(f"san switch MAC hold: {switch.mac_hold(paths, 'san')} s")
        return 0
    if args.command == "fault":
        return lifecycle.fault(args.action, config.node(args.node).name, args.nic)
    raise AssertionError(args.command)
