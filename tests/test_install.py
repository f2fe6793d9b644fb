"""What an install gives: the magic without the `server` extra, a one-line hint from the CLI where
the extra is missing, and a test run that keeps out of the developer's own IPython directory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from .conftest import ORG, ORG_SECRET

# Run before anything else in a child process: werkzeug and yaml cannot be imported there, as
# after `pip install -e .` without the `server` extra.
WITHOUT_SERVER_EXTRA = "import sys\nfor name in ('werkzeug', 'yaml'):\n    sys.modules[name] = None\n"


def python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_SERVER_EXTRA + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_the_magic_works_without_the_server_extra(iyo_env, tmp_path):
    code = f"""
    from IPython.core.interactiveshell import InteractiveShell
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "iyo_magic")
    ip.run_line_magic("iyo_token", "--aud {ORG}")
    print("JWT for", ip.user_ns["iyo_jwt"].globalid, ip.user_ns["iyo_cockpit"].get("/ays/repository").status_code)
    print("imported:", sorted(n for n, m in sys.modules.items() if m and n.split(".")[0] in ("werkzeug", "yaml")))
    print("stand-in modules:", sorted(n for n in sys.modules if n.startswith("iyo_magic.server")))
    """
    out = python(code, env={**os.environ, "IPYTHONDIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"JWT for {ORG} 200" in out.stdout
    assert "imported: []" in out.stdout and "stand-in modules: []" in out.stdout
    assert ORG_SECRET not in out.stdout + out.stderr


def test_the_cli_says_in_one_line_what_to_install():
    for command in ("serve", "demo"):
        out = python(f"from iyo_magic.server.cli import main\nsys.exit(main([{command!r}]))")
        assert out.returncode == 2, out.stderr
        assert out.stderr.strip() == (
            f"iyo-magic {command}: the stand-ins need werkzeug, yaml: pip install 'iyo_magic[server]'"
        )


def test_tests_use_a_temporary_ipython_directory(ip):
    ipython_dir = Path(os.environ["IPYTHONDIR"]).resolve()
    assert ipython_dir != (Path.home() / ".ipython").resolve() and "iyo-magic-tests-ipython-" in ipython_dir.name
    assert Path(ip.history_manager.hist_file).resolve().is_relative_to(ipython_dir)


def test_without_ipywidgets_the_form_names_its_extra():
    code = """
    sys.modules["ipywidgets"] = None  # as after a bare `pip install iyo_magic`
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell
    import iyo_magic
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "iyo_magic")
    try:
        ip.run_line_magic("iyo_token", "--form")
    except UsageError as error:
        print("magic:", error)
    try:
        iyo_magic.LoginForm
    except ImportError as error:
        print("api:", type(error).__name__, error)
    """
    out = python(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == [
        "magic: %iyo_token --form: the form needs ipywidgets: pip install 'iyo_magic[form]'",
        "api: MissingExtra LoginForm needs ipywidgets: pip install 'iyo_magic[form]'",
    ]


def test_the_public_names_complete_before_their_first_use():
    code = """
    from IPython.core.interactiveshell import InteractiveShell
    import iyo_magic
    print(sorted(set(iyo_magic.__all__) - set(dir(iyo_magic))))
    ip = InteractiveShell.instance()
    ip.Completer.use_jedi = False
    ip.run_cell("import iyo_magic")
    print([match.rpartition(".")[2] for match in ip.complete("iyo_magic.Lo")[1]])  # ".LoginForm" since IPython 8.27
    print("widget imported:", "iyo_magic.notebook.form" in sys.modules)
    """
    out = python(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines() == [
        "[]",
        "['LoginForm', 'LoginRequest', 'LoginResult']",
        "widget imported: False",
    ]
