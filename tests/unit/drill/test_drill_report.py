"""The drill report: JSON keys, timeline on one clock, the PNG plot, and the summary's arithmetic."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

T0 = 1_795_600_000.0  # a wall-clock time in 2026
KEYS = {"fault", "stall_s", "acked", "lost", "split_brain", "double_export", "fenced", "timeline", "targets"}


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    """Undo PNG's per-row filters (none, sub, up, average, Paeth): the pixel rows."""
    stride = width * bpp
    assert len(raw) == (stride + 1) * height
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        assert kind in (0, 1, 2, 3, 4), kind
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return rows


def parse_png(data: bytes) -> tuple[int, int, list[bytes], dict[bytes, bytes]]:
    """Check signature, chunk CRCs, IHDR (8-bit RGB or RGBA), IEND; return width, height, the pixel rows as
    RGB (an alpha channel must be opaque) and the tEXt chunks."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body), tag
        chunks.append((tag, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color, comp, filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, comp, filt, interlace) == (8, 0, 0, 0) and color in (2, 6)
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(body for tag, body in chunks if tag == b"IDAT"))
    rows = _unfilter(raw, width, height, bpp)
    if bpp == 4:
        assert all(r[i] == 255 for r in rows for i in range(3, len(r), 4))  # opaque: a plain white ground
        rows = [bytes(b for i, b in enumerate(r) if i % 4 != 3) for r in rows]
    text = dict(body.split(b"\0", 1) for tag, body in chunks if tag == b"tEXt")
    return width, height, rows, text


def pixels(rows: list[bytes]) -> set[tuple[int, int, int]]:
    return {tuple(r[i : i + 3]) for r in rows for i in range(0, len(r), 3)}  # type: ignore[misc]


def fake_verify(**kw: Any) -> dict[str, Any]:
    v = {
        "acked": 1000,
        "lost": 0,
        "stall_s": 9.3,
        "stall_start_wall": T0 + 1.2,
        "stall_end_wall": T0 + 10.5,
        "stall_start_seq": 120,
        "stall_open": False,
        "first_ack_wall": T0 - 5,
        "first_error_wall": None,
        "errors": 0,
    }
    v.update(kw)
    return v


def write_log(path: Path, stall_from: float = 1.2, stall_to: float = 10.5) -> None:
    """An ack log: 100 acks/s from T0-5 to T0+20, a stall, one write error."""
    lines = ['H {"nonce": "00112233445566aa", "block_size": 4096}']
    t, seq = -5.0, 0
    while t < 20:
        if stall_from < t < stall_to:
            lines.append(f"E {seq} {seq * 4096} {t + 100:.6f} {T0 + 3:.6f} 1800.000 EIO Input/output error")
            t = stall_to
            lat = (stall_to - stall_from) * 1000
        else:
            lat = 2.0 + (seq % 7)
        lines.append(f"A {seq} {seq * 4096} {t + 100:.6f} {T0 + t:.6f} {lat:.3f}")
        seq += 1
        t += 0.01
    lines.append(f'S {{"acked": {seq}}}')
    path.write_text("\n".join(lines) + "\n")


# --- report JSON -------------------------------------------------------------------------------------
def test_report_has_exactly_the_issue_keys(reporter: ModuleType) -> None:
    events = [
        {"t": T0 + 2.0, "node": "srv2", "event": "peer srv1 dead"},
        {"t": T0 + 7.3 + 0.5, "node": "srv2", "event": "drbd r0 Primary"},  # srv2's clock is 0.5 s ahead
        {"t": T0 + 4.0, "node": "srv1", "event": "stonith reset srv1"},
    ]
    rep = reporter.build_report(
        fake_verify(),
        events,
        fault="crash",
        fault_time=T0,
        fenced={"node": "srv1", "t": T0 + 3.9, "by": "srv2"},
        split_brain={"detected": True, "resolved": True, "how": "after-sb-1pri discard-secondary"},
        double_export=False,
        clock_offsets={"srv2": 0.5, "client": -0.25},
    )
    assert set(rep) == KEYS
    assert rep["fault"] == "crash" and rep["acked"] == 1000 and rep["lost"] == 0 and rep["stall_s"] == 9.3
    assert rep["split_brain"] == {
        "detected": True,
        "resolved": True,
        "how": "after-sb-1pri discard-secondary",
    }
    assert rep["double_export"] is False
    assert rep["fenced"] == [{"node": "srv1", "t": T0 + 3.9, "by": "srv2", "t_rel": 3.9}]
    tl = rep["timeline"]
    assert [e["t"] for e in tl] == sorted(e["t"] for e in tl)
    assert set(tl[0]) == {"t", "t_rel", "node", "event"}
    by_event = {e["event"]: e for e in tl}
    assert by_event["fault crash"]["t_rel"] == 0.0 and by_event["fault crash"]["node"] == "drill"
    assert by_event["peer srv1 dead"]["t_rel"] == pytest.approx(1.5)  # srv2 offset applied
    assert by_event["drbd r0 Primary"]["t_rel"] == pytest.approx(7.3)
    assert by_event["stonith reset srv1"]["t_rel"] == pytest.approx(4.0)
    stall_start = next(e for e in tl if e["event"].startswith("last ack before the longest stall"))
    assert stall_start["node"] == "client" and stall_start["t_rel"] == pytest.approx(1.45)  # client -0.25 s
    assert any(e["event"] == "writes resume after 9.30 s" for e in tl)


def test_report_normalises_flags(reporter: ModuleType) -> None:
    rep = reporter.build_report(fake_verify(lost=3), [], fault="partition", fault_time=None, split_brain=True)
    assert rep["split_brain"] == {"detected": True, "resolved": None, "how": None}
    assert rep["fenced"] == [] and rep["lost"] == 3
    # without a fault time the origin is the first ack
    assert rep["timeline"][0]["t_rel"] == pytest.approx(6.2)
    rep = reporter.build_report(fake_verify(), [], fault="switchover", fault_time=T0, split_brain=False)
    assert rep["split_brain"] == {"detected": False, "resolved": None, "how": None}
    two = reporter.norm_fenced([{"node": "srv2", "t": 5.0}, {"node": "srv1", "t": 3.0}])
    assert [f["node"] for f in two] == ["srv1", "srv2"]


E03, E04 = "/dev/etherd/e0.3", "/dev/etherd/e0.4"


def test_report_of_several_targets_sums_them_and_keeps_each(reporter: ModuleType) -> None:
    first = fake_verify(target=E03, acked=600)
    second = fake_verify(
        target=E04,
        acked=400,
        lost=2,
        stall_s=11.5,
        stall_start_wall=T0 + 1.0,
        stall_end_wall=T0 + 12.5,
        stall_start_seq=80,
        first_error_wall=T0 + 2,
        errors=4,
    )
    rep = reporter.build_report([first, second], [], fault="crash", fault_time=T0)
    assert set(rep) == KEYS and (rep["acked"], rep["lost"], rep["stall_s"]) == (1000, 2, 11.5)
    assert rep["targets"] == [
        {
            "target": E03,
            "acked": 600,
            "lost": 0,
            "stall_s": 9.3,
            "stall_open": False,
            "after_boot_acked": None,
        },
        {
            "target": E04,
            "acked": 400,
            "lost": 2,
            "stall_s": 11.5,
            "stall_open": False,
            "after_boot_acked": None,
        },
    ]
    assert set(rep["targets"][0]) == set(reporter.TARGET_KEYS)
    # each writer's stall and errors, named by its target
    client = [e["event"] for e in rep["timeline"] if e["node"] == "client"]
    assert client == [
        f"{E04}: last ack before the longest stall (seq 80)",
        f"{E03}: last ack before the longest stall (seq 120)",
        f"{E04}: first write error (4 in all)",
        f"{E03}: writes resume after 9.30 s",
        f"{E04}: writes resume after 11.50 s",
    ]
    # one writer: a list of one is the same report as the verifier's JSON alone, events unnamed
    one = reporter.build_report([first], [], fault="crash", fault_time=T0)
    assert one == reporter.build_report(first, [], fault="crash", fault_time=T0)
    assert "writes resume after 9.30 s" in [e["event"] for e in one["timeline"]]


def test_the_stall_across_the_clients_boot(reporter: ModuleType) -> None:
    """From the last ack before the power loss to the first ack after the boot, both on the client's clock."""
    killed = fake_verify(last_ack_wall=T0 - 0.02, last_seq=4999, stall_s=0.3, stall_open=False)
    after = [(T0 + 41.98, 4.0), (T0 + 41.99, 3.0)]
    joined = reporter.across_boot(killed, after, [])
    assert joined["stall_s"] == pytest.approx(42.0) and joined["stall_open"] is False
    assert (joined["stall_start_wall"], joined["stall_end_wall"]) == (T0 - 0.02, T0 + 41.98)
    assert joined["stall_start_seq"] == 4999 and joined["after_boot_acked"] == 2
    assert killed["stall_s"] == 0.3  # the verifier's figures are not changed in place
    rep = reporter.build_report(joined, [], fault="client_reboot", fault_time=T0)
    assert rep["stall_s"] == 42.0 and rep["targets"][0]["after_boot_acked"] == 2
    events = [e["event"] for e in rep["timeline"] if e["node"] == "client"]
    assert events == ["last ack before the longest stall (seq 4999)", "writes resume after 42.00 s"]
    # nothing written after the boot: the stall stays open, at least until the last failed write
    failed = reporter.across_boot(killed, [], [T0 + 50.0, T0 + 60.0])
    assert failed["stall_open"] is True and failed["after_boot_acked"] == 0
    assert failed["stall_s"] == pytest.approx(60.02)
    rep = reporter.build_report(failed, [], fault="client_reboot", fault_time=T0)
    assert not [e for e in rep["timeline"] if "resume" in e["event"]]
    # a writer that acknowledged nothing before the loss has no stall to join
    assert reporter.across_boot(fake_verify(last_ack_wall=None), after, [])["stall_s"] == 9.3


