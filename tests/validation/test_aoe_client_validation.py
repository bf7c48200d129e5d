"""The aoe_client role's checks of the driver and kernel builds: each bad input stops with its own message.

Runs ansible-playbook against this machine (connection local). tasks/validate.yml runs before any change, so
those cases must also report changed=0. The driver build's own checks (source, headers, patches, compiler) run
tasks/driver_build.yml with every path inside the test's temporary folder: a fake aoe source, and a fake kernel
build tree whose Makefile fails like a compiler, so nothing is built or installed on this machine.
"""

# ruff: noqa: E501  (the expected messages are kept whole, word for word, in pieces under the sanity limit)
from __future__ import annotations

import os
import sys
import tarfile
from pathlib import Path

import pytest
from validation_playbook import assert_refused, changed_zero, run_playbook

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PATCH = "patches/0001-aoe-scorn-secs-parameter.patch"

PLAY = """\
- name: aoe_client role under test
  hosts: clients
  gather_facts: "{{ gather | default(false) | bool }}"
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: ha_san.aoe.aoe_client
        tasks_from: "{{ tasks_from | default('main') }}"
"""


def run(
    tmp_path: Path, overrides: dict, tasks_from: str = "validate", gather: bool = False
) -> tuple[int, str]:
    inventory = {
        "all": {
            "vars": {"ha_san_san_interface": "eth1", **overrides},
            "children": {
                "clients": {
                    "hosts": {
                        "aoev": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                    }
                }
            },
        }
    }
    rc, out = run_playbook(tmp_path, inventory, PLAY, f"tasks_from={tasks_from} gather={gather}")
    return rc, " ".join(out.replace("\\n", "\n").split())  # folded: compare on single spaces


# The hosts whose play recap must say changed=0 after a refusal.
HOSTS = ("aoev",)


BUILD = {"aoe_client_driver": "build"}
KERNEL = {"aoe_client_kernel_build": True, "aoe_client_kernel_config_target": "tinyconfig"}

