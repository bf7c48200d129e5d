from pathlib import Path

import pytest

from lab import accel
from lab.errors import LabError

INTEL = "processor\t: 0\nflags\t\t: fpu vme de pse vmx sse2\n"
PLAIN = "processor\t: 0\nflags\t\t: fpu vme de pse sse2 hypervisor\n"


def _cpuinfo(tmp_path: Path, text: str) -> str:
    p = tmp_path / "cpuinfo"
    p.write_text(text)
    return str(p)


def _kvm(tmp_path: Path) -> str:
    p = tmp_path / "kvm"
    p.write_text("")
    return str(p)


def test_cpu_flags() -> None:
    assert accel.cpu_has_virt(INTEL)
    assert accel.cpu_has_virt("flags : svm lm")
    assert not accel.cpu_has_virt(PLAIN)
    assert not accel.cpu_has_virt("")
    # a flag name inside another word must not count
    assert not accel.cpu_has_virt("flags : vmxnet svmx")


def test_dev_kvm_without_cpu_flag_means_tcg(tmp_path: Path) -> None:
    # This machine: /dev/kvm exists (kvm_pvm) but the CPU shows no vmx/svm.
    assert accel.detect(_cpuinfo(tmp_path, PLAIN), _kvm(tmp_path), env={}) == "tcg"


def test_flag_without_dev_kvm_means_tcg(tmp_path: Path) -> None:
    assert accel.detect(_cpuinfo(tmp_path, INTEL), str(tmp_path / "absent"), env={}) == "tcg"


def test_real_kvm(tmp_path: Path) -> None:
    assert accel.detect(_cpuinfo(tmp_path, INTEL), _kvm(tmp_path), env={}) == "kvm"


def test_unreadable_cpuinfo_means_tcg(tmp_path: Path) -> None:
    assert accel.detect(str(tmp_path / "nope"), _kvm(tmp_path), env={}) == "tcg"


def test_env_forces_tcg(tmp_path: Path) -> None:
    env = {"HA_SAN_LAB_ACCEL": "tcg"}
    assert accel.detect(_cpuinfo(tmp_path, INTEL), _kvm(tmp_path), env=env) == "tcg"


def test_env_kvm_refused_without_kvm(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="no usable KVM"):
        accel.detect(_cpuinfo(tmp_path, PLAIN), _kvm(tmp_path), env={"HA_SAN_LAB_ACCEL": "kvm"})


def test_env_garbage_refused(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="kvm or tcg"):
        accel.detect(_cpuinfo(tmp_path, PLAIN), _kvm(tmp_path), env={"HA_SAN_LAB_ACCEL": "hvf"})


def test_machine_args() -> None:
    assert accel.machine_args("tcg") == ["-machine", "q35,accel=tcg", "-cpu", "max"]
    assert accel.machine_args("kvm") == ["-machine", "q35,accel=kvm", "-cpu", "host"]
