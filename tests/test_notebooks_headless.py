"""Every notebook, executed as `jupyter nbconvert --execute` does (widget state stored) inside the
environment `binder/start` prepares: it runs, and the result holds no secret, password or JWT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from iyo_magic.server.accounts import DEMO

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.")
SECRETS = [u["password"] for u in DEMO["users"]] + [
    k["secret"] for owner in DEMO["organizations"] + DEMO["users"] for k in owner["api_keys"]
]


def test_every_notebook_runs_under_binder_start_and_leaks_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IYO_")}
    env["IYO_MAGIC_STATE"] = str(tmp_path / "state")
    script = (
        "import os, sys; print('PID', os.environ['IYO_STANDIN_PID'], flush=True);"
        "from nbconvert.nbconvertapp import main; sys.argv = ['nbconvert'] + sys.argv[1:]; main()"
    )
    command = [
        "bash",
        str(ROOT / "binder" / "start"),
        sys.executable,
        "-c",
        script,
        "--execute",
        "--to",
        "notebook",
        "--output-dir",
        str(tmp_path),
        *map(str, NOTEBOOKS),
    ]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    pid = int(re.search(r"PID (\d+)", out.stdout).group(1))
    os.kill(pid, signal.SIGTERM)
    assert out.returncode == 0, out.stderr[-3000:]
    for notebook in NOTEBOOKS:
        text = (tmp_path / notebook.name).read_text()
        found = [s[:5] + "…" for s in SECRETS if s in text]
        assert not found and not JWT.search(text), f"{notebook.name} holds {found or 'a JWT'}"
    assert "application/vnd.jupyter.widget-state+json" in (tmp_path / "form.ipynb").read_text()
