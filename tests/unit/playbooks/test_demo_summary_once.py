"""`make demo` (scripts/demo.sh) prints the drill's summary table once (issue 26 item 8: it printed it twice,
once from ha_san_report.py summary and once more from the file it had written).

demo.sh runs as written, with ansible-playbook replaced by a stand-in first on its PATH (through $VENV, as
lib-drill.sh builds the PATH): site.yml does nothing, and the drill writes the report a real drill would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

STAND_IN = r"""#!/usr/bin/env bash
# ansible-playbook for the test: the drill writes a passing report into drill-reports/<drill_run>/.
run=
for a in "$@"; do case $a in drill_run=*) run=${a#drill_run=};; esac; done
if [ -n "$run" ]; then
  mkdir -p "drill-reports/$run"
  cat > "drill-reports/$run/report.json" <<'EOF'
REPORT
EOF
  echo "drill $run: the playbook's own one-line figures"
fi
exit 0
"""

REPORT = {
    "fault": "crash",
    "stall_s": 3.97,
    "acked": 1200,
    "lost": 0,
    "split_brain": False,
    "double_export": False,
    "fenced": [{"node": "primary", "t": 1.0}],
}


@pytest.fixture
def venv() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ha_san_demo_"))
    (path / "bin").mkdir()
    stand_in = path / "bin" / "ansible-playbook"
    stand_in.write_text(STAND_IN.replace("REPORT", json.dumps(REPORT)))
    stand_in.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_make_demo_prints_the_summary_table_once(venv: Path) -> None:
    before = (
        set((REPO / "drill-reports").glob("*-crash-demo")) if (REPO / "drill-reports").is_dir() else set()
    )
    res = subprocess.run(
        ["bash", str(REPO / "scripts" / "demo.sh")],
        capture_output=True,
        text=True,
        env={**os.environ, "VENV": str(venv)},
        cwd=REPO,
        check=False,
        timeout=120,
    )
    made = set((REPO / "drill-reports").glob("*-crash-demo")) - before
    try:
        assert res.returncode == 0, res.stdout + res.stderr
        header = [line for line in res.stdout.splitlines() if re.match(r"^\|\s*fault\s*\|", line)]
        assert len(header) == 1, res.stdout
        assert res.stdout.count("| crash |") == 1, res.stdout
        assert "report: drill-reports/" in res.stdout
    finally:
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)