def test_report_cli_joins_each_target_with_its_writer_after_the_boot(
    reporter: ModuleType, tmp_path: Path
) -> None:
    for name, target in (("verify.json", E03), ("verify1.json", E04)):
        (tmp_path / name).write_text(json.dumps(fake_verify(target=target, last_ack_wall=T0, last_seq=9)))
    write_log(tmp_path / "ack.log")
    (tmp_path / "resume.log").write_text(
        'H {"nonce": "0011223344556677", "block_size": 4096}\n'
        + "".join(f"A {n} {n * 4096} {5.0 + n:.6f} {T0 + 40 + n / 100:.6f} 3.000\n" for n in range(50))
        + 'S {"acked": 50}\n'
    )
    common = ["report", "--fault", "client_reboot", "--fault-time", str(T0)]
    verifies = ["--verify", str(tmp_path / "verify.json"), "--verify", str(tmp_path / "verify1.json")]
    resumes = ["--resume-log", str(tmp_path / "resume.log"), "--resume-log", str(tmp_path / "missing.log")]
    out = [
        "--log",
        str(tmp_path / "ack.log"),
        "--out",
        str(tmp_path / "r.json"),
        "--png",
        str(tmp_path / "p.png"),
    ]
    assert reporter.main([*common, *verifies, *resumes, *out]) == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert [(t["target"], t["after_boot_acked"]) for t in rep["targets"]] == [(E03, 50), (E04, 0)]
    assert rep["targets"][0]["stall_s"] == 40.0 and rep["targets"][1]["stall_open"] is True
    assert parse_png((tmp_path / "p.png").read_bytes())[0] == 1000
    # one resume log per writer, or none
    assert reporter.main([*common, *verifies, *resumes[:2], *out]) == 2


