"""The login form without a browser: values set, click(), the card, errors, cancel, paste."""

from __future__ import annotations

import socket
import time

import pytest
from IPython.utils.capture import capture_output
from ipywidgets import widget_serialization

from iyo_magic import LoginForm
from iyo_magic.server.demo_user import DemoUser

from .conftest import ALICE, ORG, ORG_SECRET, free_port


@pytest.fixture()
def form(ip, iyo_env):
    return LoginForm()


def until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_prefilled_from_the_configuration(form, iyo_env):
    assert form.client_id.value == ORG
    assert form.base_url.value == iyo_env.iyo_url and form.cockpit_url.value == iyo_env.cockpit_url
    assert form.secret.value == "" and form.button.description == "Get token and JWT"


def test_success_stores_variables_and_shows_the_card(form, ip):
    form.secret.value = ORG_SECRET
    form.aud.value = ORG
    form.button.click()
    assert form.secret.value == ""  # cleared at once, before any request
    form.wait()
    assert ip.user_ns["iyo_jwt"].globalid == ORG and "iyo_cockpit" in ip.user_ns
    card = form.card.value
    for words in (f"organization <strong>{ORG}</strong>", "verified", "refreshable", "iyo_cockpit", "Audience"):
        assert words in card
    assert ip.user_ns["iyo_jwt"].reveal() not in card + form.message.value
    assert "iyo: cockpit-demo" in form.message.value and not form.button.disabled
    with capture_output() as status:
        ip.run_line_magic("iyo_token", "--status")  # the magic sees what the form stored
    text = status.outputs[0].data["text/plain"]
    assert "iyo_jwt: <JWT (masked)" in text and "iyo_auth: renewed 0 times" in text, text


def test_live_countdown(form):
    form.secret.value = ORG_SECRET
    form.validity.value = "30"
    form.button.click()
    form.wait()
    first = form.card.value
    until(lambda: form.card.value != first, timeout=5)


def test_wrong_secret_shows_one_line_and_keeps_the_rest(form, ip):
    form.secret.value = "wrong-secret"
    form.scope.value = "organization:owner"
    form.button.click()
    form.wait()
    assert "client id or secret rejected" in form.message.value and "wrong-secret" not in form.message.value
    assert form.scope.value == "organization:owner" and form.client_id.value == ORG
    assert form.secret.value == "" and "iyo_jwt" not in ip.user_ns and not form.button.disabled


@pytest.mark.parametrize(
    "field,value,error",
    [
        ("validity", "soon", "validity must be a whole number"),
        ("client_id", "", "no client id"),
        ("base_url", "http://iyo.example", "plain http"),
    ],
)
def test_bad_input_is_a_clear_error_without_a_request(form, iyo_env, field, value, error):
    before = sum(iyo_env.iyo.hits.values())
    form.secret.value = ORG_SECRET
    getattr(form, field).value = value
    form.button.click()
    assert error in form.message.value and form.worker is None
    assert sum(iyo_env.iyo.hits.values()) == before


def test_missing_secret(form, monkeypatch):
    monkeypatch.delenv("IYO_CLIENT_SECRET")
    form._show_secret_source()
    assert form.secret_note.value == ""
    form.button.click()
    assert "enter the client secret" in form.message.value and form.worker is None


def test_empty_secret_field_takes_the_environment_and_says_so(form, ip):
    assert "taken from $IYO_CLIENT_SECRET in the kernel's environment" in form.secret_note.value
    form.button.click()
    form.wait()
    assert ip.user_ns["iyo_jwt"].globalid == ORG, form.message.value
    form.secret.value = "typed"
    assert form.secret_note.value == ""  # a typed secret wins, and the note goes


