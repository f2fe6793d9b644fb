"""The benchmark script completes (a smoke check; its figures are read by people, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def test_benchmarks_complete():
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (
        "| load cost" in out.stdout
        and "| cold first JWT" in out.stdout
        and "| refresh under load, 64 threads" in out.stdout
    )
