"""The lab's commands: up, down, status, ssh, fault. Each checks everything before it acts."""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lab import (
    accel,
    config,
    fence_program,
    hosttools,
    image,
    inventory,
    monitor,
    procs,
    qemu,
    ssh,
    sshkeys,
    switch,
    vm,
)
from lab.errors import LabError
from lab.paths import StatePaths, state_paths
from lab.progress import say
from lab.state import LabState, locked, port_free
from lab.state import load as load_state
from lab.state import require as require_state
from lab.state import save as save_state


def ssh_timeout() -> float:
    """$HA_SAN_LAB_SSH_TIMEOUT or 600 s: three TCG VMs answer in 65-90 s on an idle 2-core host,
    but took 250-440 s while other VMs and containers loaded it (load average 10-12)."""
    raw = os.environ.get("HA_SAN_LAB_SSH_TIMEOUT") or "600"
    try:
        return float(raw)
    except ValueError:
        raise LabError(
            f"HA_SAN_LAB_SSH_TIMEOUT={raw!r} is not a number of seconds: set it to e.g. 600."
        ) from None


def _running(paths: StatePaths) -> dict[str, int]:
    """Everything of this lab that is alive now: VM and switch names -> verified PIDs."""
    found = {n: pid for n in config.NODE_NAMES if (pid := vm.running_pid(paths, n)) is not None}
    found |= {
        f"switch:{s}": pid for s in switch.SWITCHES if (pid := switch.running_pid(paths, s)) is not None
    }
    return found


def check_up_preconditions(paths: StatePaths, ports: dict[str, int]) -> None:
    running = _running(paths)
    if running:
        raise LabError(
            f"a lab is already running from {paths.root} ({', '.join(sorted(running))}): "
            "use it, or run `python3 -m lab down` first."
        )
    busy = [f"{p} ({n})" for n, p in ports.items() if not port_free(p)]
    if busy:
        raise LabError(
            f"port(s) {', '.join(busy)} on 127.0.0.1 already in use: free them or choose other "
            "ports with --base-port N (or HA_SAN_LAB_BASE_PORT)."
        )


def _vm_argv(tools: dict[str, str], paths: StatePaths, st: LabState, name: str, blob: str) -> list[str]:
    return qemu.argv(
        tools["qemu-system-x86_64"], config.node(name), paths, Path(st.image), st.ports[name], st.accel, blob
    )


def _wait_all(paths: StatePaths, st: LabState, names: list[str], started: dict[str, float]) -> None:
    key = paths.key
    timeout = ssh_timeout()

    def one(name: str) -> tuple[str, float | None]:
        def alive() -> bool:
            return vm.running_pid(paths, name) is not None

        remaining = timeout - (time.monotonic() - started[name])
        waited = ssh.wait(key, st.ports[name], remaining, alive)
        if waited is not None:
            total = time.monotonic() - started[name]
            say(f"{name}: SSH answered on 127.0.0.1:{st.ports[name]} {total:.1f} s after start")
            return name, total
        return name, None

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = dict(pool.map(one, names))
    failed = [n for n, t in results.items() if t is None]
    if failed:
        raise LabError(
            f"{', '.join(failed)} did not answer SSH within {timeout:.0f} s: read "
            f"{', '.join(str(paths.console(n)) for n in failed)}, then `python3 -m lab down`."
        )


