"""Shared fixtures: real stand-in servers on loopback, a clean environment, an IPython shell."""

from __future__ import annotations

import os

import pytest
from IPython.core.interactiveshell import InteractiveShell

from iyo_magic.server import StandIns
from iyo_magic.server.accounts import DEMO, DEMO_ORGANIZATION

ORG = DEMO_ORGANIZATION
ORG_SECRET = DEMO["organizations"][0]["api_keys"][0]["secret"]
BROWSER_ONLY_SECRET = DEMO["organizations"][0]["api_keys"][1]["secret"]
ALICE = DEMO["users"][0]
BOB = DEMO["users"][1]
ALICE_APP, ALICE_SECRET = ALICE["api_keys"][0]["applicationid"], ALICE["api_keys"][0]["secret"]
BOB_APP, BOB_SECRET = BOB["api_keys"][0]["applicationid"], BOB["api_keys"][0]["secret"]
ALL_SECRETS = [ORG_SECRET, BROWSER_ONLY_SECRET, ALICE_SECRET, BOB_SECRET, ALICE["password"], BOB["password"]]


@pytest.fixture(autouse=True)
def clean_iyo_environment(monkeypatch):
    """No test sees the developer's IYO_* variables."""
    for name in list(os.environ):
        if name.startswith("IYO_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def standins():
    with StandIns() as servers:
        yield servers


@pytest.fixture()
def iyo_env(standins, monkeypatch):
    """The environment `iyo-magic serve` tells users to export, plus the org's credentials."""
    for name, value in standins.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("IYO_CLIENT_ID", ORG)
    monkeypatch.setenv("IYO_CLIENT_SECRET", ORG_SECRET)
    return standins


@pytest.fixture()
def ip():
    """An IPython shell with the extension freshly loaded and an empty namespace."""
    shell = InteractiveShell.instance()
    shell.reset(new_session=False)
    shell.extension_manager.load_extension("iyo_magic")
    from iyo_magic.magic import IyoMagics

    shell.register_magics(IyoMagics)  # a fresh instance: no result cached from another test
    yield shell
    shell.reset(new_session=False)
