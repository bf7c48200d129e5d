import dataclasses

from lab import config, recipe
from lab.recipe import Recipe

HEARTBEAT = ("heartbeat", "cluster-glue", "inetutils-ping")
PACEMAKER = ("pacemaker", "pacemaker-cli-utils", "corosync", "resource-agents", "iputils-ping")


def test_hash_is_stable_and_short() -> None:
    a, b = Recipe("bookworm", "heartbeat"), Recipe("bookworm", "heartbeat")
    assert a.digest() == b.digest()
    assert len(a.digest()) == 16
    assert a.image_name() == f"bookworm-heartbeat-{a.digest()}"


def test_hash_ignores_order_of_lists() -> None:
    a = Recipe("bookworm", "heartbeat")
    b = Recipe(
        "bookworm",
        "heartbeat",
        common_packages=tuple(reversed(recipe.COMMON_PACKAGES)),
        masked=tuple(reversed(recipe.MASKED_UNITS)),
    )
    assert a.digest() == b.digest()


def test_hash_changes_with_each_input() -> None:
    base = Recipe("bookworm", "heartbeat")
    variants = [
        Recipe("trixie", "heartbeat"),
        Recipe("bookworm", "pacemaker"),
        Recipe("bookworm", "heartbeat", common_packages=(*recipe.COMMON_PACKAGES, "tcpdump")),
        Recipe("bookworm", "heartbeat", include=recipe.BOOTSTRAP_INCLUDE[:-1]),
        Recipe("bookworm", "heartbeat", masked=recipe.MASKED_UNITS[1:]),
        dataclasses.replace(base, build_version=base.build_version + 1),
    ]
    digests = {v.digest() for v in variants}
    assert base.digest() not in digests
    assert len(digests) == len(variants)


def test_hash_covers_the_engine_name_itself(monkeypatch) -> None:
    # Even with identical package sets, the two engines' images must not share a hash.
    monkeypatch.setitem(recipe.ENGINE_PACKAGES, "pacemaker", recipe.ENGINE_PACKAGES["heartbeat"])
    assert Recipe("bookworm", "heartbeat").digest() != Recipe("bookworm", "pacemaker").digest()


def test_each_engine_has_its_own_image_name() -> None:
    for release in config.RELEASES:
        names = {Recipe(release, e).image_name() for e in config.ENGINES}
        assert len(names) == len(config.ENGINES)
        for engine in config.ENGINES:
            assert Recipe(release, engine).image_name().startswith(f"{release}-{engine}-")


def test_hash_covers_guest_files(monkeypatch, tmp_path) -> None:
    before = Recipe("bookworm", "heartbeat").digest()
    fake = tmp_path / "guest"
    fake.mkdir()
    for f in recipe.GUEST_DIR.iterdir():
        (fake / f.name).write_bytes(f.read_bytes())
    (fake / "ha-san-lab-boot").write_bytes(b"#!/bin/sh\necho changed\n")
    monkeypatch.setattr(recipe, "GUEST_DIR", fake)
    assert Recipe("bookworm", "heartbeat").digest() != before


def test_one_package_set_per_engine() -> None:
    assert tuple(recipe.ENGINE_PACKAGES) == config.ENGINES
    assert config.DEFAULT_ENGINE in config.ENGINES


def test_engine_package_sets() -> None:
    heartbeat = Recipe("bookworm", "heartbeat").packages
    pacemaker = Recipe("bookworm", "pacemaker").packages
    assert set(heartbeat) == {*recipe.COMMON_PACKAGES, *HEARTBEAT}
    assert set(pacemaker) == {*recipe.COMMON_PACKAGES, *PACEMAKER}
    assert len(heartbeat) == len(set(heartbeat)) and len(pacemaker) == len(set(pacemaker))
    # heartbeat depends on inetutils-ping, which conflicts with iputils-ping: never both in one image
    assert "inetutils-ping" in heartbeat and "iputils-ping" not in heartbeat
    assert "iputils-ping" in pacemaker and "inetutils-ping" not in pacemaker
    # neither engine's packages leak into the other's image
    assert not set(HEARTBEAT) & set(pacemaker) and not set(PACEMAKER) & set(heartbeat)


def test_the_heartbeat_image_keeps_its_package_set() -> None:
    # the package set of the image from before the engine was a choice, unchanged
    assert set(Recipe("bookworm", "heartbeat").packages) == {
        "linux-image-amd64",
        "initramfs-tools",
        "kmod",
        "udev",
        "drbd-utils",
        "heartbeat",
        "cluster-glue",
        "vblade",
        "aoetools",
        "e2fsprogs",
        "procps",
        "inetutils-ping",
        "python3-apt",
        "linux-headers-amd64",
        "linux-source",
        "make",
        "patch",
        "xz-utils",
        "fio",
    }


def test_common_package_choices() -> None:
    for needed in ("linux-image-amd64", "drbd-utils", "vblade", "aoetools", "python3-apt"):
        assert needed in recipe.COMMON_PACKAGES
    for engine_only in (*HEARTBEAT, *PACEMAKER):
        assert engine_only not in recipe.COMMON_PACKAGES
    assert "apt-daily.timer" in recipe.MASKED_UNITS


def test_manifest_records_the_engine_and_its_packages() -> None:
    d = Recipe("trixie", "pacemaker").as_dict()
    assert d["release"] == "trixie" and d["engine"] == "pacemaker"
    packages = d["packages"]
    assert isinstance(packages, list) and "corosync" in packages and "heartbeat" not in packages


def test_guest_files_exist() -> None:
    for src, _dest, _mode in recipe.GUEST_FILES:
        assert (recipe.GUEST_DIR / src).is_file()
