"""Root pytest hooks: when notebooks are collected (``--nbval-lax``), start the stand-ins first.

nbval starts each notebook's kernel before test fixtures run, and kernels inherit this process's
environment: so the stand-ins start at configure time and their ``IYO_*`` variables are set here.
"""

from __future__ import annotations

import os

_servers = None


def pytest_configure(config):
    global _servers
    if not (getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False)):
        return
    from iyo_magic.server import StandIns
    from iyo_magic.server.cli import demo_environment

    _servers = StandIns().start()
    os.environ.update(demo_environment(_servers, with_demo_credentials=True))


def pytest_unconfigure(config):
    if _servers is not None:
        _servers.stop()
