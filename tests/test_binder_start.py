"""`binder/start` as Binder runs it: the stand-ins start in the background, the `IYO_*` variables
are exported, and the command it wraps (Jupyter, on Binder) logs in with the magic alone.

The notebooks themselves run under nbval (README's test command) and in the leak audit."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KERNEL_SIDE = """
import os
from IPython.core.interactiveshell import InteractiveShell
print("PID", os.environ["IYO_STANDIN_PID"], flush=True)
ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", "iyo_magic")
ip.run_line_magic("iyo_token", "--aud cockpit-demo")
print("Cockpit answers", ip.user_ns["iyo_cockpit"].get("/ays/repository").status_code)
"""


def test_binder_start_prepares_everything_a_notebook_needs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IYO_")}
    env.update(
        IYO_MAGIC_STATE=str(tmp_path / "state"),
        IPYTHONDIR=str(tmp_path / "ipython"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",  # where `iyo-magic` is
    )
    command = ["bash", str(ROOT / "binder" / "start"), sys.executable, "-c", KERNEL_SIDE]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    found = re.search(r"PID (\d+)", out.stdout)
    if found:
        os.kill(int(found.group(1)), signal.SIGTERM)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "iyo: cockpit-demo · scope organization:owner" in out.stdout and "Cockpit answers 200" in out.stdout
    exported = (tmp_path / "state" / "env").read_text()
    assert all(f"export {name}=" in exported for name in ("IYO_BASE_URL", "IYO_COCKPIT_URL", "IYO_CLIENT_SECRET"))


@pytest.mark.kernel
def test_training_runs_headless_under_binder_start(tmp_path):
    """What a Binder repository's own CI does: execute the notebooks under ``binder/start`` with
    nobody at a browser. The demo user plays the browser, since no visitor is there to click."""
    import nbformat

    env = {k: v for k, v in os.environ.items() if not k.startswith(("IYO_", "JUPYTER"))}
    env.update(
        IYO_MAGIC_STATE=str(tmp_path / "state"),
        IPYTHONDIR=str(tmp_path / "ipython"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    executed = tmp_path / "training.ipynb"
    command = ["bash", str(ROOT / "binder" / "start"), sys.executable, "-m", "jupyter", "nbconvert", "--execute"]
    command += ["--to", "notebook", f"--output={executed}", str(ROOT / "notebooks" / "training.ipynb")]
    command += ["--ExecutePreprocessor.timeout=60"]
    run = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT, start_new_session=True)
    try:
        _, errors = run.communicate(timeout=180)
    finally:
        os.killpg(run.pid, signal.SIGTERM)  # the stand-ins binder/start left running
    assert run.returncode == 0, errors[-3000:]
    cells = nbformat.read(executed, 4).cells
    outputs = [o for c in cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert any(o.get("text", "").startswith("iyo: alice · scope user:memberof:cockpit-demo") for o in outputs)
