import dataclasses

from lab import recipe
from lab.recipe import Recipe


def test_hash_is_stable_and_short() -> None:
    a, b = Recipe("bookworm"), Recipe("bookworm")
    assert a.digest() == b.digest()
    assert len(a.digest()) == 16
    assert a.image_name() == f"bookworm-{a.digest()}"


def test_hash_ignores_order_of_lists() -> None:
    a = Recipe("bookworm")
    b = Recipe(
        "bookworm", packages=tuple(reversed(recipe.PACKAGES)), masked=tuple(reversed(recipe.MASKED_UNITS))
    )
    assert a.digest() == b.digest()


def test_hash_changes_with_each_input() -> None:
    base = Recipe("bookworm")
    variants = [
        Recipe("trixie"),
        Recipe("bookworm", packages=(*recipe.PACKAGES, "tcpdump")),
        Recipe("bookworm", include=recipe.BOOTSTRAP_INCLUDE[:-1]),
        Recipe("bookworm", masked=recipe.MASKED_UNITS[1:]),
        dataclasses.replace(base, build_version=base.build_version + 1),
    ]
    digests = {v.digest() for v in variants}
    assert base.digest() not in digests
    assert len(digests) == len(variants)


def test_hash_covers_guest_files(monkeypatch, tmp_path) -> None:
    before = Recipe("bookworm").digest()
    fake = tmp_path / "guest"
    fake.mkdir()
    for f in recipe.GUEST_DIR.iterdir():
        (fake / f.name).write_bytes(f.read_bytes())
    (fake / "ha-san-lab-boot").write_bytes(b"#!/bin/sh\necho changed\n")
    monkeypatch.setattr(recipe, "GUEST_DIR", fake)
    assert Recipe("bookworm").digest() != before


def test_package_choices() -> None:
    # heartbeat depends on inetutils-ping, which conflicts with iputils-ping
    assert "inetutils-ping" in recipe.PACKAGES and "iputils-ping" not in recipe.PACKAGES
    for needed in (
        "linux-image-amd64",
        "drbd-utils",
        "heartbeat",
        "cluster-glue",
        "vblade",
        "aoetools",
        "python3-apt",
    ):
        assert needed in recipe.PACKAGES
    assert "apt-daily.timer" in recipe.MASKED_UNITS


def test_guest_files_exist() -> None:
    for src, _dest, _mode in recipe.GUEST_FILES:
        assert (recipe.GUEST_DIR / src).is_file()