def test_report_cli_writes_json_and_a_valid_png(reporter: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "verify.json").write_text(json.dumps(fake_verify(errors=1, first_error_wall=T0 + 3)))
    write_log(tmp_path / "ack.log")
    (tmp_path / "srv1.json").write_text(json.dumps([{"t": T0 + 0.1, "node": "srv1", "event": "killed"}]))
    (tmp_path / "srv2.json").write_text(
        json.dumps(
            [
                {"t": T0 + 2.0, "node": "srv2", "event": "peer dead"},
                {"t": T0 + 9.0, "node": "srv2", "event": "vblade"},
            ]
        )
    )
    facts = {
        "fault": "crash",
        "fault_time": T0,
        "fenced": [{"node": "srv1", "t": T0 + 3.9}],
        "double_export": False,
    }
    (tmp_path / "facts.json").write_text(json.dumps(facts))
    rc = reporter.main(
        [
            "report",
            "--verify",
            str(tmp_path / "verify.json"),
            "--log",
            str(tmp_path / "ack.log"),
            "--timeline",
            str(tmp_path / "srv1.json"),
            "--timeline",
            str(tmp_path / "srv2.json"),
            "--facts",
            str(tmp_path / "facts.json"),
            "--split-brain",
            "false",
            "--out",
            str(tmp_path / "report.json"),
            "--png",
            str(tmp_path / "plot.png"),
        ]
    )
    assert rc == 0
    rep = json.loads((tmp_path / "report.json").read_text())
    assert set(rep) == KEYS and rep["fault"] == "crash" and rep["fenced"][0]["node"] == "srv1"
    assert [e["event"] for e in rep["timeline"]][:3] == [
        "fault crash",
        "killed",
        "last ack before the longest stall (seq 120)",
    ]

    width, height, rows, text = parse_png((tmp_path / "plot.png").read_bytes())
    assert width == 1000 and 400 < height < 1000
    assert text[b"Software"].startswith(b"Matplotlib")  # drawn by the plotting library, not by hand
    colours = pixels(rows)
    assert len(colours) > 3  # more than the white background
    assert reporter.BLUE in colours and reporter.RED in colours and reporter.ORANGE in colours
    assert reporter.STALL in colours
    # the fault line: a red column spanning most of the plot height
    red = bytes(reporter.RED)
    cols = [sum(1 for r in rows if r[x * 3 : x * 3 + 3] == red) for x in range(width)]
    assert max(cols) > 300


