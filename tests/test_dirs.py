"""One state directory and one config directory, with one folder name on every platform, and
the variables that move them; the stand-in's signing key, kept in a folder of another name up
to 0.2, is moved into the state directory, and still signs."""

from __future__ import annotations

import stat
import sys

import pytest

from iyo_magic import LoginRequest, dirs, login
from iyo_magic.remember.store import RememberedJwts
from iyo_magic.server.keys import SigningKey, default_state_dir, state_dir_or_default

from .conftest import ORG, ORG_SECRET

PLATFORM_VARIABLES = ("IYO_STATE_DIR", "IYO_CONFIG_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "LOCALAPPDATA", "APPDATA")


@pytest.fixture()
def home(monkeypatch, tmp_path):
    """A home of the test's own, with none of the variables that move the directories."""
    for name in PLATFORM_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))  # Path.home() on Windows
    return tmp_path


@pytest.mark.parametrize(
    "platform, state, config",
    [
        ("linux", ".local/state/iyo_magic", ".config/iyo_magic"),
        ("darwin", "Library/Application Support/iyo_magic", ".config/iyo_magic"),
        ("win32", "AppData/Local/iyo_magic", "AppData/Roaming/iyo_magic"),
    ],
)
def test_each_platform_has_one_folder_name(home, monkeypatch, platform, state, config):
    monkeypatch.setattr(sys, "platform", platform)
    assert dirs.state_directory() == home / state
    assert dirs.config_directory() == home / config


@pytest.mark.parametrize(
    "platform, variable, directory",
    [
        ("linux", "XDG_STATE_HOME", dirs.state_directory),
        ("linux", "XDG_CONFIG_HOME", dirs.config_directory),
        ("win32", "LOCALAPPDATA", dirs.state_directory),
        ("win32", "APPDATA", dirs.config_directory),
    ],
)
def test_the_platforms_variables_are_honoured(home, monkeypatch, platform, variable, directory):
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setenv(variable, str(home / "elsewhere"))
    assert directory() == home / "elsewhere" / "iyo_magic"


def test_iyo_state_dir_and_iyo_config_dir_move_them_as_they_are(home, monkeypatch):
    monkeypatch.setenv("IYO_STATE_DIR", "~/my-state")
    monkeypatch.setenv("IYO_CONFIG_DIR", str(home / "my-config"))
    assert dirs.state_directory() == home / "my-state"  # no folder added: the variable names it
    assert dirs.config_directory() == home / "my-config"


def test_remember_the_stand_ins_and_profiles_use_them(home, monkeypatch):
    from iyo_magic.notebook.profiles import profiles_file

    monkeypatch.setattr(sys, "platform", "linux")
    assert RememberedJwts().directory == default_state_dir() == home / ".local" / "state" / "iyo_magic"
    assert profiles_file() == home / ".config" / "iyo_magic" / "profiles.toml"


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_signing_key_in_the_former_folder_is_moved_and_still_signs(home, monkeypatch):
    from iyo_magic.server.cli import _parser
    from iyo_magic.server.launch import start_standins

    monkeypatch.setattr(sys, "platform", "linux")
    former = home / ".local" / "state" / "iyo-magic"
    kept = SigningKey.load_or_create(former)  # where 0.2's `iyo-magic serve` left it
    servers = start_standins(_parser().parse_args(["serve", "--port", "0", "--cockpit-port", "0"]))
    try:
        request = LoginRequest(client_id=ORG, base_url=servers.iyo_url, public_key=kept.public_pem)
        assert login(request, ORG_SECRET).jwt.verified  # signed by the key kept before
    finally:
        servers.stop()
    state = home / ".local" / "state" / "iyo_magic"
    assert servers.state_dir == state and not former.exists()
    assert mode(state) == 0o700 and mode(state / "jwt_key.pem") == 0o600
    assert RememberedJwts().directory == state  # --remember accepts the directory it now shares


def test_the_former_folder_is_left_alone_when_a_key_is_in_place_or_a_state_dir_is_given(home, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    former = home / ".local" / "state" / "iyo-magic"
    SigningKey.load_or_create(former)
    given = home / "given"
    assert state_dir_or_default(given) == given and not given.exists() and (former / "jwt_key.pem").exists()
    current = SigningKey.load_or_create(default_state_dir())  # one this version made
    assert SigningKey.load_or_create(state_dir_or_default(None)).public_pem == current.public_pem
    assert (former / "jwt_key.pem").exists()
