"""Test helper: talk raw AoE on an interface (no aoe module needed).

python3 aoe_probe.py IFACE query SHELF SLOT SECONDS  send an AoE Query Config, print the responses as JSON
python3 aoe_probe.py IFACE listen SECONDS [READY]   print AoE (0x88a2) and announcement (0x88b5) frames
python3 aoe_probe.py IFACE read SHELF SLOT MAC SECONDS  send an ATA READ SECTORS EXT of sector 0 to MAC, print
                                                    the responses as JSON (used to show an allow-list holds)
"""

import json
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
AOE, ANNOUNCE = 0x88A2, 0x88B5


def fmt(mac):
    return ":".join(f"{b:02x}" for b in mac)


def collect(sock, seconds):
    seen = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            frame = sock.recv(2048)
        except TimeoutError:
            break
        etype = struct.unpack("!H", frame[12:14])[0]
        if etype not in (AOE, ANNOUNCE):
            continue
        item = {"src": fmt(frame[6:12]), "dst": fmt(frame[0:6]), "type": hex(etype)}
        if etype == AOE:
            verflags, _err, shelf, slot, cmd = struct.unpack("!BBHBB", frame[14:20])
            item.update(response=bool(verflags & 0x08), shelf=shelf, slot=slot, cmd=cmd)
        seen.append(item)
    return seen


def main():
    iface, mode = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    if mode == "query":
        shelf, slot, seconds = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
        with open(f"/sys/class/net/{iface}/address") as f:
            mine = bytes.fromhex(f.read().strip().replace(":", ""))
        aoe = struct.pack("!BBHBBI", 0x10, 0, shelf, slot, 1, 0x1234) + struct.pack("!HHBBH", 0, 0, 0, 0, 0)
        sock.send(b"\xff" * 6 + mine + struct.pack("!H", AOE) + aoe.ljust(46, b"\0"))
        seen = [s for s in collect(sock, seconds) if s.get("response")]
    elif mode == "read":
        shelf, slot, dst, seconds = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
        with open(f"/sys/class/net/{iface}/address") as f:
            mine = bytes.fromhex(f.read().strip().replace(":", ""))
        aoe = struct.pack("!BBHBBI", 0x10, 0, shelf, slot, 0, 0x5678)
        ata = struct.pack("!BBBB", 0x40, 0, 1, 0x24) + b"\0" * 8  # LBA48, 1 sector, READ SECTORS EXT, LBA 0
        to = bytes.fromhex(dst.replace(":", ""))
        sock.send(to + mine + struct.pack("!H", AOE) + (aoe + ata).ljust(46, b"\0"))
        seen = [s for s in collect(sock, seconds) if s.get("response")]
    else:
        if len(sys.argv) > 4:  # tell the caller the socket is listening
            with open(sys.argv[4], "w") as ready:
                ready.write("ready\n")
        seen = collect(sock, float(sys.argv[3]))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
