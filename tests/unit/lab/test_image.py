"""The image cache: keyed by recipe, atomic, never deletes through a mount."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import hosttools, image
from lab.errors import LabError
from lab.recipe import Recipe


@pytest.fixture
def can_build(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image.os, "geteuid", lambda: 0)
    monkeypatch.setattr(hosttools, "require", lambda tools: {t: t for t in tools})
    monkeypatch.setattr(image, "check_mirror", lambda release: None)


def _fake_build(out: Path, recipe: Recipe) -> None:
    for name in image.IMAGE_FILES:
        (out / name).write_text(name)


def test_build_puts_image_under_its_recipe_hash(can_build, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(image, "_build_into", lambda out, r: (calls.append(out), _fake_build(out, r)))
    path = image.build("bookworm", "heartbeat")
    assert path == image.images_dir() / Recipe("bookworm", "heartbeat").image_name()
    assert image.is_complete(path)
    assert image.cached_image("bookworm", "heartbeat") == path
    # second build: instant, nothing rebuilt
    assert image.build("bookworm", "heartbeat") == path
    assert len(calls) == 1
    assert not list(image.images_dir().glob(".tmp-*"))


def test_cache_lives_outside_the_repository(state: Path, monkeypatch) -> None:
    from lab import config

    monkeypatch.delenv("HA_SAN_LAB_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(state / "xdg"))
    assert image.images_dir() == state / "xdg" / "ha_san" / "lab" / "images"
    assert config.REPO_ROOT not in image.images_dir().parents


def test_interrupted_build_leaves_no_cached_image(can_build, monkeypatch) -> None:
    def half(out: Path, recipe: Recipe) -> None:
        (out / "base.qcow2").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(image, "_build_into", half)
    with pytest.raises(KeyboardInterrupt):
        image.build("bookworm", "heartbeat")
    assert not (image.images_dir() / Recipe("bookworm", "heartbeat").image_name()).exists()
    assert not list(image.images_dir().glob(".tmp-*"))
    with pytest.raises(LabError, match="python3 -m lab build --release bookworm --engine heartbeat"):
        image.cached_image("bookworm", "heartbeat")


def test_leftovers_of_a_killed_build_are_removed(can_build, monkeypatch) -> None:
    stale = image.images_dir() / ".tmp-bookworm-0123-99999"
    (stale / "root").mkdir(parents=True)
    monkeypatch.setattr(image, "_build_into", _fake_build)
    image.build("bookworm", "heartbeat")
    assert not stale.exists()


def test_incomplete_final_dir_is_rebuilt(can_build, monkeypatch) -> None:
    final = image.images_dir() / Recipe("bookworm", "heartbeat").image_name()
    final.mkdir(parents=True)
    (final / "base.qcow2").write_text("no manifest: not complete")
    monkeypatch.setattr(image, "_build_into", _fake_build)
    assert image.build("bookworm", "heartbeat") == final
    assert (final / "manifest.json").read_text() == "manifest.json"


def test_remove_tree_refuses_while_something_is_mounted_inside(tmp_path: Path, monkeypatch) -> None:
    victim = tmp_path / "root"
    (victim / "dev").mkdir(parents=True)
    monkeypatch.setattr(image, "mounts_under", lambda p: [str(victim / "dev")])
    with pytest.raises(LabError, match="still has mounts"):
        image.remove_tree(victim)
    assert (victim / "dev").is_dir()


def test_mounts_under_reads_the_mount_table() -> None:
    assert "/proc" in image.mounts_under(Path("/proc"))
    assert image.mounts_under(Path("/proc/self/fd")) == []


def test_unknown_release(state: Path) -> None:
    with pytest.raises(LabError, match="unknown release 'sid'"):
        image.build("sid", "heartbeat")


def test_unknown_engine(state: Path) -> None:
    with pytest.raises(LabError, match="unknown cluster engine 'corosync'"):
        image.build("bookworm", "corosync")


def test_each_engine_has_its_own_image_beside_the_other(can_build, monkeypatch) -> None:
    monkeypatch.setattr(image, "_build_into", _fake_build)
    heartbeat = image.build("bookworm", "heartbeat")
    pacemaker = image.build("bookworm", "pacemaker")
    assert heartbeat.name.startswith("bookworm-heartbeat-")
    assert pacemaker.name.startswith("bookworm-pacemaker-")
    assert image.is_complete(heartbeat) and image.is_complete(pacemaker)
    assert image.cached_image("bookworm", "pacemaker") == pacemaker
    with pytest.raises(LabError, match=r"no trixie image with pacemaker .* --engine pacemaker"):
        image.cached_image("trixie", "pacemaker")
