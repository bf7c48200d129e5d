"""aoe_client in a container: packages, driver options, a mount unit that never blocks boot."""

UNIT = "/etc/systemd/system/srv-ha\\x2dsan.mount"


def test_aoetools_installed(host):
    assert host.package("aoetools").is_installed


def test_aoe_options_in_modprobe_d(host):
    f = host.file("/etc/modprobe.d/ha_san-aoe.conf")
    assert f.exists and f.mode == 0o644
    options = [line for line in f.content_string.splitlines() if not line.startswith("#")]
    assert options == ["options aoe aoe_iflist=eth0 aoe_deadsecs=180"]


def test_modprobe_reads_the_options(host):
    # modprobe resolves options from /etc/modprobe.d without loading anything.
    cmd = host.run("modprobe --showconfig | grep '^options aoe '")
    assert cmd.stdout.strip() == "options aoe aoe_iflist=eth0 aoe_deadsecs=180"


def test_mount_unit_rendered(host):
    f = host.file(UNIT)
    assert f.exists and f.mode == 0o644
    lines = f.content_string.splitlines()
    for line in (
        "What=/dev/etherd/e0.3",
        "Where=/srv/ha-san",
        "Type=ext4",
        "Options=_netdev,noatime",
        "TimeoutSec=30",
        "WantedBy=remote-fs.target",
    ):
        assert line in lines, line
    assert not any(line.startswith(("RequiredBy=", "Requires=")) for line in lines)


def test_mount_unit_is_valid_and_enabled_not_required_by_boot(host):
    escaped = "srv-ha\\\\x2dsan.mount"
    verify = host.run(f"systemd-analyze verify {UNIT!r}")
    assert "Unknown" not in verify.stderr and "Invalid" not in verify.stderr, verify.stderr
    assert host.run(f"systemctl is-enabled {escaped}").stdout.strip() == "enabled"
    assert host.file("/etc/systemd/system/remote-fs.target.wants/srv-ha\\x2dsan.mount").is_symlink
    assert (
        host.run(f"systemctl show -p WantedBy -p RequiredBy {escaped}").stdout.count("remote-fs.target") == 1
    )
    assert "RequiredBy=\n" in host.run(f"systemctl show -p RequiredBy {escaped}").stdout + "\n"


def test_no_fstab_entry(host):
    assert "etherd" not in host.file("/etc/fstab").content_string


def test_mount_point_exists_but_nothing_mounted_without_a_driver(host):
    assert host.file("/srv/ha-san").is_directory
    assert not host.mount_point("/srv/ha-san").exists
