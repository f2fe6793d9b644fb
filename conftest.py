"""Root pytest hooks, run before any test module or notebook kernel starts.

* IPython's directory is a temporary one: test cells holding the demo secrets must not land in
  the developer's own ``~/.ipython`` history database.
* When notebooks are collected (``--nbval-lax``), the stand-ins start first: nbval starts each
  notebook's kernel before test fixtures run, and kernels inherit this process's environment.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_servers = None


def pytest_configure(config):
    global _servers
    ipython_dir = tempfile.mkdtemp(prefix="iyo-magic-tests-ipython-")
    os.environ["IPYTHONDIR"] = ipython_dir
    # Registered before any shell exists, so it runs after IPython's own exit handler has
    # closed the history database.
    atexit.register(shutil.rmtree, ipython_dir, ignore_errors=True)
    if not (getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False)):
        return
    from iyo_magic.server import StandIns

    _servers = StandIns().start()
    os.environ.update(_servers.environment(with_demo_credentials=True))


def pytest_unconfigure(config):
    if _servers is not None:
        _servers.stop()
