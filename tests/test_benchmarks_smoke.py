"""The benchmark script completes (a smoke check; its figures are read by people, not asserted)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
#: Where the hub tests' setup installs configurable-http-proxy (hub_class.py looks there too).
CHP_BIN = Path("/tmp/chp-tools/node_modules/.bin")


def test_benchmarks_complete():
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (
        "| load cost" in out.stdout
        and "| cold first JWT" in out.stdout
        and "| refresh under load, 64 threads" in out.stdout
    )


@pytest.mark.hub
def test_hub_class_benchmark_completes():
    """benchmarks/hub_class.py with 3 users, one round each way, on a real hub."""
    script = SCRIPT.with_name("hub_class.py")
    proxy = shutil.which("configurable-http-proxy") or (CHP_BIN / "configurable-http-proxy").exists()
    if not (proxy and importlib.util.find_spec("jupyterhub") and importlib.util.find_spec("oauthenticator")):
        if os.environ.get("CI"):
            pytest.fail("jupyterhub, oauthenticator and configurable-http-proxy required when CI is set")
        pytest.skip("needs jupyterhub, oauthenticator and configurable-http-proxy (npm)")
    command = [sys.executable, str(script), "--users", "3", "--rounds", "1"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    for way in ("broker, round 1 (first)", "hub login, round 1"):
        assert re.search(rf"\| {re.escape(way)}: logins completed +\| 3 of 3 \|", out.stdout), out.stdout
    for process in ("broker: hub", "broker: broker", "hub login: hub", "hub login: stand-in"):
        assert re.search(rf"\| {process} CPU s per round; peak RSS MB +\| [\d.]+; [\d.]+ \|", out.stdout), out.stdout


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
