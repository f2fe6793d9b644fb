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


def test_jobs_at_scale_benchmark_completes():
    """benchmarks/jobs_at_scale.py at 100 and 1,000 jobs: every figure, and a saved notebook that
    does not grow with the list."""
    out = subprocess.run(
        [sys.executable, str(SCRIPT.with_name("jobs_at_scale.py")), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")[1:] for line in out.stdout.splitlines() if "|" in line}
    for figure in ("list_jobs() / requests + .json()", "to_frame() / pandas.DataFrame(raw list)",
                   "table's HTML display (_repr_html_)", "stand-in's own time per request"):  # fmt: skip
        assert figure in rows, out.stdout
    notebook = rows["saved notebook with the display"]
    assert notebook[0] == notebook[1], out.stdout  # the same kB at 100 and at 1,000 jobs