def test_report_cli_log_scale_and_overrides(reporter: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "verify.json").write_text(json.dumps(fake_verify()))
    write_log(tmp_path / "ack.log")
    rc = reporter.main(
        [
            "report",
            "--verify",
            str(tmp_path / "verify.json"),
            "--log",
            str(tmp_path / "ack.log"),
            "--fault",
            "san_unplug",
            "--fault-time",
            str(T0),
            "--double-export",
            "yes",
            "--fenced",
            "null",
            "--clock-offset",
            "client=0.5",
            "--log-y",
            "--width",
            "640",
            "--out",
            str(tmp_path / "r.json"),
            "--png",
            str(tmp_path / "p.png"),
        ]
    )
    assert rc == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["double_export"] is True and rep["fenced"] == [] and rep["fault"] == "san_unplug"
    width, _height, rows, text = parse_png((tmp_path / "p.png").read_bytes())
    assert width == 640 and len(pixels(rows)) > 3 and text[b"Software"].startswith(b"Matplotlib")
    assert reporter.main(["report", "--verify", str(tmp_path / "verify.json")]) == 2  # no fault named


def test_ack_log_reader_agrees_with_the_verifier(
    reporter: ModuleType, verifier: ModuleType, tmp_path: Path
) -> None:
    write_log(tmp_path / "ack.log")
    acks, errors = reporter.read_ack_log(str(tmp_path / "ack.log"))
    wl = verifier.read_log(str(tmp_path / "ack.log"))
    assert acks == [(a.wall, a.lat_ms) for a in wl.acks]
    assert errors == [e.wall for e in wl.errors]


# --- summary -----------------------------------------------------------------------------------------
def rep(
    fault: str, stall: float, acked: int = 100, lost: int = 0, sb: Any = False, dx: bool = False
) -> dict[str, Any]:
    return {
        "fault": fault,
        "stall_s": stall,
        "acked": acked,
        "lost": lost,
        "split_brain": sb,
        "double_export": dx,
        "fenced": [],
        "timeline": [],
    }


