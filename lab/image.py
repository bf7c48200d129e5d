"""Build the lab's Debian image (debootstrap + chroot) into the cache, atomically.

The image dir is built under a temporary name next to its final place and renamed at the
end, so an interrupted build can never leave something that looks like a cached image.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab import config, hosttools
from lab.errors import LabError
from lab.progress import say
from lab.recipe import GUEST_DIR, GUEST_FILES, MIRROR, POLICY_RC_D, Recipe

ROOT_FS_SIZE = 3 * 1024**3
IMAGE_FILES = ("base.qcow2", "vmlinuz", "initrd.img", "manifest.json")
_TMP_PREFIX = ".tmp-"


def images_dir() -> Path:
    return config.cache_dir() / "images"


def image_dir(recipe: Recipe) -> Path:
    return images_dir() / recipe.image_name()


def is_complete(path: Path) -> bool:
    return all((path / f).is_file() for f in IMAGE_FILES)


def cached_image(release: str, engine: str) -> Path:
    """The cached image for RELEASE's and ENGINE's current recipe, or a LabError saying to build it."""
    path = image_dir(Recipe(release, engine))
    if not is_complete(path):
        raise LabError(
            f"no {release} image with {engine} for the current recipe in {images_dir()}: "
            f"run `python3 -m lab build --release {release} --engine {engine}` first."
        )
    return path


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below PATH (so we never delete through a bind mount of /dev)."""
    prefix = str(path.resolve())
    found = []
    with open("/proc/self/mounts", encoding="utf-8") as f:
        for line in f:
            mnt = line.split()[1].replace("\\040", " ")
            if mnt == prefix or mnt.startswith(prefix + "/"):
                found.append(mnt)
    return found


def remove_tree(path: Path) -> None:
    """rm -rf PATH, but only when nothing is mounted inside it."""
    if not path.exists():
        return
    left = mounts_under(path)
    if left:
        raise LabError(f"{path} still has mounts ({', '.join(left)}): unmount them, then retry.")
    shutil.rmtree(path)


