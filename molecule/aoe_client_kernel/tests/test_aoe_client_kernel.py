"""aoe_client's kernel path in a container: Debian packages of a kernel built with the example aoe patch, and
the out-of-tree driver (aoe_client_driver: build) compiled against a kernel tree of that configuration."""

from __future__ import annotations

import pytest

BUILD_DIR = "/var/lib/ha_san/kernel-build"
DRIVER_TREE = "/var/lib/ha_san/driver-tree"
DRIVER_BUILD_DIR = "/var/lib/ha_san/aoe-build"
VERSION = "85+ha_san.1"


@pytest.fixture(scope="module")
def build(host) -> dict[str, str]:
    dirs = host.run(f"ls -d {BUILD_DIR}/build-* | grep -v '[.]tmp$'").stdout.split()
    assert len(dirs) == 1, dirs  # one build: the second converge did not build again
    release = host.file(f"{dirs[0]}/kernelrelease").content_string.strip()
    debs = host.run(f"ls {dirs[0]}/linux-image-{release}_*.deb").stdout.split()
    assert len(debs) == 1, debs
    work = host.run("mktemp -d").stdout.strip()
    assert host.run(f"dpkg-deb -x {debs[0]} {work}").rc == 0
    return {"dir": dirs[0], "release": release, "deb": debs[0], "root": work}


def test_release_carries_the_localversion(build):
    assert build["release"].startswith("6.1.") and build["release"].endswith("-ha-san1"), build["release"]


def test_image_package_holds_the_aoe_module(host, build):
    listing = host.run(f"dpkg-deb -c {build['deb']}").stdout
    assert f"./lib/modules/{build['release']}/kernel/drivers/block/aoe/aoe.ko" in listing


def test_aoe_module_is_the_patched_one(host, build):
    ko = host_ko(build)
    info = host.run(f"modinfo {ko}")
    assert info.rc == 0, info.stderr
    fields = [line.split(":", 1) for line in info.stdout.splitlines() if ":" in line]
    assert ["version", VERSION] in [[k.strip(), v.strip()] for k, v in fields], info.stdout
    parms = [v.strip() for k, v in fields if k.strip() == "parm"]
    assert any(p.startswith("aoe_scorn_secs:") and p.endswith("(int)") for p in parms), parms
    vermagic = [v.strip() for k, v in fields if k.strip() == "vermagic"]
    assert vermagic and vermagic[0].split()[0] == build["release"], vermagic  # tinyconfig: no "SMP ..." words


def test_package_config_builds_aoe_as_a_module(host, build):
    config = host.file(f"{build['root']}/boot/config-{build['release']}")
    assert "CONFIG_ATA_OVER_ETH=m" in config.content_string.splitlines()
    assert "CONFIG_64BIT=y" in config.content_string.splitlines()


def test_build_tree_was_removed_and_kernel_not_installed(host, build):
    assert not host.file(f"{build['dir']}/linux").exists
    assert not host.file(f"/boot/vmlinuz-{build['release']}").exists


def host_ko(build: dict[str, str]) -> str:
    return f"{build['root']}/lib/modules/{build['release']}/kernel/drivers/block/aoe/aoe.ko"


@pytest.fixture(scope="module")
def driver(host) -> dict[str, str]:
    """The driver as the role installed it: /lib/modules/KERNEL/updates/aoe.ko, KERNEL the running kernel."""
    running = host.run("uname -r").stdout.strip()
    return {"ko": f"/lib/modules/{running}/updates/aoe.ko", "running": running}


def modinfo_field(host, ko: str, field: str) -> list[str]:
    cmd = host.run(f"modinfo -F {field} {ko}")
    assert cmd.rc == 0, cmd.stderr
    return [line.strip() for line in cmd.stdout.splitlines() if line.strip()]


def test_built_driver_is_installed_where_modprobe_finds_it(host, driver):
    f = host.file(driver["ko"])
    assert f.is_file and f.user == "root" and f.mode == 0o644
    # depmod ran: modprobe resolves aoe to the installed file, not to any other aoe.ko.
    assert host.run("modinfo -n aoe").stdout.strip() == driver["ko"]


def test_built_driver_is_the_patched_aoe6(host, driver):
    assert modinfo_field(host, driver["ko"], "version") == [VERSION]
    parms = modinfo_field(host, driver["ko"], "parm")
    assert any(p.startswith("aoe_scorn_secs:") and p.endswith("(int)") for p in parms), parms


def test_built_driver_vermagic_is_the_tree_it_was_built_against(host, driver):
    tree_release = host.file(f"{DRIVER_TREE}/include/config/kernel.release").content_string.strip()
    vermagic = modinfo_field(host, driver["ko"], "vermagic")
    assert vermagic and vermagic[0].split()[0] == tree_release, (vermagic, tree_release)
    # The tree carries the running kernel's release: the role checks vermagic against the running kernel.
    assert tree_release == driver["running"]
    assert "CONFIG_ATA_OVER_ETH=m" in host.file(f"{DRIVER_TREE}/.config").content_string.splitlines()


def test_installed_driver_is_the_one_built_once(host, driver):
    builds = host.run(f"ls -d {DRIVER_BUILD_DIR}/build-* | grep -v '[.]tmp$\\|[.]patches$'").stdout.split()
    assert len(builds) == 1, builds  # the second converge built nothing
    assert host.run(f"cmp {builds[0]}/drivers/block/aoe/aoe.ko {driver['ko']}").rc == 0