def test_summary_p50_max_and_totals(reporter: ModuleType) -> None:
    reports = [
        rep("crash", 9.3),
        rep("crash", 11.0, acked=200),
        rep("crash", 8.7),
        rep("partition", 11.8, sb={"detected": True, "resolved": True, "how": "discard-secondary"}),
        rep("partition", 12.2, lost=647, sb={"detected": True, "resolved": False}, dx=True),
    ]
    rows = {r["fault"]: r for r in reporter.summarize(reports)}
    assert list(rows) == ["crash", "partition", "all"]
    assert rows["crash"] == {
        "fault": "crash",
        "runs": 3,
        "stall_p50_s": 9.3,
        "stall_max_s": 11.0,
        "acked": 400,
        "lost": 0,
        "split_brain_unresolved": 0,
        "double_exports": 0,
    }
    assert rows["partition"]["stall_p50_s"] == pytest.approx(12.0)  # even count: mean of the middle two
    assert rows["partition"]["lost"] == 647 and rows["partition"]["split_brain_unresolved"] == 1
    assert rows["partition"]["double_exports"] == 1
    assert (
        rows["all"]["runs"] == 5 and rows["all"]["stall_p50_s"] == 11.0 and rows["all"]["stall_max_s"] == 12.2
    )
    assert rows["all"]["lost"] == 647 and rows["all"]["acked"] == 600
    assert reporter.summarize([]) == []


