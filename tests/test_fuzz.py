"""Fuzzing (hypothesis): the magic's option parsing, the paste-back parser, and malformed token
answers and JWT claims through the magic (under ``%xmode Verbose``) and the form."""

from __future__ import annotations

import base64
import io
import json
from contextlib import redirect_stdout

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from iyo_magic.browser.listener import parse_pasted
from iyo_magic.errors import ConfigError

from .conftest import ORG_SECRET, LoopbackApp

SECRET = "Zq8-fuzz-secret-3xV"
OPTIONS = [
    "-f",
    "--flow",
    "--client-id",
    "--secret-env",
    "--secret-var",
    "--scope",
    "--aud",
    "--validity",
    "--no-refresh",
    "--no-jwt",
    "--jwt-only",
    "--redirect-uri",
    "--listen",
    "--paste",
    "--no-browser",
    "--wait",
    "--base-url",
    "--cockpit",
    "-o",
    "--prefix",
    "--status",
    "--clear",
    "--fresh",
    "--client-secret",
    "--secret",
    "--password",
    "-x",
    "--",
]
VALUES = st.one_of(
    st.sampled_from(
        [
            "cc",
            "code",
            "client_credentials",
            "org1",
            "0",
            "-5",
            "1e9",
            "http://127.0.0.1:9",
            "https://iyo.invalid",
            "ftp://x",
            "",
            "'",
            '"',
            "a b",
            "=",
            "user:memberof:x,",
            "ö",
        ]
    ),
    st.text(min_size=0, max_size=12),
)
# The ways a secret gets onto a line by mistake: alone, after an unknown option, as KEY=value,
# or as the value of an option (only --client-id, --scope and --aud values are shown by design).
SECRET_WORDS = st.sampled_from(
    [
        SECRET,
        f"IYO_CLIENT_SECRET={SECRET}",
        f"--client-secret={SECRET}",
        f"--client-secret {SECRET}",
        f"--password {SECRET}",
    ]
)
SHOWN_BY_DESIGN = {"--client-id", "--scope", "--aud"}
LINES = (
    st.lists(st.one_of(st.sampled_from(OPTIONS), VALUES), max_size=8)
    .flatmap(lambda words: st.tuples(st.just(words), SECRET_WORDS, st.integers(0, len(words))))
    .filter(lambda sample: sample[2] == 0 or sample[0][sample[2] - 1] not in SHOWN_BY_DESIGN)
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(LINES)
def test_magic_options_only_succeed_or_raise_usage_error(ip, monkeypatch, sample):
    monkeypatch.setenv("IYO_BASE_URL", "http://127.0.0.1:9")  # any login attempt fails at once
    monkeypatch.setenv("IYO_CLIENT_ID", "org1")
    words, secret_word, position = sample
    line = " ".join([*words[:position], secret_word, *words[position:]])
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            ip.run_line_magic("iyo_token", line)
    except UsageError as exc:
        assert SECRET not in str(exc)
    assert SECRET not in out.getvalue()


def _no_code_message() -> str:
    try:
        parse_pasted("nothing")
    except ConfigError as exc:
        return str(exc)
    raise AssertionError("no error for a paste without a code")


NO_CODE = _no_code_message()


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(lambda q: f"http://127.0.0.1:8976/callback?{q}", st.text(max_size=80)),
        st.builds(lambda c, s: f"code={c}&state={s}", st.text(max_size=30), st.text(max_size=30)),
    )
)
def test_paste_parser_only_answers_or_raises_config_error(text):
    try:
        answer = parse_pasted(text)
    except ConfigError as exc:
        assert str(exc) == NO_CODE  # the same words whatever was pasted: it is never repeated
        return
    assert set(answer) <= {"code", "state", "error"} and ("code" in answer or "error" in answer)


# -- malformed answers: token JSON and JWT claims of any shape, through the magic and the form ------
ACCESS_TOKEN = "tok-Fuzz-AccessToken-41"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=5,
)
TOKENS = st.fixed_dictionaries(
    {"access_token": st.just(ACCESS_TOKEN)}, optional={"expires_in": JSON, "scope": JSON, "info": JSON}
)
CLAIMS = st.fixed_dictionaries(
    {"iss": st.just("itsyouonline")},
    optional={key: JSON for key in ("exp", "aud", "scope", "username", "globalid", "azp", "refresh_token")},
)


class ChangingIyo:
    """An ItsYou.online whose answers each example sets."""

    token: dict = {}
    claims: dict = {}

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        if Request(environ).path.endswith("/access_token"):
            response = Response(json.dumps(self.token), content_type="application/json")
        else:
            parts = [{"alg": "ES384", "typ": "JWT"}, self.claims]
            encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=") for p in parts]
            response = Response(".".join([*encoded, "c2ln"]), content_type="application/jwt")
        return response(environ, start_response)


