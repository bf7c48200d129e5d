#!/usr/bin/python
# Copyright: (c) 2026, ha_san.aoe maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: aoe_stat
short_description: List the ATA-over-Ethernet targets this host sees, and wait for some of them
version_added: 0.1.0
description:
  - Reads the AoE targets the Linux C(aoe) driver has discovered, from sysfs (C(/sys/block/etherd!eN.M/))
    or from C(aoe-stat), and returns them as data and as the fact C(aoe_targets).
  - Optionally sends an AoE discovery request first (C(aoe-discover)), and waits until the listed targets
    reach a state.
  - Changes nothing on the host; the discovery request is the only thing it sends, and it is not sent in
    check mode. C(changed) is always false.
author:
  - ha_san.aoe maintainers (@ha-san)
options:
  discover:
    description:
      - Run C(aoe-discover) first (and again every 5 seconds while waiting), so that targets exported after
        the driver was loaded are found without waiting for the driver's periodic discovery.
    type: bool
    default: false
  wait_for:
    description:
      - Target names of the form C(eSHELF.SLOT) (for example V(e0.3)) to wait for until they reach O(state).
    type: list
    elements: str
    default: []
  state:
    description:
      - The state the targets in O(wait_for) must reach. V(up) means ready for I/O; V(down) matches
        C(down) and C(down,closewait); V(present) any state; V(absent) not listed at all.
    type: str
    choices: [up, down, present, absent]
    default: up
  timeout:
    description:
      - Seconds to wait for O(wait_for). On expiry the module fails and says what it saw last.
    type: int
    default: 30
  source:
    description:
      - Where to read the targets. V(sysfs) is exact (sizes in bytes); V(aoe-stat) parses the output of
        aoetools' C(aoe-stat), whose sizes are rounded to the megabyte.
    type: str
    choices: [sysfs, aoe-stat]
    default: sysfs
notes:
  - Needs the C(aoe) kernel driver loaded (C(modprobe aoe)); C(aoe-discover) and C(aoe-stat) come from the
    package C(aoetools).
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode).
    support: none
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
"""

EXAMPLES = r"""
- name: Discover AoE targets and wait for the SAN's export
  ha_san.aoe.aoe_stat:
    discover: true
    wait_for: [e0.3]
    timeout: 60

- name: List what the driver sees
  ha_san.aoe.aoe_stat:
  register: aoe

- name: Show the targets
  ansible.builtin.debug:
    msg: "{{ item.name }} {{ item.state }} {{ item.size_bytes }} bytes on {{ item.interfaces | join(',') }}"
  loop: "{{ ansible_facts.aoe_targets }}"
"""

RETURN = r"""
targets:
  description: The AoE targets the driver knows, sorted by shelf and slot.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Target name C(eSHELF.SLOT).
      type: str
      sample: e0.3
    shelf:
      description: AoE shelf (major) address.
      type: int
      sample: 0
    slot:
      description: AoE slot (minor) address.
      type: int
      sample: 3
    device:
      description: The block device node.
      type: str
      sample: /dev/etherd/e0.3
    size_bytes:
      description: >-
        Size in bytes; null until the target answered, 0 while it is down (the driver drops the
        capacity of a failed target); rounded down to the MB with O(source=aoe-stat).
      type: int
      sample: 268435456
    interfaces:
      description: Local network interfaces the target is reached through.
      type: list
      elements: str
      sample: [eth1]
    payload:
      description: Data bytes per AoE frame; null when the driver does not report it.
      type: int
      sample: 1024
    state:
      description: The driver's state string, V(up), V(down), V(down,closewait), V(up,kickme)...
      type: str
      sample: up
    up:
      description: Whether the driver considers the target ready for I/O.
      type: bool
      sample: true
    flags:
      description: The words after the comma in RV(targets[].state).
      type: list
      elements: str
      sample: [closewait]
    mac:
      description: MAC address of the target's first known port (sysfs only).
      type: str
      sample: 525400000011
    firmware_version:
      description: Target firmware version as the driver reports it (sysfs only).
      type: str
      sample: "0x4019"
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    aoe_targets:
      description: Same list as RV(targets).
      type: list
      elements: dict
discovered:
  description: Whether a discovery request was sent.
  returned: always
  type: bool
  sample: true
