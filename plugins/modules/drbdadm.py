#!/usr/bin/python
# Copyright: (c) 2026, ha_san.aoe maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: drbdadm
short_description: Bring a DRBD resource up or down, promote or demote it, and report its state
version_added: 0.1.0
description:
  - Drives one DRBD resource with C(drbdadm) and reports its role, disk and connection states.
  - Works with the DRBD 8.4 kernel module driven by drbd-utils 9 (what Debian ships) and with DRBD 9.
    With 8.4 the state is read from C(drbdadm status), with DRBD 9 from C(drbdsetup status --json);
    the kernel's version is read from C(/proc/drbd).
  - Changes only what differs from the requested state, so a second run reports C(changed=false).
  - In check mode nothing that changes state runs; RV(commands) lists what would run.
  - Output in a format the module does not know makes it fail with that output, never guess.
author:
  - ha_san.aoe maintainers (@ha-san)
options:
  name:
    description:
      - Name of the DRBD resource, as defined in the DRBD configuration of this host.
    type: str
    required: true
    aliases: [resource]
  state:
    description:
      - V(up) attaches the disk and connects (C(drbdadm up)) when the resource is not known to the kernel.
      - V(down) disconnects and detaches (C(drbdadm down)) when it is known to the kernel.
      - V(primary) brings the resource up if needed, then promotes it (C(drbdadm primary)).
      - V(secondary) brings the resource up if needed, then demotes it (C(drbdadm secondary)).
      - V(status) changes nothing and only reports.
    type: str
    choices: [up, down, primary, secondary, status]
    default: status
  create_md:
    description:
      - Create DRBD metadata (C(drbdadm create-md)) before bringing the resource up, but only when the
        backing disk holds no valid DRBD metadata (C(drbdadm dstate) says so).
      - Never overwrites anything, C(create-md) runs without C(--force) and with no terminal, so drbdmeta
        refuses instead of asking when it finds a file system or older metadata; the module then fails
        and shows what drbdmeta said.
      - Does nothing when the resource is already up (even V(Diskless)), because the kernel then holds the
        device and its metadata cannot be probed; take the resource down first.
    type: bool
    default: false
  force:
    description:
      - Promote with C(drbdadm primary --force). Only for the first promotion of a brand-new resource,
        whose two disks are both V(Inconsistent) and connected.
      - Refused while the peer is Primary, when the peer's disk is V(UpToDate) and the local one is not,
        and when the local disk is neither V(Inconsistent) nor V(UpToDate).
      - An V(UpToDate) local disk is promoted without C(--force); a node already Primary is left alone.
    type: bool
    default: false
  wait:
    description:
      - After the change, wait until the resource is V(connected) (connection state V(Connected)) or
        V(synced) (connected and both disks V(UpToDate)).
      - Not allowed with O(state=down).
    type: str
    choices: [connected, synced]
  timeout:
    description:
      - Seconds to wait for O(wait). On expiry the module fails and reports the last state it saw.
    type: int
    default: 300
notes:
  - Needs C(drbdadm) (and C(drbdsetup) for DRBD 9) from the package C(drbd-utils).
  - The flat return values describe volume 0 and the first peer. O(state=primary) and O(state=secondary)
    need a running resource; they bring it up first when it is down.
  - RV(connection_state) uses the words of C(drbdadm status) (drbd-utils 9) for both kernel versions,
    so DRBD 8.4's V(WFConnection) is V(Connecting); the sync state is in RV(replication_state).
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode).
    support: none
seealso:
  - name: DRBD 8.4 user's guide
    description: Resource roles, disk and connection states.
    link: https://linbit.com/drbd-user-guide/users-guide-drbd-8-4/
"""

EXAMPLES = r"""
- name: First start of a new resource (metadata only where none exists)
  ha_san.aoe.drbdadm:
    name: r0
    state: up
    create_md: true

- name: First promotion of the brand-new resource, on one node only, then wait for the initial sync
  ha_san.aoe.drbdadm:
    name: r0
    state: primary
    force: true
    wait: synced
    timeout: 600
  when: inventory_hostname in groups['primary']