CASES = {
    "unknown driver": (
        {"aoe_client_driver": "aoe6"},
        "aoe_client_driver is 'aoe6': set it to in_kernel (the running kernel's aoe driver) or build "
        "(the aoe6 driver compiled here with aoe_client_driver_patches).",
    ),
    "relative driver source": (
        {**BUILD, "aoe_client_driver_source": "aoe6-85.tar.gz"},
        "aoe_client_driver_source is 'aoe6-85.tar.gz': give an absolute path on the client (a tarball "
        "or a directory), or leave it empty for the running kernel's linux-source.",
    ),
    "patch not on the controller": (
        {**BUILD, "aoe_client_driver_patches": [PATCH, "patches/missing.patch"]},
        "aoe_client_driver_patches must list patch files on the controller, applied in order with patch "
        "-p1 at the root of a kernel tree (relative names are looked up in the role's files/, e.g. patches/0001-aoe-scorn-secs-parameter.patch). "
        "Not found or not a patch: patches/missing.patch.",
    ),
    "kernel patches not a list": (
        {**KERNEL, "aoe_client_kernel_patches": PATCH},
        "aoe_client_kernel_patches must list patch files on the controller",
    ),
    "config file and target": (
        {**KERNEL, "aoe_client_kernel_config": "/boot/config-6.1.0-50-amd64"},
        "aoe_client_kernel_config_target is 'tinyconfig' and aoe_client_kernel_config is '/boot/config-6.1.0-50-amd64': "
        "set at most one of them; the target must be a make target that writes a configuration (tinyconfig, "
        "defconfig, allnoconfig, localmodconfig, ...).",
    ),
    "config target not a config target": (
        {**KERNEL, "aoe_client_kernel_config_target": "bzImage"},
        "aoe_client_kernel_config_target is 'bzImage' and aoe_client_kernel_config is '': set at most "
        "one of them;",
    ),
    "kernel option without prefix": (
        {**KERNEL, "aoe_client_kernel_config_options": {"ATA_OVER_ETH": "m"}},
        "aoe_client_kernel_config_options must map kernel options to values, e.g. {CONFIG_ATA_OVER_ETH: m, CONFIG_64BIT: y} "
        "(names with their CONFIG_ prefix, values without quotes, newlines or backslashes). Found {'ATA_OVER_ETH': 'm'}.",
    ),
    "kernel option value with a quote": (
        {**KERNEL, "aoe_client_kernel_config_options": {"CONFIG_LOCALVERSION": 'a"b'}},
        "aoe_client_kernel_config_options must map kernel options to values",
    ),
    "local version with capitals": (
        {**KERNEL, "aoe_client_kernel_localversion": "-HA"},
        "aoe_client_kernel_localversion is '-HA': use lower-case letters, digits and - + . only (it "
        "becomes part of the linux-image package's name), e.g. -ha-san1.",
    ),
    "reboot without install": (
        {**KERNEL, "aoe_client_kernel_install": False, "aoe_client_kernel_reboot": True},
        "aoe_client_kernel_reboot is true but aoe_client_kernel_install is false: a reboot would come "
        "back to the same kernel. Set aoe_client_kernel_install: true, or aoe_client_kernel_reboot: "
        "false.",
    ),
    "switch given as a string": (
        {"aoe_client_driver_dkms": "maybe"},
        "aoe_client_driver_dkms (maybe), aoe_client_kernel_build (False), aoe_client_kernel_install "
        "(True) and aoe_client_kernel_reboot (False) must each be true or false.",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_with_its_message_and_changes_nothing(tmp_path: Path, case: str) -> None:
    overrides, message = CASES[case]
    rc, out = run(tmp_path, overrides)
    assert_refused(rc, out, message, *HOSTS)


def test_build_inputs_that_are_good_pass(tmp_path: Path) -> None:
    rc, out = run(
        tmp_path, {**BUILD, **KERNEL, "aoe_client_kernel_config_options": {"CONFIG_ATA_OVER_ETH": "m"}}
    )
    assert rc == 0, out


# The driver build's checks on the client, with fakes in the temporary folder.
AOE_FILES = {
    "aoe.h": '#define VERSION "85"\n',
    "aoecmd.c": "int aoecmd;\n",
    "aoeblk.c": "int aoeblk;\n",
    "Makefile": "obj-$(CONFIG_ATA_OVER_ETH) += aoe.o\n",
}
FAKE_KBUILD = "modules:\n\t@echo \"$(M)/aoecmd.c:801:12: error: 'aoe_scorn_secs' undeclared (first use in this function)\"; exit 1\n"


def fake_driver(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    src = tmp_path / "aoe6-85" / "linux" / "drivers" / "block" / "aoe"
    src.mkdir(parents=True)
    for name, text in (AOE_FILES if files is None else files).items():
        (src / name).write_text(text, encoding="utf-8")
    return tmp_path / "aoe6-85"


def fake_headers(tmp_path: Path) -> Path:
    kbuild = tmp_path / "kbuild"
    kbuild.mkdir()
    (kbuild / "Makefile").write_text(FAKE_KBUILD, encoding="utf-8")
    return kbuild


def build_run(tmp_path: Path, overrides: dict) -> tuple[int, str]:
    base = {
        **BUILD,
        "aoe_client_build_dir": str(tmp_path / "build"),
        "aoe_client_driver_kernel_headers": str(tmp_path / "no-headers"),
    }
    return run(tmp_path, {**base, **overrides}, tasks_from="driver_build", gather=True)


def test_missing_headers_name_the_package(tmp_path: Path) -> None:
    rc, out = build_run(tmp_path, {"aoe_client_driver_source": str(fake_driver(tmp_path))})
    kernel = os.uname().release
    assert rc != 0, out
    assert (
        f"aoe_client_driver is build, but {tmp_path}/no-headers (aoe_client_driver_kernel_headers) holds "
        f"no kernel build tree: install the package linux-headers-{kernel} on aoev (the headers of the "
        f"running kernel {kernel})." in out
    ), out
    assert changed_zero(out, *HOSTS), out


def test_a_directory_without_the_aoe_files_is_refused(tmp_path: Path) -> None:
    src = fake_driver(tmp_path, {"aoe.h": "x\n", "aoecmd.c": "x\n"})
    rc, out = build_run(tmp_path, {"aoe_client_driver_source": str(src)})
    assert rc != 0, out
    assert (
        f"aoe_client_driver_source {src} is not an aoe driver: no directory in it holds aoecmd.c, aoeblk.c "
        "and aoe.h. Give an aoe6 tarball (e.g. aoe6-85.tar.gz), a directory holding the driver (such "
        "as a kernel tree's drivers/block/aoe), or leave it empty for the running kernel's own driver." in out
    ), out
    assert changed_zero(out, *HOSTS), out


def test_a_tarball_that_is_no_aoe_driver_is_refused(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "main.c").write_text("int main;\n", encoding="utf-8")
    tarball = tmp_path / "other.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tmp_path / "other", arcname="other")
    rc, out = build_run(tmp_path, {"aoe_client_driver_source": str(tarball)})
    assert rc != 0, out
    assert (
        f"aoe_client_driver_source {tarball} is not an aoe driver: no directory in it holds aoecmd.c, "
        "aoeblk.c and aoe.h." in out
    ), out
    assert changed_zero(out, *HOSTS), out


def test_a_missing_source_is_named(tmp_path: Path) -> None:
    rc, out = build_run(tmp_path, {"aoe_client_driver_source": str(tmp_path / "aoe6-86.tar.gz")})
    assert rc != 0, out
    assert f"aoe_client_driver_source is {tmp_path}/aoe6-86.tar.gz, which does not exist on aoev:" in out, out
    assert changed_zero(out, *HOSTS), out


def test_a_patch_that_does_not_apply_is_named_with_its_rejects(tmp_path: Path) -> None:
    tarball = tmp_path / "aoe6-85.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(fake_driver(tmp_path), arcname="aoe6-85")
    rc, out = build_run(
        tmp_path,
        {
            "aoe_client_driver_source": str(tarball),
            "aoe_client_driver_kernel_headers": str(fake_headers(tmp_path)),
        },
    )
    assert rc != 0, out
    assert (
        f"aoe_client_driver_patches: {PATCH} does not apply (patch -p1 exit 1); the patches apply in "
        "order at the root of a kernel tree (paths a/drivers/block/aoe/...). patch said:" in out
    ), out
    assert "Hunk #1 FAILED" in out, out
    assert "Rejected hunks:" in out and '-#define VERSION "85"' in out, out


def test_a_build_failure_shows_the_compilers_last_lines(tmp_path: Path) -> None:
    rc, out = build_run(
        tmp_path,
        {
            "aoe_client_driver_source": str(fake_driver(tmp_path)),
            "aoe_client_driver_kernel_headers": str(fake_headers(tmp_path)),
            "aoe_client_driver_patches": [],
        },
    )
    assert rc != 0, out
    assert "the aoe driver (aoe_client_driver build) did not build (exit 2: make -C" in out, out
    assert "The compiler's last lines:" in out, out
    assert "aoecmd.c:801:12: error: 'aoe_scorn_secs' undeclared (first use in this function)" in out, out


def test_a_missing_kernel_source_is_named(tmp_path: Path) -> None:
    rc, out = run(
        tmp_path,
        {
            **KERNEL,
            "aoe_client_kernel_source": str(tmp_path / "linux"),
            "aoe_client_kernel_build_dir": str(tmp_path / "kb"),
        },
        tasks_from="kernel_build",
        gather=True,
    )
    assert rc != 0, out
    assert (
        f"aoe_client_kernel_source is {tmp_path}/linux, which does not exist on aoev. Give a kernel source "
        "tarball or tree on the client." in out
    ), out
    assert changed_zero(out, *HOSTS), out


def test_a_directory_that_is_no_kernel_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "linux").mkdir()
    rc, out = run(
        tmp_path,
        {
            **KERNEL,
            "aoe_client_kernel_source": str(tmp_path / "linux"),
            "aoe_client_kernel_build_dir": str(tmp_path / "kb"),
        },
        tasks_from="kernel_build",
        gather=True,
    )
    assert rc != 0, out
    assert (
        f"aoe_client_kernel_source {tmp_path}/linux is not a kernel tree (no Makefile at its top):" in out
    ), out
    assert changed_zero(out, *HOSTS), out
