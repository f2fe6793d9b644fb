"""CI: the wheel installed bare (``pip install iyo_magic``) in a fresh environment: the magic logs
in by client credentials against the stand-ins (their IYO_* variables are set), without the
form's or the stand-ins' packages installed, let alone imported."""

from __future__ import annotations

import importlib.resources
import importlib.util
import sys

from IPython.core.interactiveshell import InteractiveShell

for optional in ("ipywidgets", "werkzeug", "yaml"):
    assert importlib.util.find_spec(optional) is None, f"{optional} is installed: not a bare install"

ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", "iyo_magic")
ip.run_line_magic("iyo_token", "--aud cockpit-demo")
jwt, cockpit = ip.user_ns["iyo_jwt"], ip.user_ns["iyo_cockpit"]
assert jwt.globalid == "cockpit-demo" and jwt.verified, jwt.claims
assert cockpit.get("/ays/repository").status_code == 200
assert not [name for name in sys.modules if name.startswith(("iyo_magic.server", "iyo_magic.notebook.form"))]

package = importlib.resources.files("iyo_magic")
assert (package / "py.typed").is_file() and (package / "notebooks" / "quickstart.ipynb").is_file()
print("bare install: %load_ext + %iyo_token by client credentials work; no widget or stand-in module loaded")