"""

import os  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ha_san.aoe.plugins.module_utils.aoe_targets import (  # noqa: E402
    AoeParseError,
    describe,
    parse_aoe_stat,
    split_name,
    targets_from_sysfs,
    wanted_reached,
)

SYSFS_BLOCK = "/sys/block"
AOE_DRIVER = "/sys/module/aoe"
SYSFS_FILES = ("size", "state", "netif", "payload", "mac", "firmware-version", "fwver")
POLL_SECONDS = 1.0
REDISCOVER_SECONDS = 5.0
PACKAGE_HINT = "install the package aoetools"


def read_sysfs(block_dir: str = SYSFS_BLOCK) -> dict:
    """``{"etherd!e0.3": {"size": "...", ...}}`` for every AoE disk; files that vanish are left out."""
    entries = {}
    for dirname in sorted(os.listdir(block_dir)):
        if not dirname.startswith("etherd!"):
            continue
        files = {}
        for fname in SYSFS_FILES:
            path = os.path.join(block_dir, dirname, fname)
            try:
                with open(path) as fh:
                    files[fname] = fh.read()
            except OSError:
                continue
        entries[dirname] = files
    return entries


class Aoe:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.discovered = False
        self.last_discovery = 0.0

    def fail(self, msg: str, rc=None, stdout: str = "", stderr: str = "", **extra) -> None:
        self.module.fail_json(
            msg=msg, rc=rc, stdout=stdout, stderr=stderr, discovered=self.discovered, **extra
        )

    def tool(self, name: str) -> str:
        path = self.module.get_bin_path(name, required=False, opt_dirs=["/sbin", "/usr/sbin"])
        if not path:
            self.fail(f"{name} was not found on this host: {PACKAGE_HINT}.")
        return path

    def check_driver(self) -> None:
        if not os.path.isdir(AOE_DRIVER):
            self.fail(
                "The aoe kernel driver is not loaded (no /sys/module/aoe): load it with 'modprobe aoe' "
                "(set its options, such as aoe_iflist, in /etc/modprobe.d/ first)."
            )

    def discover(self) -> None:
        if self.module.check_mode:
            return
        argv = [self.tool("aoe-discover")]
        rc, out, err = self.module.run_command(argv, environ_update={"LC_ALL": "C"})
        if rc != 0:
            self.fail(f"aoe-discover failed (rc={rc}): {(err or out).strip()}", rc, out, err)
        self.discovered = True
        self.last_discovery = time.monotonic()

    def read(self, source: str) -> list:
        if source == "aoe-stat":
            argv = [self.tool("aoe-stat")]
            rc, out, err = self.module.run_command(argv, environ_update={"LC_ALL": "C"})
            # aoe-stat ends with "| grep .": no targets means rc 1 and no output
            if rc != 0 and not (rc == 1 and not out.strip() and not err.strip()):
                self.fail(f"aoe-stat failed (rc={rc}): {(err or out).strip()}", rc, out, err)
            try:
                return parse_aoe_stat(out)
            except AoeParseError as exc:
                self.fail(
                    f"aoe-stat printed something this module cannot parse ({exc}); refusing to guess.",
                    rc,
                    out,
                    err,
                )
        entries = read_sysfs()
        try:
            return targets_from_sysfs(entries)
        except AoeParseError as exc:
            self.fail(
                f"an AoE target's sysfs files hold something this module cannot parse ({exc}); "
                "refusing to guess.",
                stdout=repr(entries),
            )
        return []


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            discover=dict(type="bool", default=False),
            wait_for=dict(type="list", elements="str", default=[]),
            state=dict(type="str", default="up", choices=["up", "down", "present", "absent"]),
            timeout=dict(type="int", default=30),
            source=dict(type="str", default="sysfs", choices=["sysfs", "aoe-stat"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for name in p["wait_for"]:
        try:
            split_name(name)
        except AoeParseError as exc:
            module.fail_json(msg=f"wait_for: {exc}.")
    if p["timeout"] < 0:
        module.fail_json(msg=f"timeout must be 0 or more seconds, not {p['timeout']}.")

    aoe = Aoe(module)
    aoe.check_driver()
    if p["discover"]:
        aoe.discover()
    targets = aoe.read(p["source"])
    if p["wait_for"]:
        deadline = time.monotonic() + p["timeout"]
        while True:
            done, missing = wanted_reached(targets, p["wait_for"], p["state"])
            if done:
                break
            if time.monotonic() >= deadline:
                aoe.fail(
                    f"Timed out after {p['timeout']} s waiting for AoE target(s) {', '.join(missing)} "
                    f"to be {p['state']}; last seen: {describe(targets, p['wait_for'])}. Check that a vblade "
                    "exports that shelf.slot on the SAN and that the aoe driver listens on that interface "
                    "(aoe_iflist).",
                    targets=targets,
                    missing=missing,
                )
            time.sleep(POLL_SECONDS)
            if p["discover"] and time.monotonic() - aoe.last_discovery >= REDISCOVER_SECONDS:
                aoe.discover()
            targets = aoe.read(p["source"])

    module.exit_json(
        changed=False,
        targets=targets,
        discovered=aoe.discovered,
        ansible_facts={"aoe_targets": targets},
    )


if __name__ == "__main__":
    main()