- name: Read the state without changing anything
  ha_san.aoe.drbdadm:
    name: r0
  register: r0

- name: Show it
  ansible.builtin.debug:
    msg: "{{ r0.role }}/{{ r0.peer_role }} {{ r0.disk_state }}/{{ r0.peer_disk_state }}"

- name: Planned switchover, step 1 on the current primary
  ha_san.aoe.drbdadm:
    name: r0
    state: secondary
"""

RETURN = r"""
resource:
  description: Name of the resource.
  returned: always
  type: str
  sample: r0
up:
  description: Whether the kernel knows the resource (it is up).
  returned: always
  type: bool
  sample: true
role:
  description: Local role, V(Primary), V(Secondary) or V(Unknown); null when the resource is down.
  returned: always
  type: str
  sample: Primary
peer_role:
  description: Role of the peer, V(Unknown) while not connected; null when down.
  returned: always
  type: str
  sample: Secondary
disk_state:
  description: Local disk state (V(UpToDate), V(Inconsistent), V(Outdated), V(Diskless)...); null when down.
  returned: always
  type: str
  sample: UpToDate
peer_disk_state:
  description: Peer's disk state, V(DUnknown) while not connected; null when down.
  returned: always
  type: str
  sample: Inconsistent
connection_state:
  description: >-
    Connection state in the words of C(drbdadm status): V(StandAlone), V(Connecting) (8.4's
    WFConnection), V(Connected)...; null when down.
  returned: always
  type: str
  sample: Connected
replication_state:
  description: V(Established), V(SyncSource), V(SyncTarget)..., or V(Off) while not connected; null when down.
  returned: always
  type: str
  sample: SyncSource
sync_percent:
  description: Resync progress while syncing, 100.0 when both disks are UpToDate, otherwise null.
  returned: always
  type: float
  sample: 42.17
drbd_version:
  description: Version of the DRBD kernel module, from C(/proc/drbd); null when the module is not loaded.
  returned: always
  type: str
  sample: 8.4.11
commands:
  description: >-
    The state-changing commands run, in order (in check mode, the ones that would run).
    Read-only queries are not listed.
  returned: always
  type: list
  elements: str
  sample: ["drbdadm create-md r0", "drbdadm up r0"]
