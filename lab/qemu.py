"""The QEMU command line of one lab VM (pure: no side effects, so it is unit-tested)."""

from __future__ import annotations

from pathlib import Path

from lab import accel, config
from lab.config import Node
from lab.paths import StatePaths

# Fixed PCI slots: with net.ifnames=0 the kernel names NICs in PCI order, so eth0 = management,
# eth1 = SAN, eth2 = replication no matter how QEMU would otherwise place the devices.
_NIC_SLOTS = {"mgmt": 3, "san": 4, "repl": 5}
_DISK_SLOTS = {"root": 8, "data": 9, "data2": 10, "data3": 11}  # vda, vdb, vdc, vdd


def _opt(value: str) -> str:
    # QEMU's option syntax: a literal comma inside a value is written as two commas.
    return value.replace(",", ",,")


def data_drive_id(index: int) -> str:
    """QEMU's drive id of a server's data disk number INDEX (0: "data", the one `fault disk-fail` removes)."""
    return "data" if index == 0 else f"data{index + 1}"


def kernel_append(node: Node, ssh_pubkey_blob: str) -> str:
    words = [
        "root=/dev/vda",
        "rw",
        "console=ttyS0",
        "net.ifnames=0",
        f"ha_san.hostname={node.name}",
        f"ha_san.san={node.san_address}/{config.SAN_PREFIX}",
    ]
    if node.replication_address:
        words.append(f"ha_san.repl={node.replication_address}/{config.REPLICATION_PREFIX}")
    words.append(f"ha_san.sshkey={ssh_pubkey_blob}")
    return " ".join(words)


def mgmt_netdev(port: int, fence_program: Path) -> str:
    # restrict=on: user networking routes nothing out of the VM (the structural half of the
    # "traffic stays in the lab" rule); hostfwd binds on loopback only; guestfwd is the one
    # way in the other direction, to the lab's own fence program.
    return ",".join(
        [
            "user",
            "id=mgmt",
            "restrict=on",
            f"hostfwd=tcp:127.0.0.1:{port}-:22",
            f"guestfwd=tcp:{config.FENCE_GUEST_ADDR}:{config.FENCE_GUEST_PORT}-cmd:{_opt(str(fence_program))}",
        ]
    )


def argv(
    qemu_bin: str,
    node: Node,
    paths: StatePaths,
    image_dir: Path,
    port: int,
    accel_name: str,
    ssh_pubkey_blob: str,
) -> list[str]:
    name = node.name
    args = [
        qemu_bin,
        "-name",
        name,
        *accel.machine_args(accel_name),
        "-m",
        str(config.MEMORY_MIB),
        "-smp",
        "1",
        # -nodefaults: no default NIC, VGA, CD-ROM or monitor; every device is listed below.
        "-nodefaults",
        "-display",
        "none",
        "-kernel",
        str(image_dir / "vmlinuz"),
        "-initrd",
        str(image_dir / "initrd.img"),
        "-append",
        kernel_append(node, ssh_pubkey_blob),
        "-drive",
        f"file={_opt(str(paths.disk(name)))},if=none,id=root,format=qcow2",
        "-device",
        f"virtio-blk-pci,drive=root,addr={_DISK_SLOTS['root']:#x}",
    ]
    if node.is_server:
        for index in range(config.DATA_DISKS):
            drive = data_drive_id(index)
            args += [
                "-drive",
                f"file={_opt(str(paths.data_disk(name, index)))},if=none,id={drive},format=raw,cache=none",
                "-device",
                f"virtio-blk-pci,drive={drive},addr={_DISK_SLOTS[drive]:#x}",
            ]
    args += [
        "-netdev",
        mgmt_netdev(port, paths.fence_program),
        "-device",
        f"virtio-net-pci,netdev=mgmt,mac={node.mac(0)},addr={_NIC_SLOTS['mgmt']:#x}",
        "-netdev",
        f"vde,id=san,sock={_opt(str(paths.switch_sock('san')))}",
        "-device",
        f"virtio-net-pci,netdev=san,mac={node.mac(1)},addr={_NIC_SLOTS['san']:#x}",
    ]
    if node.is_server:
        args += [
            "-netdev",
            f"vde,id=repl,sock={_opt(str(paths.switch_sock('repl')))}",
            "-device",
            f"virtio-net-pci,netdev=repl,mac={node.mac(2)},addr={_NIC_SLOTS['repl']:#x}",
        ]
    args += [
        "-serial",
        f"file:{paths.console(name)}",
        "-monitor",
        f"unix:{paths.monitor(name)},server,nowait",
        "-pidfile",
        str(paths.pidfile(name)),
        "-daemonize",
    ]
    return args


def identity(paths: StatePaths, node: str) -> tuple[str, list[str]]:
    """(program, args) that prove a PID is this lab's QEMU for NODE (see procs.verified_pid)."""
    return "qemu-system", ["-pidfile", str(paths.pidfile(node))]
