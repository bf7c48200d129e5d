"""aoe_client's kernel path in a container: Debian packages of a kernel built with the example aoe patch."""

from __future__ import annotations

import pytest

BUILD_DIR = "/var/lib/ha_san/kernel-build"
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
