"""``iyo-magic demo``: the stand-ins plus the quickstart notebook, in JupyterLab or headless."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .launch import describe, start_standins, stop_on_sigterm, wait_for_interrupt

QUICKSTART = "quickstart.ipynb"


def notebooks_dir() -> Path:
    """The notebooks of a source checkout, else the copy installed with the package."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "notebooks", here.parents[1] / "notebooks"):
        if (candidate / QUICKSTART).exists():
            return candidate
    raise FileNotFoundError(f"{QUICKSTART} not found beside the package")


def run_demo(options) -> int:
    stop = stop_on_sigterm()
    servers = start_standins(options)
    env = servers.environment(with_demo_credentials=options.accounts is None)
    print(describe(servers, env, demo_accounts=options.accounts is None), flush=True)
    try:
        if options.execute:
            return execute_quickstart(env)
        return run_jupyterlab(env, stop, no_browser=options.no_browser)
    finally:
        servers.stop()


def execute_quickstart(env: dict[str, str]) -> int:
    """Run the quickstart in a fresh kernel (nbclient) and print each cell's text output."""
    import nbclient
    import nbformat

    path = notebooks_dir() / QUICKSTART
    notebook = nbformat.read(path, as_version=4)
    os.environ.update(env)  # the kernel inherits this environment
    print(f"\nRunning {path.name} headless:\n", flush=True)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        print(f"the demo failed in a cell: {str(exc).strip().splitlines()[-1]}", file=sys.stderr)
        return 1
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        print(f">>> {cell.source}")
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            if text:
                print(text.rstrip())
    print(f"\nThe demo ran every cell of {path.name}.")
    return 0


def run_jupyterlab(env: dict[str, str], stop, no_browser: bool) -> int:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        print(
            "JupyterLab is not installed: pip install 'iyo_magic[demo]', or run "
            "`iyo-magic demo --execute` to run the demo headless.",
            file=sys.stderr,
        )
        return 2
    folder = notebooks_dir()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={folder}",
        QUICKSTART,
    ]
    if no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI run as root
    # Its own session: Ctrl+C reaches this process only, which then stops JupyterLab cleanly.
    lab = subprocess.Popen(command, env={**os.environ, **env}, cwd=folder, start_new_session=True)
    print("\nJupyterLab is starting on the quickstart notebook; Ctrl+C stops it and the stand-ins.", flush=True)
    try:
        wait_for_interrupt(stop, lab)
    finally:
        if lab.poll() is None:
            lab.terminate()
            try:
                lab.wait(timeout=30)
            except subprocess.TimeoutExpired:
                lab.kill()
    return 0 if lab.returncode in (0, -15) else 1