@contextmanager
def _build_lock() -> Iterator[None]:
    """One build at a time per cache: a second one waits instead of racing on the same dirs."""
    images_dir().mkdir(parents=True, exist_ok=True)
    with open(images_dir() / ".lock", "w", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("another build holds the cache lock; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _remove_stale_tmp() -> None:
    # We hold the lock, so every temporary dir left is from a build that died.
    for stale in images_dir().glob(_TMP_PREFIX + "*"):
        say(f"removing leftovers of an interrupted build: {stale.name}")
        remove_tree(stale)


class _Runner:
    """Runs build commands with their output in build.log, showing its tail on failure."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def __call__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        with open(self.log, "a", encoding="utf-8") as out:
            out.write(f"\n$ {' '.join(argv)}\n")
            out.flush()
            rc = subprocess.run(
                argv, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL, check=False
            ).returncode
        if rc != 0:
            tail = self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
            raise LabError(
                f"`{' '.join(argv[:4])} ...` failed with exit code {rc} (see {self.log}); "
                "last lines:\n    " + "\n    ".join(tail)
            )


@contextmanager
def _chroot_mounts(root: Path, run: _Runner) -> Iterator[None]:
    """proc, sys and dev inside ROOT for the kernel's postinst; always unmounted again."""
    points = [
        ("proc", root / "proc", ["-t", "proc", "proc"]),
        ("sys", root / "sys", ["-t", "sysfs", "sysfs"]),
        ("dev", root / "dev", ["--bind", "/dev"]),
        ("dev/pts", root / "dev" / "pts", ["--bind", "/dev/pts"]),
    ]
    done: list[Path] = []
    try:
        for _name, target, how in points:
            target.mkdir(parents=True, exist_ok=True)
            run(["mount", *how, str(target)])
            done.append(target)
        yield
    finally:
        for target in reversed(done):
            if subprocess.run(["umount", str(target)], check=False).returncode != 0:
                subprocess.run(["umount", "-l", str(target)], check=False)


def _chroot_env() -> dict[str, str]:
    return {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "DEBIAN_FRONTEND": "noninteractive",
        "LC_ALL": "C.UTF-8",
        "HOME": "/root",
    }


def _install_guest_files(root: Path, recipe: Recipe) -> None:
    for src, dest, mode in GUEST_FILES:
        target = root / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GUEST_DIR / src, target)
        target.chmod(mode)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    link = wants / "ha-san-lab-boot.service"
    if not link.is_symlink():
        link.symlink_to("/etc/systemd/system/ha-san-lab-boot.service")
    for unit in recipe.masked:
        mask = root / "etc/systemd/system" / unit
        if mask.is_symlink() or mask.exists():
            mask.unlink()
        mask.symlink_to("/dev/null")


def _finish_root(root: Path) -> None:
    """After the packages: drop what each VM must make for itself, set neutral identity."""
    # Each VM must make its own host key and machine-id at first boot, never share the build's.
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("", encoding="utf-8")
    dbus_id = root / "var/lib/dbus/machine-id"
    if dbus_id.is_file() and not dbus_id.is_symlink():
        dbus_id.unlink()
    (root / "etc/hostname").write_text("ha-san-lab\n", encoding="utf-8")
    (root / "etc/hosts").write_text(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", encoding="utf-8"
    )
    # A persistent journal, so the log of a node that was crashed on purpose survives its reboot.
    (root / "var/log/journal").mkdir(parents=True, exist_ok=True)


def _copy_kernel(root: Path, out: Path) -> str:
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    if len(kernels) != 1:
        raise LabError(f"expected one kernel in {root / 'boot'}, found {len(kernels)}: rebuild the image.")
    version = kernels[0].name.removeprefix("vmlinuz-")
    shutil.copyfile(kernels[0], out / "vmlinuz")
    shutil.copyfile(root / "boot" / f"initrd.img-{version}", out / "initrd.img")
    return version


def build(release: str, engine: str) -> Path:
    """Build RELEASE's image with ENGINE unless the cache already has it; returns the image dir."""
    if release not in config.RELEASES:
        raise LabError(f"unknown release {release!r}: use one of {', '.join(config.RELEASES)}.")
    if engine not in config.ENGINES:
        raise LabError(f"unknown cluster engine {engine!r}: use one of {', '.join(config.ENGINES)}.")
    recipe = Recipe(release, engine)
    final = image_dir(recipe)
    if is_complete(final):
        say(f"image {final.name} is cached at {final}; nothing to build")
        return final
    if os.geteuid() != 0:
        raise LabError("building the image needs root (debootstrap, chroot, mount): run it as root.")
    hosttools.require(hosttools.BUILD_TOOLS)
    check_mirror(release)
    with _build_lock():
        if is_complete(final):  # another build finished it while we waited for the lock
            say(f"image {final.name} was built meanwhile; nothing to build")
            return final
        _remove_stale_tmp()
        tmp = images_dir() / f"{_TMP_PREFIX}{final.name}-{os.getpid()}"
        tmp.mkdir(parents=True)
        try:
            _build_into(tmp, recipe)
            if final.exists():  # an incomplete dir with the final name: not ours to trust
                remove_tree(final)
            tmp.rename(final)
        finally:
            remove_tree(tmp)
    say(f"image ready: {final}")
    return final


def check_mirror(release: str, timeout: float = 10.0) -> None:
    """Fail in seconds, with the reason, instead of deep inside debootstrap's log."""
    url = f"{MIRROR}/dists/{release}/Release"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return
    except (OSError, ValueError) as e:
        host = urllib.parse.urlsplit(MIRROR).hostname or "the mirror"
        try:
            addr = socket.gethostbyname(host)
        except OSError:
            addr = host
        raise LabError(
            f"cannot reach the Debian mirror ({url}: {e}): check the host's network, and that no local "
            f"route (e.g. a docker network) covers {host}'s address (`ip route get {addr}`)."
        ) from e


def _build_into(out: Path, recipe: Recipe) -> None:
    t0 = time.monotonic()
    run = _Runner(out / "build.log")
    root = out / "root"
    timings: dict[str, float] = {}

    def step(name: str, start: float) -> None:
        timings[name] = round(time.monotonic() - start, 1)
        say(f"{name} done in {timings[name]} s")

    t = time.monotonic()
    say(f"debootstrap {recipe.release} (minbase) from {MIRROR}; log: {run.log}")
    run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(recipe.include)}",
            recipe.release,
            str(root),
            MIRROR,
        ]
    )
    step("debootstrap", t)

    t = time.monotonic()
    # Guest files go in before the packages: the initramfs settings must exist when the
    # kernel's postinst builds the initrd.
    _install_guest_files(root, recipe)
    policy = root / "usr/sbin/policy-rc.d"
    shutil.copyfile(GUEST_DIR / POLICY_RC_D, policy)
    policy.chmod(0o755)
    say(
        f"installing {len(recipe.packages)} packages ({recipe.engine} engine) in the chroot "
        "(services kept from starting)"
    )
    env = _chroot_env()
    with _chroot_mounts(root, run):
        run(["chroot", str(root), "apt-get", "update"], env=env)
        run(
            ["chroot", str(root), "apt-get", "install", "-y", "--no-install-recommends", *recipe.packages],
            env=env,
        )
        run(["chroot", str(root), "apt-get", "clean"], env=env)
    policy.unlink()
    step("chroot install", t)

    t = time.monotonic()
    _finish_root(root)
    kernel = _copy_kernel(root, out)
    raw = out / "root.raw"
    with open(raw, "wb") as f:
        f.truncate(ROOT_FS_SIZE)
    say("making the root file system (mkfs.ext4 -d) and converting it to qcow2")
    run(["mkfs.ext4", "-q", "-F", "-L", "ha_san_root", "-d", str(root), str(raw)])
    run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(out / "base.qcow2")])
    raw.unlink()
    remove_tree(root)
    # The base is shared by every overlay: read-only so nothing can write into it by mistake.
    (out / "base.qcow2").chmod(0o444)
    step("disk image", t)

    manifest = {
        "recipe": recipe.as_dict(),
        "digest": recipe.digest(),
        "kernel": kernel,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "timings_s": timings,
        "total_s": round(time.monotonic() - t0, 1),
    }
    # Written last: its presence is part of what makes an image complete.
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
