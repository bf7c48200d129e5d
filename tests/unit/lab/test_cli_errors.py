"""Bad input: a clear one-sentence error, exit code 2, and nothing started or changed."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from lab import cli, hosttools, image, lifecycle, monitor, procs, switch, vm


@pytest.fixture
def nothing_may_start(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("must not be called on bad input")

    for mod, name in (
        (switch, "start"),
        (vm, "start"),
        (vm, "fresh_disks"),
        (monitor, "set_link"),
        (procs, "kill_and_wait"),
        (procs, "stop"),
    ):
        monkeypatch.setattr(mod, name, boom)


@pytest.fixture
def fake_image(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(image, "cached_image", lambda release, engine: tmp_path / "img")
    monkeypatch.setattr(hosttools, "require", lambda tools: {t: t for t in tools})


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = cli.main(list(argv))
    err = capsys.readouterr().err
    return rc, err


def _one_sentence(err: str) -> None:
    assert err.startswith("lab: error: ")
    assert err.rstrip().endswith(".")


def test_unknown_node(state: Path, capsys, nothing_may_start) -> None:
    for argv in (["ssh", "nosuch", "--", "true"], ["fault", "crash", "nosuch"], ["fault", "unplug", "web1"]):
        rc, err = run(capsys, *argv)
        assert rc == 2
        assert "unknown node" in err and "primary, secondary, client" in err
        _one_sentence(err)


def test_unknown_nic_is_refused_by_the_parser(state: Path, capsys, nothing_may_start) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["fault", "unplug", "primary", "--nic", "mgmt"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_replication_nic_on_client(state: Path, capsys, nothing_may_start) -> None:
    rc, err = run(capsys, "fault", "unplug", "client", "--nic", "replication")
    assert rc == 2
    assert "client has no replication NIC" in err and "--nic san" in err
    # even when mixed with a valid NIC nothing happens
    rc, err = run(capsys, "fault", "plug", "client", "--nic", "san", "--nic", "replication")
    assert rc == 2


def test_nic_with_crash_is_refused(state: Path, capsys, nothing_may_start) -> None:
    rc, err = run(capsys, "fault", "crash", "primary", "--nic", "san")
    assert rc == 2 and "--nic only applies" in err


def test_commands_that_need_a_running_lab(state: Path, capsys, nothing_may_start) -> None:
    rc, err = run(capsys, "ssh", "primary", "--", "true")
    assert rc == 2 and "python3 -m lab up" in err
    rc, err = run(capsys, "fault", "crash", "primary")
    assert rc == 2 and "primary is not running" in err
    rc, err = run(capsys, "fault", "unplug", "secondary", "--nic", "san")
    assert rc == 2 and "secondary is not running" in err
    rc, err = run(capsys, "fault", "boot", "client")
    assert rc == 2 and "no lab has been started" in err


def test_up_while_running(state: Path, capsys, nothing_may_start, fake_image, monkeypatch) -> None:
    monkeypatch.setattr(vm, "running_pid", lambda paths, n: 4242 if n == "secondary" else None)
    rc, err = run(capsys, "up")
    assert rc == 2
    assert "a lab is already running" in err and "secondary" in err and "lab down" in err
    _one_sentence(err)


def test_up_port_in_use(state: Path, capsys, nothing_may_start, fake_image) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        base = busy - 1 if busy > 1024 else busy
        rc, err = run(capsys, "up", "--base-port", str(base))
    assert rc == 2
    assert f"{busy} (" in err and "already in use" in err and "--base-port" in err


def test_up_without_image(state: Path, capsys, nothing_may_start, monkeypatch) -> None:
    monkeypatch.setattr(hosttools, "require", lambda tools: {t: t for t in tools})
    rc, err = run(capsys, "up", "--release", "trixie")
    assert rc == 2 and "python3 -m lab build --release trixie" in err


def test_missing_host_tool_names_the_package(state: Path, capsys, nothing_may_start, monkeypatch) -> None:
    real = hosttools.find
    monkeypatch.setattr(hosttools, "find", lambda t: None if t == "vde_switch" else real(t))
    rc, err = run(capsys, "up")
    assert rc == 2
    assert "vde_switch" in err and "apt-get install vde2" in err


def test_build_needs_root(state: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(image.os, "geteuid", lambda: 1000)
    rc, err = run(capsys, "build")
    assert rc == 2 and "needs root" in err


def test_bad_base_port(state: Path, capsys, nothing_may_start, monkeypatch) -> None:
    rc, err = run(capsys, "up", "--base-port", "80")
    assert rc == 2 and "out of range" in err
    monkeypatch.setenv("HA_SAN_LAB_BASE_PORT", "lots")
    rc, err = run(capsys, "up")
    assert rc == 2 and "HA_SAN_LAB_BASE_PORT" in err


def test_state_dir_too_long_for_sockets(tmp_path: Path, capsys, nothing_may_start, monkeypatch) -> None:
    monkeypatch.setenv("HA_SAN_LAB_STATE", str(tmp_path / ("x" * 100)))
    rc, err = run(capsys, "status")
    assert rc == 2 and "too long for unix sockets" in err and "HA_SAN_LAB_STATE" in err


def test_unplug_default_is_all_storage_nics(state: Path, monkeypatch) -> None:
    calls: list[tuple[str, bool]] = []
    monkeypatch.setattr(lifecycle, "_require_running", lambda paths, name: 1)
    monkeypatch.setattr(monitor, "set_link", lambda path, netdev, up: calls.append((netdev, up)))
    assert cli.main(["fault", "unplug", "primary"]) == 0
    assert calls == [("san", False), ("repl", False)]
    calls.clear()
    assert cli.main(["fault", "plug", "client"]) == 0
    assert calls == [("san", True)]
    calls.clear()
    assert cli.main(["fault", "unplug", "secondary", "--nic", "replication"]) == 0
    assert calls == [("repl", False)]


def test_status_json_when_nothing_runs(state: Path, capsys) -> None:
    import json

    assert cli.main(["status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["nodes"]) == {"primary", "secondary", "client"}
    assert all(not n["running"] and n["pid"] is None for n in data["nodes"].values())
    assert [n["ssh_port"] for n in data["nodes"].values()] == [2221, 2222, 2223]


def test_unreachable_mirror_is_named(state: Path, capsys, monkeypatch) -> None:
    def no_route(*_a: object, **_k: object) -> None:
        raise OSError(113, "No route to host")

    monkeypatch.setattr(image.os, "geteuid", lambda: 0)
    monkeypatch.setattr(hosttools, "require", lambda tools: {t: t for t in tools})
    monkeypatch.setattr(image.urllib.request, "urlopen", no_route)
    monkeypatch.setattr(image.socket, "gethostbyname", lambda host: "203.0.113.80")
    monkeypatch.setattr(image, "_build_into", lambda *a: pytest.fail("must not build"))
    rc, err = run(capsys, "build")
    assert rc == 2
    assert "cannot reach the Debian mirror" in err and "ip route get 203.0.113.80" in err
    assert not list((state.parent / "cache" / "images").glob("bookworm-*"))


def test_inventory_path_override(monkeypatch, tmp_path: Path) -> None:
    from lab import config

    monkeypatch.delenv("HA_SAN_LAB_INVENTORY", raising=False)
    assert config.inventory_path() == config.REPO_ROOT / "inventories" / "lab" / "hosts.yml"
    monkeypatch.setenv("HA_SAN_LAB_INVENTORY", str(tmp_path / "hosts.yml"))
    assert config.inventory_path() == tmp_path / "hosts.yml"


def test_release_from_environment(state: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(hosttools, "require", lambda tools: {t: t for t in tools})
    monkeypatch.setenv("HA_SAN_LAB_RELEASE", "trixie")
    rc, err = run(capsys, "up")
    assert rc == 2 and "no trixie image" in err
    monkeypatch.setenv("HA_SAN_LAB_RELEASE", "sid")
    rc, err = run(capsys, "up")
    assert rc == 2 and "HA_SAN_LAB_RELEASE='sid' is not supported" in err


def test_engine_from_environment(state: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(hosttools, "require", lambda tools: {t: t for t in tools})
    rc, err = run(capsys, "up")
    assert rc == 2 and "no bookworm image with heartbeat" in err and "--engine heartbeat" in err
    monkeypatch.setenv("HA_SAN_LAB_ENGINE", "pacemaker")
    rc, err = run(capsys, "up")
    assert rc == 2 and "no bookworm image with pacemaker" in err
    assert "python3 -m lab build --release bookworm --engine pacemaker" in err
    _one_sentence(err)
    # the option wins over the environment
    rc, err = run(capsys, "up", "--engine", "heartbeat")
    assert rc == 2 and "with heartbeat" in err
    for bad in ("corosync", "Heartbeat"):
        monkeypatch.setenv("HA_SAN_LAB_ENGINE", bad)
        for argv in (["up"], ["build"]):
            rc, err = run(capsys, *argv)
            assert rc == 2
            assert f"HA_SAN_LAB_ENGINE={bad!r} is not supported: use one of heartbeat, pacemaker." in err
            _one_sentence(err)


def test_unknown_engine_is_refused_by_the_parser(state: Path, capsys, nothing_may_start) -> None:
    for argv in (["up", "--engine", "corosync"], ["build", "--engine", "corosync"]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2
        assert "invalid choice" in capsys.readouterr().err


def test_build_passes_the_engine(state: Path, monkeypatch) -> None:
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(image, "build", lambda release, engine: calls.append((release, engine)))
    assert cli.main(["build"]) == 0
    monkeypatch.setenv("HA_SAN_LAB_ENGINE", "pacemaker")
    assert cli.main(["build", "--release", "trixie"]) == 0
    assert cli.main(["build", "--engine", "heartbeat"]) == 0
    assert calls == [("bookworm", "heartbeat"), ("trixie", "pacemaker"), ("bookworm", "heartbeat")]


def test_replace_disk_refuses_a_running_server_and_the_client(state: Path, capsys, monkeypatch) -> None:
    def must_not_blank(*_args: object) -> None:
        raise AssertionError("a running server's disk was blanked")

    monkeypatch.setattr(vm, "blank_data_disk", must_not_blank)
    monkeypatch.setattr(vm, "running_pid", lambda paths, n: 4242)
    rc, err = run(capsys, "fault", "replace-disk", "secondary")
    assert rc == 2 and "secondary is running (pid 4242)" in err and "fault crash secondary" in err
    _one_sentence(err)
    rc, err = run(capsys, "fault", "replace-disk", "client")
    assert rc == 2 and "client has no DRBD disk" in err
    _one_sentence(err)


def test_replace_disk_gives_a_powered_off_server_a_blank_disk(state: Path, capsys, monkeypatch) -> None:
    from lab.paths import state_paths

    paths = state_paths()
    disk = paths.data_disk("secondary")
    disk.parent.mkdir(parents=True, exist_ok=True)
    disk.write_bytes(b"old data" * 512)
    monkeypatch.setattr(vm, "running_pid", lambda paths, n: None)
    rc, _err = run(capsys, "fault", "replace-disk", "secondary")
    assert rc == 0
    with open(disk, "rb") as f:
        head = f.read(1 << 20)
    assert head == b"\0" * len(head) and disk.stat().st_size > 4096


def test_disk_fail_refuses_the_client_and_a_stopped_server(state: Path, capsys, nothing_may_start) -> None:
    rc, err = run(capsys, "fault", "disk-fail", "client")
    assert rc == 2 and "client has no DRBD disk" in err
    rc, err = run(capsys, "fault", "disk-fail", "primary")
    assert rc == 2 and "primary is not running" in err


def test_inventory_without_a_running_lab_is_refused(
    state: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HA_SAN_LAB_INVENTORY", str(tmp_path / "hosts.yml"))
    rc, err = run(capsys, "inventory")
    assert rc == 2 and "no lab has been started" in err and "python3 -m lab up" in err
    assert not (tmp_path / "hosts.yml").exists()
