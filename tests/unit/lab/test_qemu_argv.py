from pathlib import Path

from lab import config, qemu, switch
from lab.paths import StatePaths

IMG = Path("/cache/images/bookworm-x")


def _argv(name: str, port: int = 2221, root: str = "/var/tmp/lab") -> list[str]:
    return qemu.argv(
        "qemu-system-x86_64", config.node(name), StatePaths(Path(root)), IMG, port, "tcg", "AAAAblob"
    )


def _values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_management_nic_is_restricted_and_loopback_only() -> None:
    for name, port in (("primary", 2221), ("client", 2223)):
        netdevs = _values(_argv(name, port), "-netdev")
        mgmt = [n for n in netdevs if n.startswith("user,")]
        assert len(mgmt) == 1
        opts = mgmt[0].split(",")
        assert "restrict=on" in opts
        fwds = [o for o in opts if o.startswith("hostfwd=")]
        assert fwds == [f"hostfwd=tcp:127.0.0.1:{port}-:22"]
        assert any(o.startswith("guestfwd=tcp:10.0.2.100:7000-cmd:/var/tmp/lab/fence") for o in opts)


def test_no_other_user_netdev_or_bridge() -> None:
    for name in config.NODE_NAMES:
        netdevs = _values(_argv(name), "-netdev")
        kinds = [n.split(",")[0] for n in netdevs]
        assert kinds.count("user") == 1
        assert set(kinds) <= {"user", "vde"}  # no tap, no bridge: nothing reaches the host's networks


def test_nic_order_and_macs() -> None:
    devices = [d for d in _values(_argv("primary"), "-device") if d.startswith("virtio-net")]
    assert [d.split("netdev=")[1].split(",")[0] for d in devices] == ["mgmt", "san", "repl"]
    assert [d.split("addr=")[1] for d in devices] == ["0x3", "0x4", "0x5"]
    assert "mac=52:54:00:5a:01:01" in devices[1]
    client = [d for d in _values(_argv("client"), "-device") if d.startswith("virtio-net")]
    assert [d.split("netdev=")[1].split(",")[0] for d in client] == ["mgmt", "san"]
    macs = {config.node(n).mac(k) for n in config.NODE_NAMES for k in range(3)}
    assert len(macs) == 9


def test_disks_servers_have_three_data_disks_client_none() -> None:
    assert len(_values(_argv("primary"), "-drive")) == 4
    data, data2, data3 = _values(_argv("secondary"), "-drive")[1:]
    assert "data.raw" in data and "id=data," in data and "format=raw" in data
    assert "data2.raw" in data2 and "id=data2," in data2
    assert "data3.raw" in data3 and "id=data3," in data3
    disks = [d for d in _values(_argv("primary"), "-device") if d.startswith("virtio-blk")]
    assert [d.split("addr=")[1] for d in disks] == ["0x8", "0x9", "0xa", "0xb"]  # vda, vdb, vdc, vdd
    assert len(_values(_argv("client"), "-drive")) == 1


def test_append_carries_identity() -> None:
    (append,) = _values(_argv("primary"), "-append")
    words = append.split()
    for w in (
        "root=/dev/vda",
        "rw",
        "console=ttyS0",
        "net.ifnames=0",
        "ha_san.hostname=primary",
        "ha_san.san=192.0.2.11/24",
        "ha_san.repl=198.51.100.11/24",
        "ha_san.sshkey=AAAAblob",
    ):
        assert w in words
    (append,) = _values(_argv("client"), "-append")
    assert "ha_san.san=192.0.2.13/24" in append and "ha_san.repl" not in append


def test_daemon_monitor_pidfile_serial() -> None:
    argv = _argv("client")
    assert "-daemonize" in argv
    assert _values(argv, "-pidfile") == ["/var/tmp/lab/client/qemu.pid"]
    assert _values(argv, "-monitor") == ["unix:/var/tmp/lab/client/mon.sock,server,nowait"]
    assert _values(argv, "-serial") == ["file:/var/tmp/lab/client/console.log"]
    assert _values(argv, "-m") == ["768"] and _values(argv, "-smp") == ["1"]
    assert "-nodefaults" in argv


def test_commas_in_paths_are_escaped() -> None:
    argv = _argv("primary", root="/tmp/a,b")
    assert any("guestfwd=tcp:10.0.2.100:7000-cmd:/tmp/a,,b/fence" in n for n in _values(argv, "-netdev"))


def test_identity_matches_argv() -> None:
    paths = StatePaths(Path("/var/tmp/lab"))
    program, must = qemu.identity(paths, "secondary")
    argv = _argv("secondary")
    from lab import procs

    assert procs.matches(argv, program, must)
    assert not procs.matches(_argv("primary"), program, must)


def test_switch_argv_keeps_default_min_persistence() -> None:
    paths = StatePaths(Path("/var/tmp/lab"))
    argv = switch.argv("vde_switch", paths, "san")
    assert argv[:3] == ["vde_switch", "--sock", "/var/tmp/lab/san.ctl"]
    assert "--daemon" in argv and "--mgmt" in argv and "--pidfile" in argv
    assert not any("minper" in a or "hub" in a for a in argv)
