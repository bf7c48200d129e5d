"""playbooks/files/benchmark/ha_san_fio.py: the job file, fio's JSON read back, the table and the report.

tests/unit/fixtures/fio holds fio's own JSON, captured from fio 3.33 (Debian 12's package) running this
module's job file (``ha_san_fio.py run ... --runtime 3 --size-mib 64``) on a file under /var/tmp
(file_var_tmp.json) and on a loop device over it (loop_device.json), on the development machine (2 vCPUs,
December 2026). The figures are that machine's; the tests read their shape, not their speed.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]
BENCH = REPO / "playbooks" / "files" / "benchmark"
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "fio"


def load(name: str, folder: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def fio() -> ModuleType:
    return load("ha_san_fio", BENCH)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_the_figures_of_a_captured_run(fio: ModuleType) -> None:
    data = fio.load_fio_json(fixture("loop_device.json"))
    assert [j["jobname"] for j in data["jobs"]] == ["lat4k", "iops4k", "seqwrite", "seqread"]
    f = fio.figures(data)
    lat = next(j for j in data["jobs"] if j["jobname"] == "lat4k")["write"]["clat_ns"]["percentile"]
    assert f.lat_p50_us == round(lat["50.000000"] / 1000, 1)
    assert f.lat_p99_us == round(lat["99.000000"] / 1000, 1)
    assert f.lat_p50_us <= f.lat_p99_us
    iops = next(j for j in data["jobs"] if j["jobname"] == "iops4k")["write"]["iops"]
    assert f.iops_4k == round(iops, 1)
    seqread = next(j for j in data["jobs"] if j["jobname"] == "seqread")
    assert f.seq_read_mbs == round(seqread["read"]["bw_bytes"] / 1e6, 1) and f.seq_read_mbs > 0
    assert f.seq_write_mbs is not None and f.seq_write_mbs > 0


def test_the_captured_run_used_the_job_file_it_claims(fio: ModuleType) -> None:
    """The capture's global options are this module's job file: the pattern the target check knows, direct."""
    opts = json.loads(fixture("loop_device.json"))["global options"]
    block = load("ha_san_block", REPO / "playbooks" / "files" / "drill")
    assert opts["buffer_pattern"] == "0x" + block.BENCH_PATTERN.hex()
    assert (opts["direct"], opts["ioengine"], opts["scramble_buffers"], opts["time_based"]) == (
        "1",
        "libaio",
        "0",
        "1",
    )
    text = fio.jobfile("/dev/loop0", 3, 64 << 20, 4)
    for key, value in opts.items():
        assert f"{key}={value}\n" in text, key


def test_notes_before_the_json_are_skipped_and_garbage_fails_loudly(fio: ModuleType) -> None:
    text = "note: both iodepth >= 1 and synchronous I/O engine are selected\n" + fixture("file_var_tmp.json")
    assert fio.figures(fio.load_fio_json(text)).iops_4k is not None
    with pytest.raises(fio.FioError, match="no JSON in fio's output: 'fio: failed"):
        fio.load_fio_json("fio: failed to open /dev/etherd/e0.3")
    with pytest.raises(fio.FioError, match="does not parse"):
        fio.load_fio_json('{"jobs": [')


def test_a_failed_job_is_an_error_with_its_errno(fio: ModuleType) -> None:
    data = fio.load_fio_json(fixture("file_var_tmp.json"))
    data["jobs"][1]["error"] = 5
    with pytest.raises(fio.FioError, match=r"fio jobs failed \(errno\): \{'iops4k': 5\}"):
        fio.figures(data)


def test_a_missing_job_leaves_its_figures_empty(fio: ModuleType) -> None:
    data = fio.load_fio_json(fixture("file_var_tmp.json"))
    data["jobs"] = [j for j in data["jobs"] if j["jobname"] != "seqread"]
    f = fio.figures(data)
    assert f.seq_read_mbs is None and f.seq_write_mbs is not None


def test_the_job_file_writes_only_the_pattern_with_direct_io(fio: ModuleType) -> None:
    text = fio.jobfile("/dev/drbd0", 12, 256 << 20, 8)
    assert "filename=/dev/drbd0\n" in text and "runtime=12\n" in text and f"size={256 << 20}\n" in text
    assert text.count("stonewall") == 4 and "direct=1\n" in text and "ioengine=libaio\n" in text
    assert "[lat4k]\nstonewall\nrw=randwrite\nbs=4k\niodepth=1\n" in text
    assert "[iops4k]\nstonewall\nrw=randwrite\nbs=4k\niodepth=32\n" in text
    assert "[seqwrite]\nstonewall\nrw=write\nbs=1m\niodepth=8\n" in text
    assert "[seqread]\nstonewall\nrw=read\nbs=1m\niodepth=8\n" in text


def test_the_region_is_at_most_the_target_in_whole_mib(fio: ModuleType) -> None:
    assert fio.region(1024, 256 * (1 << 20) - 4096) == 255 * (1 << 20)
    assert fio.region(64, 1 << 40) == 64 << 20


def test_the_table_and_the_ratios(fio: ModuleType) -> None:
    drbd = fio.Figures(400.0, 900.0, 2000.0, 100.0, 120.0)
    aoe = fio.Figures(1200.0, 3000.0, 500.0, 80.0, 90.0)
    raw = fio.Figures(100.0, 300.0, 8000.0, 200.0, 240.0)
    r = fio.ratios({"raw": raw, "drbd": drbd, "aoe": aoe})
    assert r["aoe/drbd"] == {
        "lat_p50_us": 3.0,
        "lat_p99_us": 3.33,
        "iops_4k": 0.25,
        "seq_write_mbs": 0.8,
        "seq_read_mbs": 0.75,
    }
    assert r["drbd/raw"]["seq_write_mbs"] == 0.5
    text = fio.table({"drbd": drbd, "aoe": aoe}, {"drbd": "primary", "aoe": "client"})
    assert text.splitlines()[0] == "| figure | drbd (primary) | aoe (client) | aoe/drbd |"
    assert "| 1 MiB sequential write (MB/s) | 100 | 80 | 0.80 |" in text
    assert "drbd/raw" not in text


def test_report_writes_json_and_prints_the_table(fio: ModuleType, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "benchmark.json"
    rc = fio.main(
        [
            "report",
            "--result",
            f"drbd=primary:{FIXTURES / 'file_var_tmp.json'}",
            "--result",
            f"aoe=client:{FIXTURES / 'loop_device.json'}",
            "--skipped",
            '{"raw": "no benchmark_scratch_disk given"}',
            "--settings",
            '{"runtime_s": 3}',
            "--run",
            "r1",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| figure | drbd (primary) | aoe (client) | aoe/drbd |" in printed
    assert "raw: not measured (no benchmark_scratch_disk given)" in printed
    report = json.loads(out.read_text())
    assert set(report) == {"run", "time", "settings", "results", "ratios", "skipped", "table"}
    assert (
        report["results"]["aoe"]["target"] == "/dev/loop0" and report["results"]["drbd"]["host"] == "primary"
    )
    assert set(report["ratios"]) == {"aoe/drbd"}
    assert report["skipped"] == {"raw": "no benchmark_scratch_disk given"}


def test_bad_result_arguments_are_refused(fio: ModuleType) -> None:
    with pytest.raises(SystemExit):
        fio.main(["report", "--result", "ssd=primary:/x.json"])


@pytest.mark.skipif(not shutil.which("fio"), reason="fio is not installed here")
def test_run_writes_fio_json_and_the_pattern_the_target_check_knows(tmp_path: Path) -> None:
    """The real thing, when fio is here: a short run on a file, then the drill's target check on it."""
    target = Path("/var/tmp") / f"ha_san_fio_{tmp_path.name}.img"
    with open(target, "wb") as fh:
        fh.truncate(8 << 20)
    try:
        out = tmp_path / "run.json"
        argv = [sys.executable, str(BENCH / "ha_san_fio.py"), "run", str(target), "--runtime", "1"]
        res = subprocess.run(
            [*argv, "--size-mib", "4", "--out", str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0 and "Invalid argument" in res.stderr:
            pytest.skip(f"this file system refuses O_DIRECT: {res.stderr}")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["iops_4k"] > 0
        check = subprocess.run(
            [
                sys.executable,
                str(REPO / "playbooks/files/drill/ha_san_target.py"),
                str(target),
                "--purpose",
                "drill",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert json.loads(check.stdout)["content"] == "benchmark", check.stdout
    finally:
        target.unlink()