"""

import os  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.ha_san.aoe.plugins.module_utils.drbd_status import (  # noqa: E402
    DrbdParseError,
    describe,
    force_refusal,
    is_connected,
    is_synced,
    parse_dstate,
    parse_proc_drbd,
    parse_resource_names,
    parse_status_json,
    parse_status_text,
    summarize,
    with_dstate,
)

PROC_DRBD = "/proc/drbd"
STATES = ["up", "down", "primary", "secondary", "status"]
POLL_SECONDS = 1.0
PACKAGE_HINT = "install the package drbd-utils"


def read_proc_drbd(path: str = PROC_DRBD):
    """The text of /proc/drbd, or None when the drbd module is not loaded."""
    try:
        with open(path) as fh:
            return fh.read()
    except FileNotFoundError:
        return None


class Drbd:
    """The I/O side: runs the tools, hands their text to the pure parsers."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.name = module.params["name"]
        self.commands: list = []
        self.changed = False
        self.drbdadm = self._tool("drbdadm")
        self.version = None

    # -- plumbing ---------------------------------------------------------------------------
    def _tool(self, name: str) -> str:
        path = self.module.get_bin_path(name, required=False, opt_dirs=["/usr/sbin", "/sbin"])
        if not path:
            self.module.fail_json(
                msg=f"{name} was not found on this host: {PACKAGE_HINT}.", resource=self.name
            )
        return path

    def fail(self, msg: str, rc=None, stdout: str = "", stderr: str = "", **extra) -> None:
        result = dict(self.result_base(), msg=msg, rc=rc, stdout=stdout, stderr=stderr)
        result.update(extra)
        self.module.fail_json(**result)

    def result_base(self) -> dict:
        return {"resource": self.name, "commands": self.commands, "changed": self.changed}

    def query(self, argv: list) -> tuple:
        return self.module.run_command(argv, environ_update={"LC_ALL": "C"})

    def change(self, argv: list, what: str, hint: str = "") -> None:
        """Run a state-changing command (skipped in check mode); fail with its output."""
        shown = " ".join([os.path.basename(argv[0]), *argv[1:]])
        self.commands.append(shown)
        self.changed = True
        if self.module.check_mode:
            return
        rc, out, err = self.query(argv)
        if rc != 0:
            said = " ".join(" ".join(x.split()) for x in (out, err) if x.strip())
            self.fail(
                f"'{shown}' failed (rc={rc}) while trying to {what}. {hint}It said: {said}", rc, out, err
            )

    # -- reading state -----------------------------------------------------------------------
    def check_resource_defined(self) -> None:
        rc, out, err = self.query([self.drbdadm, "sh-resources"])
        if rc != 0:
            self.fail(
                f"drbdadm cannot read the DRBD configuration (rc={rc}); fix /etc/drbd.conf or /etc/drbd.d/.",
                rc,
                out,
                err,
            )
        names = parse_resource_names(out)
        if self.name not in names:
            known = ", ".join(names) if names else "none"
            self.fail(
                f"DRBD resource '{self.name}' is not defined for this host in the DRBD configuration; "
                f"resources configured here: {known}.",
                rc,
                out,
                err,
            )

    def read_version(self):
        text = read_proc_drbd()
        if text is None:
            return None
        try:
            return parse_proc_drbd(text)
        except DrbdParseError as exc:
            self.fail(f"{PROC_DRBD} is in a format this module does not know: {exc}", stdout=exc.text)
        return None

    def status(self) -> dict:
        proc = self.read_version()
        self.version = proc["version"] if proc else None
        if proc is None:
            return summarize(None)  # module not loaded: nothing is up
        if proc["major"] >= 9:
            argv = [self._tool("drbdsetup"), "status", "--json", self.name]
            parser = parse_status_json
        else:
            argv = [self.drbdadm, "status", self.name]
            parser = parse_status_text
        rc, out, err = self.query(argv)
        if rc != 0:
            if "No such resource" in err or "No such resource" in out:
                return summarize(None)
            self.fail(f"'{' '.join(argv)}' failed (rc={rc}): {(err or out).strip()}", rc, out, err)
        try:
            resources = parser(out)
        except DrbdParseError as exc:
            self.fail(
                f"'{' '.join(argv)}' printed something this module cannot parse ({exc}); "
                "refusing to guess the state.",
                rc,
                out,
                err,
            )
        summary = summarize(resources.get(self.name))
        if proc["major"] < 9 and summary["up"] and summary["connection_state"] != "Connected":
            summary = self.complete_peer_disk(summary)
        return summary

    def complete_peer_disk(self, summary: dict) -> dict:
        """8.4 while disconnected: the peer's disk state (Outdated after fencing) from dstate."""
        argv = [self.drbdadm, "dstate", self.name]
        rc, out, err = self.query(argv)
        if rc != 0:
            return summary  # the resource went away between the two reads; status said enough
        try:
            return with_dstate(summary, out)
        except DrbdParseError as exc:
            self.fail(f"'drbdadm dstate {self.name}' printed something unexpected ({exc}).", rc, out, err)
        return summary

    def has_valid_metadata(self) -> bool:
        """Ask drbdmeta through ``drbdadm dstate`` (on a detached resource it reads the metadata).

        Measured with drbd-utils 9.22 and the 8.4 module: ``get-gi`` exits 1 without a word when
        there is no metadata, while ``dstate`` says "No valid meta data found"; with metadata it
        prints the disk state recorded there (``Inconsistent``, ``UpToDate``...).
        """
        argv = [self.drbdadm, "dstate", self.name]
        rc, out, err = self.query(argv)
        if "No valid meta data found" in out + err:
            return False
        if rc == 0:
            try:
                parse_dstate(out)
                return True
            except DrbdParseError:
                pass
        self.fail(
            f"could not tell whether the backing disk of '{self.name}' holds DRBD metadata "
            f"('drbdadm dstate {self.name}' rc={rc}): {(err or out).strip()}",
            rc,
            out,
            err,
        )
        return False

    # -- actions -------------------------------------------------------------------------------
    def ensure_up(self, current: dict, create_md: bool) -> dict:
        if current["up"]:
            return current
        if create_md and not self.has_valid_metadata():
            self.change(
                [self.drbdadm, "create-md", self.name],
                "create metadata",
                hint=(
                    "drbdmeta refuses, or asks for a confirmation this module never gives, when the backing "
                    "disk seems to hold data (a file system, old metadata): check the disk, and wipe it "
                    "yourself if it really is scratch. "
                ),
            )
        self.change([self.drbdadm, "up", self.name], "bring the resource up")
        return self.after_change(current)

    def after_change(self, current: dict) -> dict:
        if self.module.check_mode:
            return current
        return self.status()

    def promote(self, current: dict, force: bool) -> dict:
        if current["role"] == "Primary":
            return current
        argv = [self.drbdadm, "primary", self.name]
        if not current["up"]:
            if not self.module.check_mode:
                self.fail(f"DRBD resource '{self.name}' is still down after 'drbdadm up'; cannot promote it.")
            # check mode: the resource would be brought up first, its state is not known yet
            self.commands.append(f"drbdadm primary{' --force' if force else ''} {self.name}")
            self.changed = True
            return current
        if force:
            why = force_refusal(current)
            if why:
                self.fail(f"Refusing to force '{self.name}' to Primary: {why} Now: {describe(current)}.")
            if current["disk_state"] != "UpToDate":
                argv = [self.drbdadm, "primary", "--force", self.name]
        self.change(argv, "promote the resource")
        return self.after_change(current)

    def demote(self, current: dict) -> dict:
        if current["role"] != "Primary":
            return current
        self.change([self.drbdadm, "secondary", self.name], "demote the resource")
        return self.after_change(current)

    def down(self, current: dict) -> dict:
        if not current["up"]:
            return current
        self.change([self.drbdadm, "down", self.name], "take the resource down")
        return self.after_change(current)

    def wait_for(self, current: dict, what: str, timeout: int) -> dict:
        test = is_connected if what == "connected" else is_synced
        if self.module.check_mode and self.changed:
            return current  # the state we would wait on does not exist in check mode
        deadline = time.monotonic() + timeout
        while not test(current):
            if time.monotonic() >= deadline:
                self.fail(
                    f"Timed out after {timeout} s waiting for DRBD resource '{self.name}' to be {what}; "
                    f"last state seen: {describe(current)}.",
                    **current,
                )
            time.sleep(POLL_SECONDS)
            current = self.status()
        return current


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True, aliases=["resource"]),
            state=dict(type="str", default="status", choices=STATES),
            create_md=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            wait=dict(type="str", choices=["connected", "synced"]),
            timeout=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["wait"] and p["state"] == "down":
        module.fail_json(msg="wait cannot be used with state=down: a resource that is down never connects.")
    if p["timeout"] < 0:
        module.fail_json(msg=f"timeout must be 0 or more seconds, not {p['timeout']}.")
    if p["force"] and p["state"] != "primary":
        module.fail_json(msg="force only applies to state=primary (the first promotion of a new resource).")

    drbd = Drbd(module)
    drbd.check_resource_defined()
    current = drbd.status()
    state = p["state"]
    if state == "down":
        current = drbd.down(current)
    elif state in ("up", "primary", "secondary"):
        current = drbd.ensure_up(current, p["create_md"])
        if state == "primary":
            current = drbd.promote(current, p["force"])
        elif state == "secondary":
            current = drbd.demote(current)
    if p["wait"]:
        current = drbd.wait_for(current, p["wait"], p["timeout"])

    result = drbd.result_base()
    result.update(current)
    result["drbd_version"] = drbd.version
    module.exit_json(**result)


if __name__ == "__main__":
    main()
