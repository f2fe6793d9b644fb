"""The option spec (`iyo_magic.notebook.options`): the magic's options, both front ends' labels and the
form's fields come from it, and an option given on the line reaches the same login, and the
same field, as the form's keyword."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from iyo_magic import LoginForm
from iyo_magic.errors import worded
from iyo_magic.notebook import profiles
from iyo_magic.notebook.form import FIELD_LABELS
from iyo_magic.notebook.login_path import for_shell
from iyo_magic.notebook.magic import FLAG_LABELS
from iyo_magic.notebook.options import FORM_OPTIONS, OPTIONS
from iyo_magic.oauth.grants import grant

from .conftest import ORG
from .test_magic import form_values

PACKAGE = Path(__file__).resolve().parents[1] / "iyo_magic"
#: ``{setting:NAME}`` in a message, as written in a plain string or an f-string (``{{setting:NAME}}``).
NAMED = re.compile(r"\{\{?setting:([a-z_]+)\}\}?")


def settings_named_in(paths) -> set[str]:
    return {name for path in paths for name in NAMED.findall(path.read_text())}


def test_every_setting_named_in_a_message_has_a_label_in_both_front_ends():
    named = settings_named_in(sorted(PACKAGE.rglob("*.py")))
    assert {"client_id", "listen", "want_jwt", "timeout"} <= named  # the reader finds them
    assert sorted(named - set(FLAG_LABELS)) == [] and sorted(named - set(FIELD_LABELS)) == []
    for name in named:  # and each front end words it with its label
        assert worded(f"{{setting:{name}}}", FLAG_LABELS) == FLAG_LABELS[name] != name
        assert worded(f"{{setting:{name}}}", FIELD_LABELS) == FIELD_LABELS[name] != name


def test_the_reader_finds_settings_in_plain_and_f_strings(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('a = "give {setting:client_id}"\nb = f"{{setting:wait}} must be {x}"\nc = "{setting:NAME}"\n')
    assert settings_named_in([sample]) == {"client_id", "wait"}


def test_the_form_takes_exactly_the_form_options_as_keywords():
    parameters = list(inspect.signature(LoginForm).parameters.values())
    assert sorted(p.name for p in parameters) == sorted(option.setting for option in FORM_OPTIONS)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)


def test_a_profile_may_set_exactly_the_options_marked_for_one():
    assert {option.setting for option in OPTIONS if option.profile} == set(profiles.KNOWN)


def line_value(option):
    """A value to give ``option`` on the line, and what its form field then shows."""
    if option.kind in ("on", "off"):
        return "", option.kind == "on"
    if option.choices:
        return option.choices[-1], grant(option.choices[-1]).name
    typed = {"int": "77", "float": "33"}.get(option.kind, f"http://127.0.0.1:{len(option.setting)}/{option.setting}")
    return typed, typed


FIELDS = [o for o in FORM_OPTIONS if o.field is not None and o.flags and o.field.widget != "wanted"]


@pytest.mark.parametrize("option", FIELDS, ids=[o.setting for o in FIELDS])
def test_each_option_on_the_line_fills_its_field_of_the_form(ip, iyo_env, option):
    typed, shown = line_value(option)
    values = form_values(ip, f"--form {option.flags[-1]} {typed}".rstrip())
    assert values[option.field.description] == shown


def test_both_front_ends_make_the_same_login_of_the_same_options(ip, iyo_env):
    ip.run_line_magic("iyo_token", f"-o by_line --aud {ORG} --scope organization:owner --validity 300 --no-refresh")
    form = LoginForm(prefix="by_form", aud=ORG, scope="organization:owner", validity=300, refreshable=False)
    form.button.click()
    form.wait()
    results = for_shell(ip).variables.results
    assert "by_form_jwt" in ip.user_ns, form.message.value
    by_line, by_form = results["by_line"].request, results["by_form"].request
    # The form's Redirect URI field always shows the default one; the line gives it to the code flow only.
    assert by_line.redirect_uri == "" and by_form.redirect_uri
    assert by_line == by_form.replace(redirect_uri="")
    assert by_form.validity == 300 and not by_form.refreshable and by_form.scopes == ("organization:owner",)
