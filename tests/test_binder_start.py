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


def binder_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IYO_")}
    env.update(
        IPYTHONDIR=str(tmp_path / "ipython"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        **extra,
    )
    return env


def run_binder_start(env):
    """``binder/start`` around a command that says which stand-in it started and where its state is."""
    command = [
        "bash",
        str(ROOT / "binder" / "start"),
        "sh",
        "-c",
        'echo "PID $IYO_STANDIN_PID"; echo "KEY $IYO_JWT_PUBLIC_KEY"',
    ]
    out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    found = re.search(r"PID (\d+)", out.stdout)
    if found:
        os.kill(int(found.group(1)), signal.SIGTERM)
    return out


def planted(directory: Path) -> Path:
    """What another local user leaves in a directory they can write: an env file that would run
    as whoever sources it, and a signing key. Returns the file the env file would create."""
    directory.mkdir(exist_ok=True)
    ran = directory / "planted-ran"
    (directory / "env").write_text(f"touch {ran}\n")
    (directory / "jwt_key.pem").write_text("planted\n")
    return ran


@pytest.mark.parametrize("mode", [0o777, 0o755])
def test_binder_start_refuses_a_state_directory_others_can_use(tmp_path, mode):
    shared = tmp_path / "shared"
    ran = planted(shared)
    shared.chmod(mode)
    out = run_binder_start(binder_env(tmp_path, IYO_MAGIC_STATE=str(shared)))
    assert out.returncode == 1 and "PID" not in out.stdout
    assert out.stderr.strip() == (
        f"binder/start: refusing the state directory {shared}: it must be a directory of yours with mode 700"
    )
    assert not ran.exists() and not (shared / "serve.log").exists()
    assert (shared / "jwt_key.pem").read_text() == "planted\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a directory away")
def test_binder_start_refuses_a_state_directory_of_another_user(tmp_path):
    theirs = tmp_path / "theirs"
    ran = planted(theirs)
    theirs.chmod(0o700)
    os.chown(theirs, 65534, 65534)
    out = run_binder_start(binder_env(tmp_path, IYO_MAGIC_STATE=str(theirs)))
    assert out.returncode == 1 and "refusing the state directory" in out.stderr and not ran.exists()


def test_binder_start_makes_a_fresh_private_state_directory(tmp_path):
    """Without IYO_MAGIC_STATE: a new directory each time (mktemp -d), never the fixed name another
    user could have made first."""
    ran = planted(tmp_path / "iyo-magic-binder")  # the name it used to take as it found it
    (tmp_path / "iyo-magic-binder").chmod(0o777)
    out = run_binder_start(binder_env(tmp_path, TMPDIR=str(tmp_path)))
    assert out.returncode == 0, out.stderr[-2000:]
    key = Path(re.search(r"KEY (\S+)", out.stdout).group(1))
    state = key.parent
    assert state.parent == tmp_path and state.name.startswith("iyo-magic-binder.")
    assert oct(state.stat().st_mode & 0o777) == "0o700" and not ran.exists()
