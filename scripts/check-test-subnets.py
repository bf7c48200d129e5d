"""Refuse to create test networks that overlap this machine's own routes.

A docker network on a subnet the host already routes (its uplink, its DNS server, its mirror)
silently cuts the machine off: seen here when a scenario took 203.0.113.0/25, the range that
held the package mirror's address. Run before the molecule scenarios create their networks.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import subprocess
import sys
from pathlib import Path

# Hosts this machine must keep reaching while the tests run (package mirrors, the Python index).
NEEDED_HOSTS = ("deb.debian.org", "pypi.org", "files.pythonhosted.org")
SUBNET = re.compile(r"^\s*-?\s*subnet:\s*['\"]?([0-9.]+/[0-9]+)")


def scenario_subnets(root: Path) -> dict[str, list[ipaddress.IPv4Network]]:
    found: dict[str, list[ipaddress.IPv4Network]] = {}
    for path in sorted(root.glob("molecule/*/molecule.yml")):
        for line in path.read_text().splitlines():
            m = SUBNET.match(line)
            if m:
                found.setdefault(str(path), []).append(ipaddress.ip_network(m.group(1)))
    return found


def host_networks() -> list[tuple[str, ipaddress.IPv4Network]]:
    """The host's routed networks that are not docker bridges, and its resolvers as /32."""
    out = subprocess.run(["ip", "-4", "route", "show"], capture_output=True, text=True, check=True).stdout
    nets = []
    for line in out.splitlines():
        dest, _sep, rest = line.partition(" ")
        if dest == "default" or " dev br-" in f" {rest}" or " dev docker0" in f" {rest}":
            continue
        nets.append((line.strip(), ipaddress.ip_network(dest, strict=False)))
    resolv = Path("/etc/resolv.conf")
    if resolv.exists():
        for line in resolv.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "nameserver" and ":" not in parts[1]:
                nets.append((f"nameserver {parts[1]}", ipaddress.ip_network(parts[1])))
    for host in NEEDED_HOSTS:
        try:
            infos = socket.getaddrinfo(host, 443, socket.AF_INET)
        except OSError:
            continue
        for addr in {info[4][0] for info in infos}:
            nets.append((f"address {addr} of {host}", ipaddress.ip_network(addr)))
    return nets


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    clashes = dict.fromkeys(
        f"{path}: test subnet {net} overlaps the host's {what}"
        for path, nets in scenario_subnets(root).items()
        for net in nets
        for what, host_net in host_networks()
        if net.overlaps(host_net)
    )
    for clash in clashes:
        print(clash, file=sys.stderr)
    if clashes:
        print("Choose other subnets for these scenarios' docker_networks.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