@pytest.fixture(scope="module")
def changing_iyo():
    iyo = ChangingIyo()
    server = LoopbackApp(iyo)
    iyo.url = server.url
    yield iyo
    server.close()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=TOKENS, claims=CLAIMS)
def test_malformed_answers_through_the_magic_under_xmode_verbose(ip, iyo_env, changing_iyo, token, claims):
    changing_iyo.token, changing_iyo.claims = token, claims
    ip.run_line_magic("config", "IyoMagics.jwt_public_key = 'none'")
    ip.run_line_magic("xmode", "Verbose")
    try:
        with capture_output() as captured:
            result = ip.run_cell(f"%iyo_token --fresh --base-url {changing_iyo.url}")
    finally:
        ip.run_line_magic("xmode", "Context")
    shown = captured.stdout + captured.stderr
    assert result.error_in_exec is None or isinstance(result.error_in_exec, UsageError), shown
    assert "Traceback" not in shown and len(shown.strip().splitlines()) == 1, shown
    assert ACCESS_TOKEN not in shown and ORG_SECRET not in shown and "eyJ" not in shown


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=TOKENS, claims=CLAIMS)
def test_malformed_answers_through_the_form(ip, iyo_env, changing_iyo, token, claims):
    from iyo_magic import LoginForm

    changing_iyo.token, changing_iyo.claims = token, claims
    ip.run_line_magic("config", "IyoMagics.jwt_public_key = 'none'")
    form = LoginForm(base_url=changing_iyo.url)
    form.button.click()
    form.wait()
    shown = form.message.value + form.card.value + form.progress.value
    assert ("iyo-error" in form.message.value) != ("iyo-success" in form.message.value), shown
    assert "\n" not in form.message.value and "unexpected error" not in shown, shown
    assert ACCESS_TOKEN not in shown and ORG_SECRET not in shown and "eyJ" not in shown


# -- the Cockpit: path arguments with dots and encodings, raw paths, answers of any shape --------
DOTTY = st.one_of(
    st.sampled_from(["..", ".", "", "%2e%2E", "%252e", "%2e.", "..%2F", "%25252E%2e", "a..", "..."]),
    st.text(alphabet=".%2eE5fF/\\ac", max_size=10),
)
SEGMENTS = st.sampled_from(
    ["..", ".", "%2e%2e", "%2E", "%252e%252e", ".%2e", "ays", "repository", "x", "%2f", "%5c", ""]
)
RAW_PATHS = st.builds(
    lambda lead, segments: lead + "/".join(segments), st.sampled_from(["", "/"]), st.lists(SEGMENTS, max_size=6)
)


def cockpit_cell(ip, code: str):
    """``code`` run under %xmode Verbose: its error, and everything it showed."""
    ip.run_line_magic("xmode", "Verbose")
    try:
        with capture_output() as captured:
            result = ip.run_cell(code)
    finally:
        ip.run_line_magic("xmode", "Context")
    shown = captured.stdout + captured.stderr + "".join(str(o.data) for o in captured.outputs)
    for secret in (ORG_SECRET, ip.user_ns["iyo_jwt"].reveal(), "eyJ"):
        assert secret not in shown, shown
    return result.error_in_exec, shown


@pytest.fixture()
def fuzz_repository(ip, iyo_env):
    ip.run_line_magic("iyo_token", f"--aud {iyo_env.organization}")
    cockpit = ip.user_ns["iyo_cockpit"]
    cockpit.create_repository("fuzz", "https://git.example.org/fuzz")
    run = cockpit.create_run("fuzz")
    yield run["key"]
    cockpit.delete_repository("fuzz")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(DOTTY)
def test_path_arguments_with_dots_are_one_line_and_never_reach_another_endpoint(ip, fuzz_repository, value):
    from iyo_magic import CockpitError
    from iyo_magic.cockpit.paths import moves_the_path

    ip.user_ns["value"] = value
    error, shown = cockpit_cell(ip, 'iyo_cockpit.delete_run("fuzz", value)')
    assert isinstance(error, CockpitError), shown
    assert "\n" not in str(error)
    if moves_the_path(value):
        assert str(error).startswith(f"delete_run: runid may not be {value!r}")
    cockpit = ip.user_ns["iyo_cockpit"]
    assert [run["key"] for run in cockpit.list_runs("fuzz")] == [fuzz_repository]  # nothing else was deleted


class Outside:
    """The Cockpit under /api and, on the same host, another application that records its visitors."""

    def __init__(self, cockpit_app):
        self.cockpit_app, self.visits = cockpit_app, []

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        if request.path.startswith("/api/") or request.path == "/api":
            return self.cockpit_app(environ, start_response)
        self.visits.append(request.path)
        return Response("another application")(environ, start_response)