def up(release: str, engine: str, base_port: int) -> None:
    paths = state_paths()
    tools = hosttools.require(hosttools.RUN_TOOLS)
    image_dir = image.cached_image(release, engine)
    ports = LabState.default_ports(base_port)
    with locked(paths):
        check_up_preconditions(paths, ports)
        accel_name = accel.detect()
        st = LabState(
            release=release,
            image=str(image_dir),
            accel=accel_name,
            ports=ports,
            started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            engine=engine,
        )
        say(f"state dir {paths.root}; image {image_dir.name}; accelerator {accel_name}")
        key = sshkeys.ensure_key(paths.key)
        blob = sshkeys.pubkey_blob(key)
        fence_program.write(paths)
        for name in config.NODE_NAMES:
            vm.fresh_disks(tools["qemu-img"], paths, image_dir, name)
        say("fresh copy-on-write overlays and blank data disks made")
        save_state(paths, st)
        try:
            for sw in switch.SWITCHES:
                pid = switch.start(tools["vde_switch"], paths, sw)
                say(f"vde_switch {sw} running (pid {pid}, socket {paths.switch_sock(sw)})")
            started: dict[str, float] = {}
            for name in config.NODE_NAMES:
                started[name] = time.monotonic()
                pid = vm.start(_vm_argv(tools, paths, st, name, blob), paths, name)
                port, console = st.ports[name], paths.console(name)
                say(f"{name}: QEMU started (pid {pid}, ssh port {port}, console {console})")
        except LabError:
            _stop_all(paths)
            raise
        say("waiting for SSH on all three VMs")
        _wait_all(paths, st, list(config.NODE_NAMES), started)
        inventory.write(config.inventory_path(), key, ports, engine)
        say(f"inventory written: {config.inventory_path()}")


def write_inventory() -> None:
    """This checkout's inventories/lab/hosts.yml for the running lab (maybe started by another checkout)."""
    paths = state_paths()
    st = require_state(paths)
    inventory.write(config.inventory_path(), paths.key, st.ports, st.engine)
    say(f"inventory written for the running lab: {config.inventory_path()}")


def _stop_all(paths: StatePaths) -> list[str]:
    stopped = []
    for name in config.NODE_NAMES:
        pid = vm.running_pid(paths, name)
        if pid is not None:
            procs.stop(pid)
            stopped.append(f"{name} (pid {pid})")
    for sw in switch.SWITCHES:
        pid = switch.running_pid(paths, sw)
        if pid is not None and switch.stop(paths, sw):
            stopped.append(f"switch {sw} (pid {pid})")
    return stopped


def down() -> None:
    paths = state_paths()
    with locked(paths):
        stopped = _stop_all(paths)
        paths.lab_json.unlink(missing_ok=True)
    say(f"stopped {', '.join(stopped)}" if stopped else "nothing of the lab was running")


def status_data(paths: StatePaths) -> dict[str, object]:
    st = load_state(paths)
    ports = st.ports if st else LabState.default_ports(config.base_port_from_env())
    nodes: dict[str, object] = {}
    for name in config.NODE_NAMES:
        pid = vm.running_pid(paths, name)
        nodes[name] = {
            "running": pid is not None,
            "pid": pid,
            "ssh_port": ports[name],
            "ssh": pid is not None and ssh.banner(ports[name], timeout=2),
        }
    switches = {
        sw: {"running": (pid := switch.running_pid(paths, sw)) is not None, "pid": pid}
        for sw in switch.SWITCHES
    }
    return {
        "state_dir": str(paths.root),
        "image": st.image if st else None,
        "engine": st.engine if st else None,
        "accel": st.accel if st else None,
        "inventory": str(config.inventory_path()),
        "nodes": nodes,
        "switches": switches,
    }


def status(as_json: bool) -> int:
    data = status_data(state_paths())
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    print(
        f"state dir {data['state_dir']}  image {data['image'] or '-'}  engine {data['engine'] or '-'}  "
        f"accel {data['accel'] or '-'}"
    )
    print(f"{'NODE':<10} {'STATE':<8} {'PID':>8} {'SSH PORT':>8}  SSH")
    for name, n in data["nodes"].items():  # type: ignore[union-attr]
        state = "running" if n["running"] else "stopped"
        ssh_state = "up" if n["ssh"] else "-"
        print(f"{name:<10} {state:<8} {n['pid'] or '-':>8} {n['ssh_port']:>8}  {ssh_state}")
    for sw, s in data["switches"].items():  # type: ignore[union-attr]
        print(f"switch {sw:<5} {'running' if s['running'] else 'stopped':<8} {s['pid'] or '-':>8}")
    return 0


def _require_running(paths: StatePaths, name: str) -> int:
    pid = vm.running_pid(paths, name)
    if pid is None:
        raise LabError(
            f"{name} is not running: start the lab with `python3 -m lab up` "
            f"(or `python3 -m lab fault boot {name}` after a crash)."
        )
    return pid