def code_form(ip, code_standins, monkeypatch, **extra):
    for name, value in code_standins.environment().items():
        monkeypatch.setenv(name, value)
    port = free_port()
    form = LoginForm(
        flow="authorization_code",
        scope=f"user:memberof:{ORG}",
        client_id=ORG,
        redirect_uri=f"http://127.0.0.1:{port}/callback",
        **{"no_browser": True, **extra},  # the test plays the user who clicks the link
    )
    form.secret.value = ORG_SECRET
    return form, port


def test_the_form_opens_the_browser_as_the_magic_does(ip, code_standins, monkeypatch):
    from iyo_magic.server.demo_user import play_user

    user = play_user("alice")
    ip.run_line_magic("config", "IyoMagics.browser = 'iyo-demo-user'")
    form, _ = code_form(ip, code_standins, monkeypatch, no_browser=False)
    form.button.click()
    form.wait()
    assert ip.user_ns["iyo_jwt"].username == "alice" and "Signed in" in user.page


def login_link(form) -> str:
    until(lambda: "href=" in form.link.value)
    return form.link.value.split('href="')[1].split('"')[0].replace("&amp;", "&")


def test_authorization_code_with_the_listener(ip, code_standins, monkeypatch):
    form, _ = code_form(ip, code_standins, monkeypatch)
    form.button.click()
    browser = DemoUser("alice", ALICE["password"])
    browser.visit(login_link(form))
    form.wait()
    assert "Signed in" in browser.page
    assert "user <strong>alice</strong>" in form.card.value and ip.user_ns["iyo_jwt"].username == "alice"
    assert "href=" not in form.link.value  # the link (and its state) is withdrawn


def test_authorization_code_by_pasting(ip, code_standins, monkeypatch):
    form, _ = code_form(ip, code_standins, monkeypatch, paste=True)
    form.button.click()
    browser = DemoUser("alice", ALICE["password"], follow=False)
    browser.visit(login_link(form))
    assert form.paste_box.layout.display == "flex"
    form.pasted.value = browser.landed_on
    form.paste_button.click()
    assert form.pasted.value == ""
    form.wait()
    assert ip.user_ns["iyo_jwt"].username == "alice" and form.paste_box.layout.display == "none"


def test_cancel_while_waiting_for_the_browser(ip, code_standins, monkeypatch):
    form, port = code_form(ip, code_standins, monkeypatch)
    form.button.click()
    login_link(form)
    assert form.busy and form.cancel.layout.display == ""
    form.cancel.click()
    assert "cancelled" in form.message.value and not form.button.disabled
    form.wait(5)
    assert not form.worker.is_alive() and "iyo_jwt" not in ip.user_ns
    with socket.socket() as s:  # the listener let go of its port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_magic_form_is_prefilled_from_its_flags(ip, iyo_env):
    with capture_output() as captured:
        ip.run_line_magic("iyo_token", f"--form --aud {ORG} --scope organization:owner --validity 60 -o ops")
    model_id = captured.outputs[0].data["application/vnd.jupyter.widget-view+json"]["model_id"]
    box = widget_serialization["from_json"](f"IPY_MODEL_{model_id}", None)  # public on every ipywidgets 8
    values = {child.description: child.value for child in box.children if hasattr(child, "value")}
    assert values["Audience"] == ORG and values["JWT scope"] == "organization:owner"
    assert values["Validity (s)"] == "60" and values["Client id"] == ORG


def test_secret_from_a_named_notebook_variable(ip, iyo_env, monkeypatch):
    monkeypatch.delenv("IYO_CLIENT_SECRET")
    ip.user_ns["team_secret"] = ORG_SECRET
    form = LoginForm(secret_var="team_secret")
    assert "taken from the notebook variable team_secret" in form.secret_note.value
    form.button.click()
    form.wait()
    assert ip.user_ns["iyo_jwt"].globalid == ORG


def test_a_misspelt_keyword_is_refused_in_one_line(ip, iyo_env):
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'scopes'") as refused:
        LoginForm(scopes="user:memberof:x")
    assert "\n" not in str(refused.value)