@pytest.fixture(scope="module")
def outside(standins):
    host = Outside(standins.cockpit)
    server = LoopbackApp(host)
    host.url = server.url
    yield host
    server.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(RAW_PATHS)
def test_raw_paths_with_dots_stay_in_the_cockpit_or_are_one_line(ip, iyo_env, outside, path):
    from iyo_magic import CockpitError

    ip.run_line_magic("iyo_token", f"--aud {iyo_env.organization} --cockpit {outside.url}/api")
    ip.user_ns["path"] = path
    for code in ("iyo_cockpit.get(path)", f"iyo_cockpit.get({outside.url + '/api/'!r} + path)"):
        error, shown = cockpit_cell(ip, code)
        assert error is None or (isinstance(error, CockpitError) and "\n" not in str(error)), shown
    assert outside.visits == []


COCKPIT_FIELDS = ("key", "name", "role", "state", "epoch", "logs", "steps", "jobs", "data", "actions", "producers")
COCKPIT_OBJECT = st.fixed_dictionaries({}, optional={field: JSON for field in COCKPIT_FIELDS})
COCKPIT_ANSWERS = st.one_of(COCKPIT_OBJECT, st.lists(st.one_of(COCKPIT_OBJECT, JSON), max_size=3), JSON)


class ChangingCockpit:
    """A Cockpit whose every answer each example sets."""

    answer: object = {}

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Response

        return Response(json.dumps(self.answer), content_type="application/json")(environ, start_response)


@pytest.fixture(scope="module")
def changing_cockpit():
    cockpit = ChangingCockpit()
    server = LoopbackApp(cockpit)
    cockpit.url = server.url
    yield cockpit
    server.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(COCKPIT_ANSWERS)
def test_cockpit_answers_of_any_shape_display_under_xmode_verbose(ip, iyo_env, changing_cockpit, answer):
    changing_cockpit.answer = answer
    ip.run_line_magic("iyo_token", f"--aud {iyo_env.organization} --cockpit {changing_cockpit.url}/api")
    for call in ('get_job("r", "j")', 'get_run("r", "k")', 'get_service_by_name("r", "node", "n")', 'list_jobs("r")'):
        error, shown = cockpit_cell(ip, f"display(iyo_cockpit.{call})")
        assert error is None and "Traceback" not in shown and "Error" not in shown, shown


PROFILE_KEYS = st.sampled_from(
    ["client_id", "base_url", "cockpit_url", "secret_env", "scope", "aud", "flow", "redirect_uri", "timeout",
     "allowed_secret_envs", "remember", "validity", "nonsense"]
)  # fmt: skip
PROFILE_VALUES = st.one_of(
    VALUES,
    st.integers(-5, 10**12),
    st.booleans(),
    st.lists(VALUES, max_size=3),
    st.sampled_from(
        ["AWS_SECRET_ACCESS_KEY", "IYO_CLIENT_SECRET", "IYO_OTHER", "HOME", "http://[::1", "https://x.invalid"]
    ),
)
PROFILES = st.one_of(
    st.dictionaries(PROFILE_KEYS, PROFILE_VALUES, max_size=5),
    st.text(max_size=60),  # not TOML at all, or a table of odd shape
)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a TOML basic string or integer


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(profile=PROFILES)
def test_profiles_of_any_content_are_one_line_under_xmode_verbose(ip, tmp_path, monkeypatch, profile):
    """A profiles.toml of any content (someone else may write it): the magic logs in or says one
    line, and neither the secret nor a traceback shows."""
    monkeypatch.setenv("IYO_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("IYO_BASE_URL", "http://127.0.0.1:9")  # any login attempt fails at once
    folder = tmp_path / "fuzz-config"
    folder.mkdir(exist_ok=True)
    monkeypatch.setenv("IYO_CONFIG_DIR", str(folder))
    if isinstance(profile, dict):
        body = "[p]\n" + "".join(f"{key} = {_toml_value(value)}\n" for key, value in profile.items())
    else:
        body = profile
    (folder / "profiles.toml").write_text(body)
    ip.run_line_magic("xmode", "Verbose")
    try:
        with capture_output() as captured:
            result = ip.run_cell("%iyo_token -p p --fresh")
    finally:
        ip.run_line_magic("xmode", "Context")
    shown = captured.stdout + captured.stderr
    assert result.error_in_exec is None or isinstance(result.error_in_exec, UsageError), shown
    assert "Traceback" not in shown and len(shown.strip().splitlines()) <= 2, shown
    assert SECRET not in shown