def ssh_command(name: str, command: list[str]) -> list[str]:
    paths = state_paths()
    st = require_state(paths)
    _require_running(paths, name)
    return ssh.argv(paths.key, st.ports[name], command)


def ssh_exec(name: str, command: list[str]) -> int:
    argv = ssh_command(name, command)
    sys.stdout.flush()
    os.execvp(argv[0], argv)  # the remote command's exit code becomes ours


def fault(action: str, name: str, nics: list[str] | None) -> int:
    paths = state_paths()
    node = config.node(name)
    if action in ("unplug", "plug"):
        chosen = nics or (["san", "replication"] if node.is_server else ["san"])
        netdevs = [config.nic_netdev(node, n) for n in chosen]  # validates all before acting
        _require_running(paths, name)
        for nic, netdev in zip(chosen, netdevs, strict=True):
            monitor.set_link(paths.monitor(name), netdev, up=action == "plug")
            say(
                f"{name}: {nic} cable {'plugged in' if action == 'plug' else 'pulled'} "
                f"(set_link {netdev} {'on' if action == 'plug' else 'off'}) at {time.time():.3f}"
            )
        return 0
    if nics:
        raise LabError(f"--nic only applies to unplug and plug, not {action}: drop it.")
    if action == "disk-fail":
        if not node.is_server:
            raise LabError(f"{name} has no DRBD disk: disk-fail applies to the servers.")
        _require_running(paths, name)
        monitor.drive_del(paths.monitor(name), "data")
        say(f"{name}: DRBD disk vdb fails every read and write from {time.time():.3f} (until a power cycle)")
        return 0
    with locked(paths):
        if action == "replace-disk":
            return _replace_disk(paths, name)
        if action == "crash":
            pid = _require_running(paths, name)
            t0 = time.monotonic()
            say(f"{name}: power cut (kill -9 of QEMU pid {pid}) at {time.time():.3f}")
            if not procs.kill_and_wait(pid):
                raise LabError(f"QEMU pid {pid} of {name} did not exit after kill -9: check `ps {pid}`.")
            say(f"{name}: QEMU gone {time.monotonic() - t0:.2f} s after the kill")
            return 0
        return _boot(paths, name)


def _replace_disk(paths: StatePaths, name: str) -> int:
    """A server's DRBD disks swapped for blank ones, as when a server's disks are replaced; only while off."""
    if not config.node(name).is_server:
        raise LabError(f"{name} has no DRBD disk: replace-disk applies to the servers.")
    pid = vm.running_pid(paths, name)
    if pid is not None:
        raise LabError(
            f"{name} is running (pid {pid}): power it off first with `python3 -m lab fault crash {name}`."
        )
    vm.blank_data_disk(paths, name)
    say(f"{name}: DRBD disks replaced by blank ones ({paths.vm_dir(name)}/data*.raw) at {time.time():.3f}")
    return 0


def power_on(paths: StatePaths, name: str) -> int:
    """Start NAME's QEMU again on its existing disks (no SSH wait); returns its PID."""
    st = require_state(paths)
    pid = vm.running_pid(paths, name)
    if pid is not None:
        raise LabError(
            f"{name} is already running (pid {pid}): crash it first with `python3 -m lab fault crash {name}`."
        )
    missing = [sw for sw in switch.SWITCHES if switch.running_pid(paths, sw) is None]
    if missing:
        raise LabError(f"switch(es) {', '.join(missing)} not running: restart the lab with `down` and `up`.")
    port = st.ports[name]
    if not port_free(port):
        raise LabError(f"port {port} on 127.0.0.1 is in use by something else: free it, then retry.")
    tools = hosttools.require(hosttools.RUN_TOOLS)
    blob = sshkeys.pubkey_blob(paths.key)
    return vm.start(_vm_argv(tools, paths, st, name, blob), paths, name)


def _boot(paths: StatePaths, name: str) -> int:
    st = require_state(paths)
    started = {name: time.monotonic()}
    pid = power_on(paths, name)
    say(f"{name}: QEMU started again on the same disks (pid {pid})")
    _wait_all(paths, st, [name], started)
    return 0
