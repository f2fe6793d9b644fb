"""Token values as a notebook shows them (masked, not picklable) and the package surface."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import iyo_magic

from .conftest import ORG, ORG_SECRET, ApiFront


def test_values_are_strings_with_masked_displays(standins):
    got = ApiFront(standins, None).run(ORG, ORG_SECRET)
    for token in (got["access_token"], got["jwt"]):
        raw = token.reveal()
        assert type(raw) is str and len(raw) > 20 and isinstance(token, str) and token == raw
        assert f"bearer {token}" == "bearer " + raw == "bearer {}".format(token)  # noqa: UP032 - works as a string
        for shown in (repr(token), token._repr_html_(), str(token), "%s" % token):  # noqa: UP031
            assert raw not in shown and "masked" in shown
        with pytest.raises(AttributeError):
            token.scope = ("admin",)
        with pytest.raises(TypeError, match="not picklable"):
            pickle.dumps(token)


def test_public_names_are_exactly_all():
    public = {
        name
        for name in set(dir(iyo_magic)) | set(iyo_magic._LAZY)
        if not name.startswith("_") and not isinstance(getattr(iyo_magic, name), types.ModuleType)
    }
    public -= {"annotations", "TYPE_CHECKING", "Any"}
    assert sorted(public | {"__version__"}) == sorted(iyo_magic.__all__)


def test_load_ext_does_not_import_widgets():
    code = (
        "from IPython.core.interactiveshell import InteractiveShell; import sys;"
        "InteractiveShell.instance().run_line_magic('load_ext', 'iyo_magic');"
        "print('ipywidgets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_unload_removes_the_magic(ip):
    assert ip.find_line_magic("iyo_token") is not None
    ip.extension_manager.unload_extension("iyo_magic")
    assert ip.find_line_magic("iyo_token") is None


def test_readme_links_resolve_where_the_package_page_shows_it():
    """The package index shows README without the repository around it: links must be absolute."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    assert targets and not [t for t in targets if not t.startswith(("https://", "#"))]


def test_the_cockpit_client_loads_its_tables_on_its_first_call_not_at_login():
    code = (
        "import sys; import iyo_magic.cockpit.session;"
        "print(sorted(m for m in ('iyo_magic.cockpit.results', 'iyo_magic.cockpit.timeline') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
