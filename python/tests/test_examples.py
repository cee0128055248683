"""The quickstart example runs and writes what it says."""

import subprocess
import sys

from conftest import ROOT


def test_quickstart_runs(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / "quickstart.py"), str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "regions (complete: True)" in p.stdout
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 200
    assert (tmp_path / "slice.png").stat().st_size > 1000