def test_summary_cli_markdown(
    reporter: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = []
    for i, (fault, stall) in enumerate([("crash", 9.0), ("crash", 10.0), ("san_unplug", 11.84)]):
        p = tmp_path / f"r{i}.json"
        p.write_text(json.dumps(rep(fault, stall)))
        paths.append(str(p))
    md, js = tmp_path / "summary.md", tmp_path / "summary.json"
    assert reporter.main(["summary", *paths, "--out", str(md), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert out == md.read_text()
    lines = out.splitlines()
    assert lines[0].startswith("| fault | runs | stall p50 (s) | stall max (s) | acked | lost |")
    assert "| crash | 2 | 9.50 | 10.00 | 200 | 0 | 0 | 0 |" in lines
    assert "| san_unplug | 1 | 11.84 | 11.84 | 100 | 0 | 0 | 0 |" in lines
    assert lines[-1] == "| **all** | 3 | 10.00 | 11.84 | 300 | 0 | 0 | 0 |"
    assert [r["fault"] for r in json.loads(js.read_text())] == ["crash", "san_unplug", "all"]


def test_summary_check_fails_on_loss_split_brain_or_double_export(
    reporter: ModuleType, tmp_path: Path
) -> None:
    cases = {
        "good": (rep("crash", 9.0), rep("partition", 11.0, sb={"detected": True, "resolved": True}), 0),
        "lost": (rep("crash", 9.0), rep("partition", 11.0, lost=647), 1),
        "split": (rep("crash", 9.0), rep("partition", 11.0, sb={"detected": True, "resolved": False}), 1),
        "double": (rep("crash", 9.0), rep("san_unplug", 11.0, dx=True), 1),
    }
    for name, (a, b, want) in cases.items():
        paths = []
        for i, r in enumerate((a, b)):
            p = tmp_path / f"{name}{i}.json"
            p.write_text(json.dumps(r))
            paths.append(str(p))
        assert reporter.main(["summary", "--check", *paths]) == want, name
        assert reporter.main(["summary", *paths]) == 0


def test_plot_lists_only_events_inside_the_plot(reporter: ModuleType) -> None:
    events = [{"t": T0 + i, "node": "srv2", "event": f"event {i}"} for i in range(-100, 200)]
    report = reporter.build_report(fake_verify(), events, fault="crash", fault_time=T0)
    acks = [(T0 - 5 + i * 0.01, 2.0) for i in range(2500)]  # -5 s .. +20 s
    fig = reporter.plot(report, acks, [], T0)
    small = reporter.plot(report, acks[:10], [], T0)
    width, height = (round(v) for v in fig.get_size_inches() * reporter.DPI)
    assert width == 1000
    # at most MAX_PLOT_EVENTS legend lines plus the fault and "more events" lines
    assert height <= reporter.plot_height(reporter.MAX_PLOT_EVENTS, True)
    assert round(small.get_size_inches()[1] * reporter.DPI) < height
    png_w, png_h, _rows, _text = parse_png(reporter.png(fig))
    assert (png_w, png_h) == (width, height)
    # the plot spans -5.5 .. +20.5 s: 26 of the 300 events and the client's stall start and resume
    legend = [t.get_text() for t in fig.texts if t.get_text()[:1].isdigit()]
    assert len(legend) == 1 + 28 + 1 and legend[0].startswith("0  +0.00 s  fault crash")
    assert legend[1].startswith("1  -5.00 s  srv2: event -5") and legend[-2].startswith("28  +20.00 s")
    assert legend[-1] == "274 more events outside the plot: see the report JSON"
    # more events inside the range than MAX_PLOT_EVENTS: the first ones are listed, the rest counted
    dense = [{"t": T0 + i / 10, "node": "srv2", "event": f"event {i}"} for i in range(100)]
    fig = reporter.plot(
        reporter.build_report(fake_verify(), dense, fault="crash", fault_time=T0), acks, [], T0
    )
    assert round(fig.get_size_inches()[1] * reporter.DPI) == reporter.plot_height(
        reporter.MAX_PLOT_EVENTS, True
    )
    legend = [t.get_text() for t in fig.texts if t.get_text()[:1].isdigit()]
    assert len(legend) == 1 + reporter.MAX_PLOT_EVENTS + 1 and legend[-1].startswith("62 more events")


def took_over(fault: str, stall: float, survivor: str, event: str, victim: str = "srv1") -> dict[str, Any]:
    """A report whose survivor logged EVENT after the fault, with the victim's own events around it."""
    r = rep(fault, stall)
    r["fenced"] = [{"node": victim, "t": 3.0, "by": survivor}]
    events = [
        (-5.0, survivor, "mach_down(default): info: Taking over resource group x"),
        (0.0, "drill", f"fault {fault}"),
        (4.0, survivor, event),
        (9.0, victim, "ip-request-resp(default): received ip-request-resp x"),
    ]
    r["timeline"] = [{"t": t, "t_rel": t, "node": node, "event": text} for t, node, text in events]
    return r


MACH_DOWN = "mach_down(default): info: Taking over resource group ha_san-aoe-export::r0"
HOME = "ip-request-resp(default): received ip-request-resp ha_san-aoe-export::r0 OK yes"


def test_takeover_path_reads_the_survivors_first_takeover_after_the_fault(reporter: ModuleType) -> None:
    assert reporter.takeover_path(took_over("crash", 5.0, "srv2", MACH_DOWN)) == "mach_down"
    assert reporter.takeover_path(took_over("crash", 5.0, "srv2", HOME)) == "home"
    # a planned move logs neither; the survivor's line before the fault and the fenced victim's after it
    # (it rejoined and asked for its group) do not count
    assert reporter.takeover_path(took_over("switchover", 3.0, "srv2", "Acquiring resource group")) is None
    assert reporter.takeover_path(rep("crash", 5.0)) is None


def test_summary_splits_a_fault_by_takeover_path_only_when_it_took_several(
    reporter: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = [
        took_over("crash", 4.3, "srv2", MACH_DOWN),
        took_over("crash", 5.7, "srv1", HOME, victim="srv2"),
        took_over("crash", 4.6, "srv2", MACH_DOWN),
        took_over("crash", 5.1, "srv1", HOME, victim="srv2"),
        took_over("partition", 4.3, "srv2", MACH_DOWN),
    ]
    rows = {r["fault"]: r for r in reporter.summarize(reports)}
    assert list(rows) == ["crash", "crash (home)", "crash (mach_down)", "partition", "all"]
    assert rows["crash"]["runs"] == 4 and rows["crash"]["stall_p50_s"] == pytest.approx(4.85)
    assert rows["crash (home)"]["runs"] == 2 and rows["crash (home)"]["stall_p50_s"] == pytest.approx(5.4)
    assert rows["crash (mach_down)"]["stall_max_s"] == 4.6
    assert rows["all"]["runs"] == 5 and rows["all"]["acked"] == 500  # the path rows are not counted again
    paths = []
    for i, r in enumerate(reports):
        p = tmp_path / f"r{i}.json"
        p.write_text(json.dumps(r))
        paths.append(str(p))
    assert reporter.main(["summary", "--check", *paths]) == 0
    assert "| crash (mach_down) | 2 | 4.45 | 4.60 | 200 | 0 | 0 | 0 |" in capsys.readouterr().out.splitlines()
