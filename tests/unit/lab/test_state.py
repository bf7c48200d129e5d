"""lab.json: `up` records the cluster engine, `status` shows it, and an older lab.json still loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab import accel, cli, fence_program, hosttools, image, lifecycle, sshkeys, switch, vm
from lab.paths import state_paths
from lab.state import LabState, load, save


def test_up_records_the_engine_and_writes_it_into_the_inventory(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosts = tmp_path / "hosts.yml"
    monkeypatch.setenv("HA_SAN_LAB_INVENTORY", str(hosts))
    images: list[tuple[str, str]] = []

    def cached(release: str, engine: str) -> Path:
        images.append((release, engine))
        return tmp_path / f"{release}-{engine}-0123"

    monkeypatch.setattr(hosttools, "require", lambda tools: {t: t for t in tools})
    monkeypatch.setattr(image, "cached_image", cached)
    monkeypatch.setattr(accel, "detect", lambda: "tcg")
    monkeypatch.setattr(sshkeys, "ensure_key", lambda key: key)
    monkeypatch.setattr(sshkeys, "pubkey_blob", lambda key: "blob")
    monkeypatch.setattr(fence_program, "write", lambda paths: None)
    monkeypatch.setattr(vm, "fresh_disks", lambda *a: None)
    monkeypatch.setattr(switch, "start", lambda *a: 1)
    monkeypatch.setattr(vm, "start", lambda *a: 2)
    monkeypatch.setattr(lifecycle, "port_free", lambda port: True)
    monkeypatch.setattr(lifecycle, "_wait_all", lambda *a: None)

    assert cli.main(["up", "--engine", "pacemaker"]) == 0
    assert images == [("bookworm", "pacemaker")]
    st = load(state_paths())
    assert st is not None and st.engine == "pacemaker" and st.image.endswith("bookworm-pacemaker-0123")
    assert '    ha_san_cluster_engine: "pacemaker"' in hosts.read_text().splitlines()


def test_status_shows_the_engine(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = state_paths()
    paths.root.mkdir(parents=True)
    st = LabState(
        "trixie", "/img/trixie-pacemaker-0", "tcg", LabState.default_ports(2221), "now", "pacemaker"
    )
    save(paths, st)
    assert cli.main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["engine"] == "pacemaker"
    assert cli.main(["status"]) == 0
    assert "engine pacemaker" in capsys.readouterr().out.splitlines()[0]


def test_status_without_a_lab_shows_no_engine(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["engine"] is None


def test_lab_json_from_before_the_engine_knob_is_heartbeat(state: Path) -> None:
    # a lab started by the code before --engine existed keeps working (status, ssh, fault) after an update
    paths = state_paths()
    paths.root.mkdir(parents=True)
    old = {
        "release": "bookworm",
        "image": "/img/bookworm-4d7ab9bf226048a6",
        "accel": "tcg",
        "ports": {"primary": 2221, "secondary": 2222, "client": 2223},
        "started_at": "2025-01-01T00:00:00+0000",
    }
    paths.lab_json.write_text(json.dumps(old))
    st = load(paths)
    assert st is not None and st.engine == "heartbeat" and st.ports == old["ports"]


def test_inventory_command_writes_this_checkouts_hosts_for_the_running_lab(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lab started from another checkout: `lab inventory` names its VMs, ports, key and engine here."""
    from lab import cli

    hosts = tmp_path / "checkout" / "hosts.yml"
    hosts.parent.mkdir()
    monkeypatch.setenv("HA_SAN_LAB_INVENTORY", str(hosts))
    paths = state_paths()
    paths.root.mkdir(parents=True)
    ports = LabState.default_ports(2301)
    save(
        paths,
        LabState(
            release="bookworm", image="/img", accel="tcg", ports=ports, started_at="now", engine="pacemaker"
        ),
    )
    assert cli.main(["inventory"]) == 0
    text = hosts.read_text()
    assert 'ha_san_cluster_engine: "pacemaker"' in text
    assert all(f"ansible_port: {port}" in text for port in ports.values())
    assert str(paths.key) in text
